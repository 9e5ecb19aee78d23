"""What any CLI user expects: --version/-V, -h, shell completion, the choices in help, one
boolean flag style, a config file with `onboard config show`, and help that is instant."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

import agent
from agent.cli import app
from agent.config import Settings
from tests.helpers import onboard

ROOT = Path(__file__).resolve().parent.parent
# pydantic_settings (agent.config): ~0.15 s of CPU, needed by commands, not by their help
HEAVY = ("playwright", "ccxt", "pyrage", "tomlkit", "keyring", "starlette", "pydantic_settings")


def test_version_long_and_short(tmp_path: Path) -> None:
    for flag in ("--version", "-V"):
        proc = onboard(tmp_path, flag)
        assert (proc.returncode, proc.stdout, proc.stderr) == (
            0,
            f"onboard {agent.__version__}\n",
            "",
        )


def test_dash_h_is_help_everywhere(tmp_path: Path) -> None:
    for args in ([], ["run"], ["vault", "export"], ["config", "show"]):
        short = onboard(tmp_path, *args, "-h", env={"COLUMNS": "120"})
        long = onboard(tmp_path, *args, "--help", env={"COLUMNS": "120"})
        assert short.returncode == 0 and short.stdout == long.stdout and "Usage" in short.stdout


def test_help_lists_the_choices(tmp_path: Path) -> None:
    env = {"COLUMNS": "250"}
    assert "<global|eea|us>" in onboard(tmp_path, "run", "-h", env=env).stdout
    assert "okx-toml:NAME" in onboard(tmp_path, "run", "-h", env=env).stdout
    assert "<json|env|ccxt|okx-toml>" in onboard(tmp_path, "vault", "export", "-h", env=env).stdout
    assert "[vault|keyring|okx-toml:PREFIX]" in onboard(tmp_path, "batch", "-h", env=env).stdout


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["vault", "export", "--help"], ["completion", "bash"]]
)
def test_help_stays_instant(args: list[str]) -> None:
    """No browser driver, exchange client, age or TOML writer is imported to print help."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agent", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {m.group(1).split(".")[0] for m in re.finditer(r"\|\s+(\S+)$", proc.stderr, re.M)}
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))


def test_one_boolean_flag_style() -> None:
    """A switch that is off unless given is `--name` alone (no `--no-name` that does nothing);
    `--name/--no-name` only where the default is decided at run time."""
    tri_state = {("run", "verify"), ("batch", "verify"), ("demo", "headless")}
    seen = []

    def walk(cmd: Any, path: str) -> None:  # typer's own click classes: duck-typed
        for p in cmd.params:
            if getattr(p, "is_flag", False) and getattr(p, "secondary_opts", None):
                seen.append((path, p.name))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, name if not path else f"{path} {name}")

    walk(typer.main.get_command(app), "")
    assert set(seen) == tri_state


def test_completion_bash_completes_in_bash(tmp_path: Path) -> None:
    """The printed script, sourced by a real bash, completes commands and the --format choices."""
    if not shutil.which("bash"):
        pytest.skip("no bash")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "onboard"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m agent "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}

    def complete(words: str) -> list[str]:
        script = (
            "source <(onboard completion bash)\n"
            f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
            '_onboard_completion onboard\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=60)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert "export" in complete("onboard vault ex")
    assert complete("onboard vault export --format ''") == ["json", "env", "ccxt", "okx-toml"]
    assert complete("onboard run --site e") == ["eea"]
    assert complete("onboard completion ''") == ["bash", "zsh", "fish"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("zsh", "compdef _onboard_completion onboard"), ("fish", "complete --command onboard")],
)
def test_completion_zsh_and_fish_print_a_script(tmp_path: Path, shell: str, marker: str) -> None:
    proc = onboard(tmp_path, "completion", shell)
    assert proc.returncode == 0 and marker in proc.stdout and "_ONBOARD_COMPLETE" in proc.stdout


# -- the config file -----------------------------------------------------------------------------
def show(tmp_path: Path, env: dict[str, str]) -> dict[str, tuple[str, str]]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ONBOARD_", "XDG_CONFIG"))}
    full.update(env)
    proc = subprocess.run([sys.executable, "-m", "agent", "config", "show", "--json"],
                          capture_output=True, text=True, env=full, cwd=ROOT, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {r["setting"]: (r["value"], r["source"]) for r in json.loads(proc.stdout)}


def test_config_file_then_environment_then_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg" / "onboard" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(
        f'home = "{tmp_path}/data"\nokx_config = "~/trading/okx.toml"\n'
        'recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]\n'
    )
    # found in $XDG_CONFIG_HOME/onboard/config.toml
    rows = show(tmp_path, {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path)})
    assert rows["home"] == (f"{tmp_path}/data", f"home in {cfg}")
    assert rows["okx_config"] == (f"{tmp_path}/trading/okx.toml", f"okx_config in {cfg}")
    assert rows["recipients"][1] == f"recipients in {cfg}"
    assert rows["vault"] == (f"{tmp_path}/data/vault", "from home")
    # ONBOARD_* over the file; $ONBOARD_CONFIG names the file
    moved = tmp_path / "elsewhere.toml"
    moved.write_text(cfg.read_text())
    rows = show(
        tmp_path,
        {
            "ONBOARD_CONFIG": str(moved),
            "ONBOARD_HOME": str(tmp_path / "env-home"),
            "HOME": str(tmp_path),
        },
    )
    assert rows["home"] == (f"{tmp_path}/env-home", "ONBOARD_HOME")
    assert rows["okx_config"][1] == f"okx_config in {moved}"
    # nothing set: defaults
    rows = show(tmp_path, {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert rows["okx_config"] == (f"{tmp_path}/.okx/config.toml", "default")
    assert rows["recipients"] == ("(none: a local identity)", "default")


def test_settings_read_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file reaches every command: Settings() is where they all read it."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'okx_config = "{tmp_path}/okx.toml"\n')
    monkeypatch.setenv("ONBOARD_CONFIG", str(cfg))
    monkeypatch.delenv("ONBOARD_OKX_CONFIG", raising=False)
    assert Settings(home=tmp_path / "h").okx_config == tmp_path / "okx.toml"
    monkeypatch.setenv("ONBOARD_OKX_CONFIG", str(tmp_path / "env.toml"))
    assert Settings(home=tmp_path / "h").okx_config == tmp_path / "env.toml"
