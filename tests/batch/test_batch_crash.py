"""kill -9 and Ctrl-C in the middle of a batch: the journal stays true and a resume never duplicates."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from tests.helpers import login_profiles, onboard

from .conftest import issued, journal_rows, write_roster

ARGS = ["--headless", "--pace", "0", "--auto-submit", "--login-timeout", "10", "--json"]


def three(tmp_path: Path, replica, **extra) -> Path:
    return write_roster(
        tmp_path / "r.yaml",
        [
            {"id": f"e{i}", "label": f"K-{i}", "ips": [f"203.0.113.{i}"], "profile": f"p{i}",
             "totp_secret_env": "CLIENT_TOTP", **extra}
            for i in (1, 2, 3)
        ],
        base_url=replica.base_url,
        allow_private_ip=True,  # documentation addresses, as in any test setup
    )  # fmt: skip


def stored_labels(home: Path) -> list[str]:
    return sorted(m["label"] for m in Vault(Settings(home=home)).list() if "error" not in m)


@pytest.mark.scenarios("totp-only")
@pytest.mark.parametrize(
    ("fault", "first", "at_kill"),
    [
        ("capture:before-store", "flagged", "captured"),
        # stored (the record committed) but killed before the journal heard of it: done
        ("store:between", "skipped", "captured"),
        ("complete:after", "skipped", "confirmed"),
    ],
)
def test_sigkill_mid_batch_then_resume(replica, tmp_path, totp_env, fault, first, at_kill):
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2", "p3"])
    roster = three(tmp_path, replica)
    killed = onboard(home, "batch", str(roster), *ARGS, env={**totp_env, "ONBOARD_FAULT": fault})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    [made] = issued(replica)  # the first entry got as far as the exchange issuing its key
    # the exchange's record: Complete clicked only after the store, so only at the last point
    assert made["completeClicks"] == (1 if fault == "complete:after" else 0)
    rows = journal_rows(home, "select entry_id, state, reached from runs")
    assert [(r["entry_id"], r["state"]) for r in rows] == [("e1", at_kill)]
    resumed = onboard(home, "batch", str(roster), *ARGS, env=totp_env)
    out = json.loads(resumed.stdout)
    assert out["resumed"] is True
    outcomes = {e["id"]: e["outcome"] for e in out["entries"]}
    assert outcomes == {"e1": first, "e2": "ok", "e3": "ok"}
    labels = Counter(k["label"] for k in issued(replica))
    assert labels == Counter({"K-1": 1, "K-2": 1, "K-3": 1})  # nothing created twice
    if first == "flagged":
        assert resumed.returncode == 9
        assert "e1: KEY MUST BE DELETED AND RECREATED" in resumed.stderr
        assert stored_labels(home) == ["K-2", "K-3"]
        e1 = next(e for e in out["entries"] if e["id"] == "e1")
        assert e1["next"].startswith("KEY MUST BE DELETED AND RECREATED")
        # the killed attempt is closed in the journal, not left "captured" forever
        [row] = journal_rows(home, "select state, reached, note from runs where entry_id='e1'")
        assert (row["state"], row["reached"]) == ("failed", "captured")
    else:
        assert resumed.returncode == 0, resumed.stderr
        assert stored_labels(home) == ["K-1", "K-2", "K-3"]
    assert made["secretKey"] not in resumed.stdout + resumed.stderr + killed.stderr


@pytest.mark.scenarios("totp-only")
def test_real_kill_at_a_random_point_then_resume(replica, tmp_path, totp_env):
    """SIGKILL from outside while entries are mid-flow; whatever the point, resume never duplicates."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2", "p3"])
    roster = three(tmp_path, replica)
    env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120", **totp_env}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "batch", str(roster), "--concurrency", "2", *ARGS],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    mid = "select entry_id from runs where reached in ('filled','submitted') and state not in " \
        "('failed','confirmed','verified')"  # fmt: skip
    deadline = time.monotonic() + 60
    while True:  # until an entry has filled its form and not finished
        if proc.poll() is not None:
            pytest.fail(f"the batch ended (exit {proc.returncode}) before the kill")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no entry reached 'filled' within 60 s")
        if (home / "journal.sqlite3").exists():
            try:
                if journal_rows(home, mid):
                    break
            except sqlite3.OperationalError:
                pass  # the batch is still creating its tables
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # the kill landed on a live batch
    caught = {r["entry_id"] for r in journal_rows(home, mid)}
    assert caught, "the kill found no entry mid-flow"  # the state at the moment of the kill
    before = Counter(k["label"] for k in issued(replica))
    resumed = onboard(home, "batch", str(roster), *ARGS, env=totp_env)
    out = json.loads(resumed.stdout)
    outcomes = {e["id"]: e["outcome"] for e in out["entries"]}
    assert set(outcomes.values()) <= {"ok", "skipped", "flagged"}, resumed.stderr
    assert sorted(outcomes) == ["e1", "e2", "e3"]
    after = Counter(k["label"] for k in issued(replica))
    assert after and set(after.values()) == {1}, after  # some keys, none created twice
    for e in out["entries"]:
        label = e["label"]
        if e["outcome"] in ("ok", "skipped"):
            assert label in stored_labels(home)
        else:  # flagged: died after submit before storing; created at most once, never again
            assert after[label] == before[label]
    assert not journal_rows(
        home, "select id from runs where state not in ('failed','confirmed','verified')"
    )


@pytest.mark.scenarios("totp-only")
def test_ctrl_c_stops_cleanly_and_resume_finishes(replica, tmp_path, totp_env):
    """SIGINT while two entries fill their forms (slow pace): both stop before submit, the third
    never starts, the journal says so, exit 130; the next run finishes all three."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2", "p3"])
    roster = three(tmp_path, replica)
    env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120", **totp_env}
    env.pop("DISPLAY", None)
    args = [a if a != "0" else "2" for a in ARGS]  # --pace 2: each highlight stays 2 s
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "batch", str(roster), "--concurrency", "2", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if len(journal_rows(home, "select 1 from runs where state = 'opened'")) == 2:
                break
        except Exception:
            pass
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("entries never reached 'opened'")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Ctrl-C: stopping" in stderr
    out = json.loads(stdout)
    assert out["interrupted"] is True
    assert {e["id"]: e["outcome"] for e in out["entries"]} == {
        "e1": "interrupted", "e2": "interrupted", "e3": "interrupted",
    }  # fmt: skip
    rows = journal_rows(home, "select entry_id, state, reached, note from runs order by entry_id")
    assert [(r["entry_id"], r["state"], r["reached"]) for r in rows] == [
        ("e1", "failed", "opened"), ("e2", "failed", "opened"),
    ]  # fmt: skip
    assert all("Ctrl-C" in r["note"] for r in rows)
    [batch] = journal_rows(home, "select state from batches")
    assert batch["state"] == "interrupted"
    assert issued(replica) == []
    resumed = onboard(home, "batch", str(roster), "--concurrency", "2", *ARGS, env=totp_env)
    assert resumed.returncode == 0, resumed.stderr
    assert {e["outcome"] for e in json.loads(resumed.stdout)["entries"]} == {"ok"}
    assert sorted(k["label"] for k in issued(replica)) == ["K-1", "K-2", "K-3"]
