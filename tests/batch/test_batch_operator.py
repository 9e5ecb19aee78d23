"""The operator types a code for a named entry at the batch terminal; the live table; tiling."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pyotp
import pytest
from rich.console import Console

from agent.batch import Board, View, window_tile
from agent.cli_batch import table
from tests.helpers import CLIENT, login_profiles, onboard

from .conftest import issued, write_roster


@pytest.mark.scenarios("totp-only")
def test_operator_types_a_code_for_a_named_entry(replica, tmp_path):
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2"])
    roster = write_roster(
        tmp_path / "r.yaml",
        [
            {"id": "acct-6", "label": "OP-6", "ips": ["203.0.113.6"], "profile": "p1",
             "code_prompt": ["totp"]},
            {"id": "acct-7", "label": "OP-7", "ips": ["203.0.113.7"], "profile": "p2",
             "code_prompt": ["totp"]},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "160"}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "batch", str(roster), "--concurrency", "2", "--headless",
         "--pace", "0", "--auto-submit", "--operator-codes", "--json"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    err: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            lines.put(line)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    secret = replica.world.accounts[CLIENT].totp_secret
    asked: set[str] = set()
    deadline = time.monotonic() + 90
    assert proc.stdin is not None
    while asked != {"acct-6", "acct-7"} and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        for eid in ("acct-6", "acct-7"):
            if line.startswith(f"{eid}: Authenticator code") and f"type `{eid} <code>`" in line:
                asked.add(eid)
                if eid == "acct-6":
                    proc.stdin.write("acct-9 123456\n")  # no such entry: said, nothing sent
                proc.stdin.write(f"{eid} {pyotp.TOTP(secret).now()}\n")
                proc.stdin.flush()
    # Not communicate(): it would read stderr too, racing the pump for the lines we check.
    proc.stdin.close()
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    proc.wait(timeout=90)
    pumping.join(timeout=30)
    stderr = "".join(err)
    assert proc.returncode == 0, stderr
    assert "no entry 'acct-9' in this batch" in stderr
    assert "code sent to acct-6" in stderr and "code sent to acct-7" in stderr, stderr
    assert {e["outcome"] for e in json.loads(stdout)["entries"]} == {"ok"}
    assert sorted(k["label"] for k in issued(replica)) == ["OP-6", "OP-7"]


def test_live_table_shows_who_waits_for_what():
    board = Board()
    board.add(View("acct-6", "A6", "main", state="verified", outcome="ok", note="done"))
    board.add(View("acct-7", "A7", "icg-mm-sub1", state="verifying-human",
                   waiting="SMS code", started=time.monotonic() - 65))  # fmt: skip
    con = Console(record=True, width=160, color_system=None)
    con.print(table(board, "onboard batch"))
    text = con.export_text()
    assert "waiting: SMS code" in text
    assert "1:05" in text
    assert "waiting for a human — acct-7: SMS code" in text
    assert board.waiting_for_human() == ["acct-7: SMS code"]


def test_windows_tile_the_screen():
    assert window_tile(0, 4, (1920, 1080)) == ["--window-position=0,0", "--window-size=960,540"]
    assert window_tile(3, 4, (1920, 1080)) == [
        "--window-position=960,540", "--window-size=960,540",
    ]  # fmt: skip
    assert window_tile(2, 3, (1920, 1080))[0] == "--window-position=0,540"
    assert window_tile(0, 1, (1920, 1080)) == ["--window-position=0,0", "--window-size=1920,1080"]


@pytest.mark.scenarios("totp-only")
def test_entry_timeout_stops_one_entry_not_the_others(replica, tmp_path, totp_env):
    """A 3 s budget for one entry (slow pace): it stops before submit; the other completes."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2"])
    roster = write_roster(
        tmp_path / "r.yaml",
        [
            {"id": "slow", "label": "T-SLOW", "ips": ["203.0.113.6"], "profile": "p1",
             "totp_secret_env": "CLIENT_TOTP", "timeout": 3},
            {"id": "fine", "label": "T-FINE", "ips": ["203.0.113.7"], "profile": "p2",
             "totp_secret_env": "CLIENT_TOTP"},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    proc = onboard(home, "batch", str(roster), "--concurrency", "2", "--headless", "--pace", "1",
                   "--auto-submit", "--json", env=totp_env)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    by_id = {e["id"]: e for e in json.loads(proc.stdout)["entries"]}
    assert by_id["fine"]["outcome"] == "ok"
    assert by_id["slow"]["outcome"] == "failed"
    assert by_id["slow"]["result"]["message"] == "the entry ran out of time (3 s per entry)"
    assert by_id["slow"]["next"].startswith("failed before submit, nothing was created")
    assert [k["label"] for k in issued(replica)] == ["T-FINE"]
