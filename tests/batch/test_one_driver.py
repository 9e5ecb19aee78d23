"""A warm batch runs every slot on ONE Playwright driver (agent.batch_driver): one Node
process whatever the concurrency; the slots still interleave (one waiting for the operator
does not stop another's entry); and a driver that dies ends every entry as a clear failure."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from agent import roster
from agent.batch import Batch, BatchOptions
from agent.config import Settings
from tests.helpers import CLIENT, outbox_cmd

from .conftest import issued, journal_rows, write_roster


def driver_pids() -> set[int]:
    """This process's Playwright drivers (node ... run-driver), its children."""
    me, found = os.getpid(), set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == me and b"run-driver" in argv:
            found.add(int(d.name))
    return found


class InThread:
    """`Batch.run()` in a thread (pytest-playwright may own this thread's loop)."""

    def __init__(self, batch: Batch) -> None:
        self.batch, self.result = batch, None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.batch.run()  # type: ignore[assignment]
        except BaseException as exc:
            self.error = exc

    def until(self, what: Any, timeout: float, say: str) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert self.thread.is_alive() or what(), f"the batch ended before: {say}"
            assert time.monotonic() < deadline, f"not within {timeout} s: {say}"
            time.sleep(0.1)

    def outcome(self, eid: str) -> str:
        v = self.batch.board.views.get(eid)  # None: the batch has not listed it yet
        return v.outcome if v else ""

    def waiting(self, eid: str) -> bool:
        v = self.batch.board.views.get(eid)
        return bool(v and v.waiting)


def batch_of(tmp_path: Path, replica: Any, entries: list[dict[str, Any]], c: int) -> Batch:
    path = write_roster(
        tmp_path / "r.yaml", entries, base_url=replica.base_url, allow_private_ip=True
    )
    ros = roster.load(path)
    opts = BatchOptions(concurrency=c, headless=True, pace=0, auto_submit=True, login_timeout=5,
                        human_timeout=120)  # fmt: skip
    b = Batch(ros, opts, Settings(home=tmp_path / "home"))
    b.operator_codes = True  # the codes typed at the batch's terminal: deliver_code below
    b.notice = lambda line: None
    return b


def typed(eid: str, label: str, ip: int) -> dict[str, Any]:
    """An entry whose TOTP code the operator types at the batch's terminal."""
    return {"id": eid, "label": label, "ips": [f"203.0.113.{ip}"], "code_prompt": ["totp"]}


def auto(eid: str, label: str, ip: int) -> dict[str, Any]:
    return {"id": eid, "label": label, "ips": [f"203.0.113.{ip}"],
            "totp_secret_env": "CLIENT_TOTP"}  # fmt: skip


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_c3_batch_runs_on_one_driver_process(replica, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    before = driver_pids()
    b = batch_of(tmp_path, replica, [auto(f"e{i}", f"D-{i}", i + 1) for i in range(4)], 3)
    seen: set[int] = set()
    most = 0
    run = InThread(b)
    while run.thread.is_alive():
        now = driver_pids() - before
        seen |= now
        most = max(most, len(now))
        time.sleep(0.05)
    assert run.error is None and run.result is not None
    assert run.result.outcomes == {f"e{i}": "ok" for i in range(4)}
    # Three slots, three browsers at once, but one Node driver for the whole batch.
    assert (most, len(seen)) == (1, 1)
    assert sorted(k["label"] for k in issued(replica)) == [f"D-{i}" for i in range(4)]


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_slot_waiting_for_the_operator_does_not_stop_another_slots_entries(
    replica, tmp_path, monkeypatch
):
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    b = batch_of(tmp_path, replica,
                 [typed("wait", "I-W", 1), auto("b1", "I-1", 2), auto("b2", "I-2", 3)], 2)  # fmt: skip
    run = InThread(b)
    try:
        run.until(lambda: run.waiting("wait"), 90, "the entry waits for the operator's code")
        # While it waits (the code is not typed yet), the other slot runs both its entries.
        run.until(lambda: run.outcome("b2") == "ok", 120, "b1 and b2 done meanwhile")
        assert run.outcome("b1") == "ok"
        assert run.waiting("wait") and not run.outcome("wait")
    finally:
        secret = replica.world.accounts[CLIENT].totp_secret
        b.deliver_code(f"wait {pyotp.TOTP(secret).now()}")
        run.thread.join(120)
    assert run.error is None and run.result is not None
    assert run.result.outcomes == {"wait": "ok", "b1": "ok", "b2": "ok"}


@pytest.mark.slow
@pytest.mark.scenarios("logged-in")
def test_a_slot_whose_code_command_runs_does_not_stop_another_slots_entries(
    replica, tmp_path, monkeypatch
):
    """The SMS code command of one entry runs until the other slot's entries are done."""
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    outbox = outbox_cmd(replica.base_url)
    asked, go = tmp_path / "asked", tmp_path / "go"
    # A wrong code, so its end is known. (The client has one phone: an entry reading the latest
    # SMS may read the other slot's challenge's code, so b1 and b2 may be refused too; that
    # they END while this command is held is what is checked.)
    held = f"touch {asked}; while [ ! -e {go} ]; do sleep 0.1; done; echo 000000"
    entries = [
        {**auto(eid, f"C-{n}", n + 1), "sms_code_cmd": f"{outbox} sms",
         "email_code_cmd": f"{outbox} email"}
        for n, eid in enumerate(["wait", "b1", "b2"])
    ]  # fmt: skip
    entries[0]["sms_code_cmd"] = f"sh -c '{held}'"
    b = batch_of(tmp_path, replica, entries, 2)
    run = InThread(b)
    try:
        run.until(asked.exists, 90, "the entry's SMS code command runs")
        run.until(lambda: bool(run.outcome("b2")), 120, "b1 and b2 ended meanwhile")
        assert run.outcome("b1") and not run.outcome("wait")
    finally:
        go.touch()
        run.thread.join(120)
    assert run.error is None and run.result is not None
    assert run.result.outcomes["wait"] == "failed"
    assert "the sms code was refused three times" in " ".join(b.board.views["wait"].events)
    assert "C-0" not in {k["label"] for k in issued(replica)}


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_driver_that_dies_ends_every_entry_as_a_failure(replica, tmp_path):
    before = driver_pids()
    b = batch_of(tmp_path, replica, [typed(f"d{i}", f"K-{i}", i + 1) for i in range(3)], 2)
    run = InThread(b)
    try:
        run.until(lambda: run.waiting("d0") and run.waiting("d1"), 90, "both slots wait")
        (driver,) = driver_pids() - before
        os.kill(driver, signal.SIGKILL)
    finally:
        run.thread.join(90)
    assert not run.thread.is_alive(), "the batch hangs after its driver died"
    assert run.error is None and run.result is not None
    # The two waiting at 2FA had submitted: flagged, never run again (a key may exist);
    # the one given to a slot after the death fails before anything is created.
    assert run.result.outcomes == {"d0": "flagged", "d1": "flagged", "d2": "failed"}
    views = b.board.views
    assert views["d0"].note.startswith("CHECK THE EXCHANGE: the run stopped after 'verifying-h")
    assert views["d2"].note == (
        "failed before submit, nothing was created: the batch's Playwright driver went away"
    )
    runs = journal_rows(tmp_path / "home", "select * from runs order by started")
    assert sorted(r["entry_id"] for r in runs) == ["d0", "d1", "d2"]  # none run again
    assert {r["state"] for r in runs} == {"failed"}
    assert "(Playwright connection closed)" in runs[0]["note"]
    assert issued(replica) == []


@pytest.mark.scenarios("logged-in", "totp-only")
def test_a_playwright_whose_internals_changed_fails_every_entry_in_one_line(
    replica, tmp_path, monkeypatch
):
    from agent import driver_fibers

    def changed(pw: Any) -> None:
        raise RuntimeError("this Playwright has no _loop / _dispatcher_fiber: (as if upgraded)")

    monkeypatch.setattr(driver_fibers, "Fibers", changed)
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    b = batch_of(tmp_path, replica, [auto(f"u{i}", f"U-{i}", i + 1) for i in range(3)], 2)
    run = InThread(b)
    run.thread.join(120)
    assert run.error is None and run.result is not None
    assert run.result.outcomes == {"u0": "failed", "u1": "failed", "u2": "failed"}
    assert {v.note for v in b.board.views.values()} == {
        "failed before submit, nothing was created: this Playwright has no _loop / "
        "_dispatcher_fiber: (as if upgraded)"
    }
    assert issued(replica) == []
