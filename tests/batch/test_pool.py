"""A batch over a pool of real `playwright run-server` processes on loopback (agent.pool).

What is checked: entries spread over the pool and the slots of a server share its browser
(one launch per server, not per entry); an endpoint dead at the start is said in one line and the batch
goes on without it (all dead: one line, exit 1, nothing opened); an endpoint killed in the
middle of an entry loses nothing and creates nothing twice: before submit the entry runs
again on the other server, after submit it is not run again.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from agent import roster
from agent.batch import Batch, BatchOptions, Board
from agent.batch_board import View
from agent.config import Settings
from agent.custody.vault import Vault
from agent.pool import Endpoint, health, parse_roster_pool, slots_for
from tests.helpers import CLIENT, onboard

from .conftest import LAUNCHED, BrowserServer, closed_port, issued, journal_rows, write_roster

COMMON = {"allow_private_ip": True, "totp_secret_env": "CLIENT_TOTP"}


def entries(n: int, prefix: str = "P") -> list[dict[str, Any]]:
    return [
        {"id": f"e{i}", "label": f"{prefix}-{i}", "ips": [f"203.0.113.{i + 1}"]} for i in range(n)
    ]


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_batch_spreads_over_the_pool_one_browser_per_server(
    replica, tmp_path, totp_env, browser_server
):
    a, b = browser_server(), browser_server()
    home = tmp_path / "home"
    ros = write_roster(tmp_path / "pool.yaml", entries(4), base_url=replica.base_url, **COMMON)
    proc = onboard(
        home,
        "batch", str(ros), "--browser-ws", a.ws, "--browser-ws", b.ws, "--concurrency", "2",
        "--headless", "--pace", "0", "--auto-submit", "--login-timeout", "5", "--json",
        env=totp_env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {e["outcome"] for e in out["entries"]} == {"ok"}
    # Both servers served entries, and each launched one browser for its slot's 2 entries.
    assert (a.count(LAUNCHED), b.count(LAUNCHED)) == (1, 1)
    assert sorted(k["label"] for k in issued(replica)) == ["P-0", "P-1", "P-2", "P-3"]


@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_dead_endpoint_at_start_is_one_line_and_the_batch_goes_on(
    replica, tmp_path, totp_env, browser_server
):
    a = browser_server()
    dead = f"ws://127.0.0.1:{closed_port()}/"
    home = tmp_path / "home"
    ros = write_roster(tmp_path / "pool.yaml", entries(2), base_url=replica.base_url, **COMMON)
    proc = onboard(
        home,
        "batch", str(ros), "--browser-ws", dead, "--browser-ws", a.ws, "--concurrency", "2",
        "--headless", "--pace", "0", "--auto-submit", "--login-timeout", "5", "--json",
        env=totp_env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = [ln for ln in proc.stderr.splitlines() if dead in ln]
    assert said == [
        f"browser pool: {dead} (connection refused) does not answer; the batch goes on without it"
    ]
    # The dead server's slot moved to the live one: both entries made there, in its one
    # browser (the slots of a server share it).
    assert a.count(LAUNCHED) == 1
    assert len(issued(replica)) == 2


def test_every_endpoint_dead_is_one_line_exit_1_nothing_opened(tmp_path):
    ports = [closed_port(), closed_port()]
    ros = write_roster(
        tmp_path / "pool.yaml",
        entries(1),
        base_url="http://127.0.0.1:9",
        allow_private_ip=True,
    )
    home = tmp_path / "home"
    proc = onboard(
        home, "batch", str(ros), *[a for p in ports for a in ("--browser-ws", f"ws://127.0.0.1:{p}/")],
        "--headless", "--json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: no browser server answers: ws://127.0.0.1:{ports[0]}/ (connection refused), "
        f"ws://127.0.0.1:{ports[1]}/ (connection refused)"
    ]
    assert not (home / "runs").exists()


def kill(srv: BrowserServer) -> None:
    os.killpg(srv.proc.pid, signal.SIGKILL)
    srv.proc.wait(10)


def run_killing(
    replica: Any, tmp_path: Path, servers: list[BrowserServer], at: str, monkeypatch: Any
) -> tuple[Batch, Any, Settings]:
    """A batch of one entry over the pool, concurrency 1 (so the first server runs it); the
    first server is killed when the entry reaches journal state `at`."""
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    ros = roster.load(
        write_roster(tmp_path / "pool.yaml", entries(1, "K"), base_url=replica.base_url, **COMMON)
    )
    first = servers[0]

    def announce(v: View, text: str) -> None:
        if text == f"{v.id}: {at}" and first.proc.poll() is None:
            kill(first)

    settings = Settings(home=tmp_path / "home")
    opts = BatchOptions(
        concurrency=1, headless=True, pace=0, auto_submit=True, login_timeout=5,
        step_timeout=10, browser_pool=[Endpoint(s.ws) for s in servers],
    )  # fmt: skip
    batch = Batch(ros, opts, settings, board=Board(announce))
    said: list[str] = []
    batch.notice = said.append
    result = batch.run()
    return batch, (result, said), settings


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_an_endpoint_killed_before_submit_runs_the_entry_again_elsewhere(
    replica, tmp_path, browser_server, monkeypatch
):
    a, b = browser_server(), browser_server()
    _batch, (result, said), settings = run_killing(replica, tmp_path, [a, b], "filled", monkeypatch)
    rows = journal_rows(tmp_path / "home", "select state, reached, note from runs order by started")
    assert result.outcomes == {"e0": "ok"}, (rows, said)
    assert [r["state"] for r in rows] == ["failed", "verified"]
    assert rows[0]["reached"] == "filled"
    assert f"the browser server at {a.ws} went away" in rows[0]["note"]
    assert "nothing was submitted: run again on another server" in rows[0]["note"]
    assert len(said) == 1 and said[0].startswith("e0: the browser server at")
    assert b.count(LAUNCHED) == 1
    assert [k["label"] for k in issued(replica)] == ["K-0"]  # made once
    assert [m["label"] for m in Vault(settings).list()] == ["K-0"]


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_an_endpoint_killed_after_submit_is_not_run_again(
    replica, tmp_path, browser_server, monkeypatch
):
    a, b = browser_server(), browser_server()
    _batch, (result, _said), _settings = run_killing(
        replica, tmp_path, [a, b], "submitted", monkeypatch
    )
    rows = journal_rows(tmp_path / "home", "select state, reached, note from runs")
    assert len(rows) == 1  # one attempt: a second could make a second key
    assert rows[0]["reached"] in ("submitted", "verifying-human", "captured")
    assert "not run again" in rows[0]["note"]
    assert result.outcomes == {"e0": "flagged"}
    assert b.count(LAUNCHED) == 0
    assert len([k for k in issued(replica) if k["label"] == "K-0"]) <= 1


# -- the pool's own rules -------------------------------------------------------------
def test_roster_browser_pool_syntax_and_problems(tmp_path):
    text = (
        "browser_pool:\n"
        "  - ws://127.0.0.1:3001/\n"
        "  - {ws: wss://b.example:3000/, concurrency: 2}\n"
        "entries: []\n"
    )
    assert parse_roster_pool("r.yaml", text) == (
        [Endpoint("ws://127.0.0.1:3001/"), Endpoint("wss://b.example:3000/", 2)],
        [],
    )
    bad = (
        "browser_pool:\n"
        "  - ws://10.0.0.5:3000/\n"
        "  - {ws: wss://b.example/, concurrency: 0}\n"
        "  - {url: wss://c.example/}\n"
        "entries: []\n"
    )
    pool, problems = parse_roster_pool("r.yaml", bad)
    assert pool == []
    assert problems[0].startswith("r.yaml:2: ") and "ws://" in problems[0]
    assert problems[1] == "r.yaml:3: browser_pool: concurrency must be a whole number >= 1"
    assert problems[2] == "r.yaml:4: browser_pool: unknown field 'url' (known: ws, concurrency)"
    ros = write_roster(tmp_path / "r.yaml", entries(1), allow_private_ip=True)
    ros.write_text("browser_pool: [ws://127.0.0.1:3001/]\n" + ros.read_text())
    assert roster.load(ros).pool == [Endpoint("ws://127.0.0.1:3001/")]


def test_slots_round_robin_within_each_endpoints_concurrency():
    a, b = Endpoint("ws://a/", 1), Endpoint("ws://b/")
    assert slots_for([a, b], 4) == [a, b, b, b]
    assert slots_for([Endpoint("ws://a/", 1)], 4) == [Endpoint("ws://a/", 1)]
    assert slots_for([], 2) == [None, None]


def test_health_says_why_in_a_few_words(browser_server):
    assert health(f"ws://127.0.0.1:{closed_port()}/") == "connection refused"
    assert health(browser_server().ws) is None
