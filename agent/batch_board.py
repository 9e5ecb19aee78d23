"""What the operator sees of a batch, and how it stops: each entry's view on a shared board
(updated from its worker thread, read by the live table), the stop switch (Ctrl-C once: no new
entries, entries before submit stop; twice: every entry stops), and the reporter each entry's
run talks to, which raises once the entry's time is up or the operator stopped it, and takes
the operator's typed codes for that entry."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from agent import warm
from agent.console import clock
from agent.custody import redact
from agent.exitcodes import AgentError, Exit
from agent.roster import Entry

# An attempt's states (the journal's `reached`): done, still before submit, ended.
DONE = ("stored", "confirmed", "verified")
PRE_SUBMIT = ("pending", "opened", "filled")
TERMINAL = ("failed", "verified", "confirmed")


@dataclass
class View:
    """What the live table shows for one entry (updated from its worker thread)."""

    id: str
    label: str
    account: str
    state: str = "pending"
    outcome: str = ""  # ok | failed | flagged | skipped | interrupted
    step: str = ""
    waiting: str = ""
    until: float | None = None  # when the wait for a human times out (time.monotonic)
    started: float | None = None
    ended: float | None = None
    note: str = ""
    events: list[str] = field(default_factory=list)

    def elapsed(self, now: float | None = None) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or (time.monotonic() if now is None else now)) - self.started


class Board:
    """Every entry's view, shared between the workers and the display."""

    def __init__(self, listener: Callable[[View, str], None] | None = None) -> None:
        self.views: dict[str, View] = {}
        self.lock = threading.Lock()
        self.listener = listener or (lambda _v, _what: None)

    def add(self, v: View) -> None:
        self.views[v.id] = v

    def update(self, entry_id: str, announce: str = "", **changes: Any) -> None:
        with self.lock:
            v = self.views[entry_id]
            for k, val in changes.items():
                setattr(v, k, redact.redact(val) if isinstance(val, str) else val)
        if announce:
            self.listener(v, redact.redact(announce))

    def waiting_for_human(self) -> list[str]:
        with self.lock:
            return [f"{v.id}: {v.waiting}" for v in self.views.values() if v.waiting]

    def progress(self, now: float | None = None) -> Progress:
        """The batch at a glance: how many are done, how many failed, and how fast it goes.

        Throughput counts entries that ran and ended in this invocation (an entry already
        done in an earlier one took no time now), over the time since the first started;
        the ETA is the entries left at that rate: unknown until one has ended."""
        now = time.monotonic() if now is None else now
        with self.lock:
            views = list(self.views.values())
        done = [v for v in views if v.outcome]
        ran = [v for v in done if v.started is not None and v.ended is not None]
        starts = [v.started for v in views if v.started is not None]
        elapsed = now - min(starts) if starts else 0.0
        rate = len(ran) / elapsed if ran and elapsed > 0 else 0.0
        left = len(views) - len(done)
        return Progress(
            total=len(views),
            done=len(done),
            failed=sum(1 for v in done if v.outcome in ("failed", "interrupted")),
            flagged=sum(1 for v in done if v.outcome == "flagged"),
            running=sum(1 for v in views if v.started is not None and not v.outcome),
            waiting=sum(1 for v in views if v.waiting),
            per_hour=rate * 3600,
            eta=left * elapsed / len(ran) if rate else (0.0 if not left else None),
        )


@dataclass(frozen=True)
class Progress:
    total: int
    done: int  # ended, whatever the outcome (skipped ones included)
    failed: int  # failed or interrupted
    flagged: int  # a key may exist that nobody holds
    running: int
    waiting: int  # for a human
    per_hour: float  # entries ended per hour in this invocation
    eta: float | None  # seconds until all are done at that rate; None: no entry ended yet


class Stop:
    def __init__(self) -> None:
        self.soft = threading.Event()  # no new entries; entries before submit stop
        self.hard = threading.Event()  # every entry stops


class EntryReporter:
    """agent.engine.human.Reporter for one entry: feeds the board, enforces stop and deadline."""

    def __init__(
        self,
        board: Board,
        entry: Entry,
        stop: Stop,
        deadline: float | None,
        codes: queue.Queue[str] | None = None,
        code_timeout: float = 600,
    ) -> None:
        self.board, self.entry, self.stop, self.deadline = board, entry, stop, deadline
        self.codes = codes
        self.code_timeout = code_timeout
        self.state = "pending"

    def _check(self) -> None:
        if self.stop.hard.is_set() or (self.stop.soft.is_set() and self.state in PRE_SUBMIT):
            raise AgentError("stopped by the operator (Ctrl-C)", Exit.HUMAN_TIMEOUT)
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise AgentError(
                f"the entry ran out of time ({self.entry.timeout or 0:.0f} s per entry)",
                Exit.HUMAN_TIMEOUT,
            )

    def step(self, n: int, total: int, caption: str, status: str, detail: str = "") -> None:
        if status == "running":
            self.board.update(self.entry.id, step=f"{n}/{total} {caption}" if n else caption)
            self._check()
        elif status == "failed":
            self.board.update(self.entry.id, f"{self.entry.id}: ✗ {caption}: {detail}", waiting="")
            self._event(f"step {n}/{total} failed: {caption}: {detail}")

    def waiting(self, say: str, elapsed: float, limit: float) -> None:
        first = not self.board.views[self.entry.id].waiting
        self.board.update(
            self.entry.id,
            f"{self.entry.id}: waiting for the human: {say} ({clock(limit - elapsed)} left)"
            if first
            else "",
            waiting=say,
            until=time.monotonic() + limit - elapsed,
        )
        self._check()

    def done_waiting(self) -> None:
        self.board.update(self.entry.id, waiting="", until=None)

    def info(self, text: str) -> None:
        self._event(text)

    def warn(self, text: str) -> None:
        self._event(f"warning: {text}")
        self.board.update(self.entry.id, f"{self.entry.id}: ! {text}")

    def _event(self, text: str) -> None:
        with self.board.lock:
            self.board.views[self.entry.id].events.append(redact.redact(text))

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        """A code the operator types at the batch terminal as `<entry> <code>`, within the
        human timeout (the live table counts it down)."""
        if self.codes is None:
            raise AgentError(
                f"needed at the terminal ({prompt}) but there is no terminal", Exit.HUMAN_TIMEOUT
            )
        codes, limit = self.codes, min(timeout, self.code_timeout) if timeout else self.code_timeout
        say = f"{prompt}: type `{self.entry.id} <code>` + Enter"
        end = time.monotonic() + limit
        self.board.update(
            self.entry.id, f"{self.entry.id}: {say} ({clock(limit)} left)", waiting=say, until=end
        )
        try:
            while True:
                self._check()
                try:
                    # In a warm slot, off the slots' thread: the other slots run meanwhile.
                    tick = min(0.5, max(0.01, end - time.monotonic()))
                    return warm.blocking(partial(codes.get, timeout=tick))
                except queue.Empty:
                    if time.monotonic() > end:
                        raise AgentError(
                            f"timed out waiting for the operator: {prompt}", Exit.HUMAN_TIMEOUT
                        ) from None
        finally:
            self.board.update(self.entry.id, waiting="", until=None)

    def on_state(self, state: str) -> None:
        self.state = state
        self.board.update(self.entry.id, f"{self.entry.id}: {state}", state=state)
