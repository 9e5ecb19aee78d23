"""The production import path never imports the replica, and the replica's commands say in one
line what to install when its web server (the `replica` extra) is absent."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from agent.cli import app

PRODUCTION = [
    "agent.cli",
    "agent.cli_batch",
    "agent.cli_vault",
    "agent.cli_verify",
    "agent.cli_subkeys",
    "agent.run",
    "agent.batch",
    "agent.batch_rest",
    "agent.subkeys",
    "agent.roster",
    "agent.custody.verify",
    "agent.custody.vault",
    "agent.exchanges.okx",
    "agent.report",
]


def test_production_modules_do_not_import_the_replica() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {PRODUCTION!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('replica', 'starlette', 'uvicorn', 'segno'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("command", [["demo"], ["replica", "--list-scenarios"]])
def test_replica_commands_without_the_extra(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed
    res = CliRunner().invoke(app, command)
    assert res.exit_code == 1
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines == [
        f"error: onboard {command[0]} needs the replica extra (uvicorn missing): "
        "pip install 'onboard[replica]' (make demo installs it)"
    ]
