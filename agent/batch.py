"""Many onboardings from one roster: N at once, journaled, resumable, never duplicated.

Each entry is one `agent.run.execute` in its own thread with its own sync
Playwright. The journal ties every attempt (a `runs` row) to its batch and
entry, durably, at every state, so after a crash or Ctrl-C a re-run knows:

- stored/confirmed/verified: done, skipped;
- stopped before submit (nothing was created): started again;
- stopped after submit but before the credentials were stored: flagged loudly
  and NOT retried (a second attempt could leave two keys, one nobody holds);
  the operator deletes the key on the exchange and re-runs with `--retry ID`.

Stopping is cooperative: every step and every tick of a human wait goes through
the entry's reporter, which raises once the entry's time is up or the operator
pressed Ctrl-C, so `execute` ends the entry through its normal failure path
(journal, screenshot, browser closed). After a first Ctrl-C, entries already
past submit are left to finish storing their credentials; a second stops them too.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent import batch_rest
from agent.choices import parse_sink
from agent.config import Settings
from agent.console import clock
from agent.custody import redact
from agent.exitcodes import AgentError, Exit
from agent.journal import LOST, Journal, verdict
from agent.roster import Entry, Roster
from agent.run import RunPlan, build_plan, execute, preflight
from agent.session import SessionSpec

DONE = ("stored", "confirmed", "verified")
PRE_SUBMIT = ("pending", "opened", "filled")
TERMINAL = ("failed", "verified", "confirmed")


@dataclass
class BatchOptions:
    concurrency: int = 1
    headless: bool = False
    pace: float = 0.6
    auto_submit: bool = False
    login_timeout: float = 300
    human_timeout: float = 600
    step_timeout: float = 15
    entry_timeout: float | None = None
    verify: bool | None = None
    flow: str = "okx"
    recipients: list[str] = field(default_factory=list)
    sink: str = "vault"
    screen: tuple[int, int] = (1920, 1080)  # for tiling visible windows
    browser_ws: str | None = None  # for entries that name no profile, cdp or browser_ws
    # When the operator said the clients agreed (--yes): the consent of the roster's
    # `sub_accounts_via: rest` entries, recorded with every key they make. None: not said.
    consent_at: float | None = None


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
        limit = min(timeout, self.code_timeout) if timeout else self.code_timeout
        say = f"{prompt}: type `{self.entry.id} <code>` + Enter"
        end = time.monotonic() + limit
        self.board.update(
            self.entry.id, f"{self.entry.id}: {say} ({clock(limit)} left)", waiting=say, until=end
        )
        try:
            while True:
                self._check()
                try:
                    return self.codes.get(timeout=min(0.5, max(0.01, end - time.monotonic())))
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


@dataclass
class BatchResult:
    batch_id: str
    resumed: bool
    interrupted: bool
    outcomes: dict[str, str]  # entry id -> ok | failed | flagged | skipped | interrupted
    exit_code: int


def window_tile(slot: int, n: int, screen: tuple[int, int]) -> list[str]:
    """Chromium args placing window `slot` of `n` in a grid over the screen."""
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    w, h = screen[0] // cols, screen[1] // rows
    x, y = (slot % cols) * w, (slot // cols) * h
    return [f"--window-position={x},{y}", f"--window-size={w},{h}"]


def new_batch_id() -> str:
    return "batch-" + time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def classify(
    runs: list[dict[str, Any]], records: Sequence[dict[str, Any]] = (), keys: int = 1
) -> str:
    """What to do with an entry given its attempts: run | done | flagged. `records`: the vault's
    entries of the last attempt's run: a run killed after its `keys` keys were stored is done."""
    if not runs:
        return "run"
    last = runs[-1]
    reached = last.get("reached") or last.get("state")
    if reached in DONE:
        return "done"
    if reached in LOST:
        held = [r for r in records if not r.get("error") and not r.get("interrupted")]
        return "done" if len(held) >= keys else "flagged"
    return "run"


def _records_by_run(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The vault's entries by run id (none when the vault cannot be read: the journal decides)."""
    from agent.custody.vault import Vault, VaultError

    try:
        return {k: list(v) for k, v in Vault(settings).by_run().items()}
    except (VaultError, OSError):
        return {}


class Batch:
    def __init__(
        self,
        roster: Roster,
        opts: BatchOptions,
        settings: Settings,
        board: Board | None = None,
        stop: Stop | None = None,
        stand_in: Callable[[Entry], Any] | None = None,
    ) -> None:
        self.roster, self.opts, self.settings = roster, opts, settings
        self.board = board or Board()
        self.stop = stop or Stop()
        self.stand_in = stand_in  # tests/demo: a scripted client per entry
        self.code_queues: dict[str, queue.Queue[str]] = {}
        self.operator_codes = False

    # -- set-up --------------------------------------------------------------
    def plan_for(self, entry: Entry, slot: int = 0) -> RunPlan:
        o = self.opts
        args = [] if o.headless else window_tile(slot, max(1, o.concurrency), o.screen)
        limit = entry.timeout or o.entry_timeout
        human = min(entry.human_timeout or o.human_timeout, limit or math.inf)
        login = min(entry.login_timeout or o.login_timeout, limit or math.inf)
        # The entry's own way in wins; the CLI's --browser-ws is the default for the others.
        own = entry.profile or entry.cdp or entry.browser_ws
        return build_plan(
            entry.request,
            SessionSpec(
                profile=entry.profile,
                cdp=entry.cdp,
                browser_ws=entry.browser_ws if own else o.browser_ws,
                headless=o.headless,
                extra_args=args,
            ),
            pace=o.pace,
            auto_submit=o.auto_submit,
            step_timeout=o.step_timeout,
            login_timeout=login,
            human_timeout=human,
            codes=entry.codes,
            flow=o.flow,
            verify=o.verify,
            recipients=list(o.recipients),
            sink=str(parse_sink(o.sink).for_entry(entry.id)),
        )

    def deliver_code(self, line: str) -> str:
        """`<entry> <code>` typed by the operator -> that entry's queue. Returns what happened."""
        m = re.fullmatch(r"\s*(\S+)\s+(\d{6})\s*", line)
        if not m:
            return "type `<entry id> <6-digit code>`"
        q = self.code_queues.get(m.group(1))
        if q is None:
            return f"no entry {m.group(1)!r} in this batch"
        q.put(m.group(2))
        return f"code sent to {m.group(1)}"

    # -- the run ---------------------------------------------------------------
    def run(
        self,
        resume: str | None = None,
        fresh: bool = False,
        retry: list[str] | None = None,
    ) -> BatchResult:
        """Validates the set-up (vault, flow, the REST entries' consent and main keys)
        before any browser opens; raises AgentError then."""
        from agent.custody.vault import Vault
        from agent.engine.flow import FlowError, load_named

        settings = self.settings
        # The REST entries first: their consent and sink are the whole batch's question.
        vault = Vault(settings, recipients=self.opts.recipients or None)
        batch_rest.check(self.roster, self.opts.sink, self.opts.consent_at, vault)
        browser = [e for e in self.roster.entries if e.rest is None]
        if browser:
            flow, vault = preflight(self.plan_for(browser[0]), settings)
        else:  # REST entries only: no browser, so no browser set-up to check
            try:
                flow = load_named(self.opts.flow)
            except FlowError as exc:
                raise AgentError(str(exc), Exit.BAD_INPUT) from None
        journal = Journal(settings.journal_file)
        try:
            return self._run(journal, flow, vault, resume, fresh, set(retry or []))
        finally:
            journal.close()

    def _run(
        self,
        journal: Journal,
        flow: Any,
        vault: Any,
        resume: str | None,
        fresh: bool,
        retry: set[str],
    ) -> BatchResult:
        entries = self.roster.entries
        roster_key = str(self.roster.path)
        prior = None
        if resume:
            prior = journal.batch(resume)
            if prior is None:
                raise AgentError(f"--resume {resume}: no such batch in the journal", Exit.BAD_INPUT)
        elif not fresh:
            prior = journal.latest_batch(roster_key)
        unknown = sorted(retry - {e.id for e in entries})
        if unknown:
            raise AgentError(f"--retry {unknown[0]}: no such entry in the roster", Exit.BAD_INPUT)
        public = [e.public() for e in entries]
        if prior:
            batch_id = prior["id"]
            journal.batch_add(batch_id, public)
            journal.batch_set(batch_id, "running")
        else:
            batch_id = new_batch_id()
            journal.batch_start(batch_id, roster_key, self.roster.digest, public)
        self.batch_id = batch_id
        outcomes: dict[str, str] = {}
        todo: list[Entry] = []
        by_run = _records_by_run(self.settings)
        for e in entries:
            self.board.add(View(e.id, e.label, e.account))
            runs = journal.entry_runs(batch_id, e.id)
            ends = batch_rest.TERMINAL if e.rest is not None else TERMINAL
            for r in runs:  # attempts a killed process left mid-way: close them in the journal
                if r["state"] not in ends:
                    journal.set(r["id"], "failed", note="interrupted: the batch process ended")
            runs = journal.entry_runs(batch_id, e.id)
            held = by_run.get(runs[-1]["id"], []) if runs else []
            if e.rest is not None:  # done when every sub-account's key is; else its engine
                what = "done" if batch_rest.done(runs, e.accounts) else "run"  # lists first
            else:
                what = classify(runs, held, len(e.request.accounts))
            if what == "flagged" and e.id in retry:
                what = "run"
            if what == "run":
                todo.append(e)
                continue
            row = runs[-1]
            outcomes[e.id] = "skipped" if what == "done" else "flagged"
            said = verdict(row, held)
            self.board.update(
                e.id,
                f"{e.id}: {'already done' if what == 'done' else said}",
                state=row["reached"] or row["state"],
                outcome=outcomes[e.id],
                note=said,
            )
            journal.batch_entry_done(
                batch_id, e.id, outcomes[e.id], _entry_result(row, None, self.settings)
            )
        for e in todo:
            self.code_queues[e.id] = queue.Queue()
        done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]] = queue.Queue()
        running: dict[str, tuple[Entry, int]] = {}
        busy_profiles: set[str] = set()
        free_slots = list(range(max(1, self.opts.concurrency)))
        pending = list(todo)
        while pending or running:
            if self.stop.soft.is_set():
                for e in pending:
                    outcomes[e.id] = "interrupted"
                    self.board.update(e.id, outcome="interrupted", note="not started (Ctrl-C)")
                    journal.batch_entry_done(batch_id, e.id, "interrupted", "")
                pending = []
            while pending and len(running) < self.opts.concurrency:
                nxt = next(
                    (
                        x
                        for x in pending
                        if (x.profile or x.cdp or "") not in busy_profiles
                        and (x.after is None or x.after in outcomes)
                    ),
                    None,
                )
                if nxt is None:
                    break  # a profile in use by a running entry, or a main key still to come
                e = nxt
                pending.remove(e)
                slot = free_slots.pop(0)
                key = e.profile or e.cdp or ""
                if key:
                    busy_profiles.add(key)  # a profile opens in one browser at a time
                running[e.id] = (e, slot)
                if e.rest is not None:
                    main_id, why = batch_rest.main_key(
                        e,
                        outcomes.get(e.after or ""),
                        journal.entry_runs(batch_id, e.after) if e.after else [],
                        by_run.get(self._last_run(journal, batch_id, e.after), []),
                        vault,
                    )
                    threading.Thread(
                        target=self._rest_worker,
                        args=(e, slot, main_id, why, vault, done_q),
                        name=f"entry-{e.id}",
                        daemon=True,
                    ).start()
                    continue
                threading.Thread(
                    target=self._worker,
                    args=(e, slot, flow, vault, done_q),
                    name=f"entry-{e.id}",
                    daemon=True,
                ).start()
            if not running:
                continue
            try:
                e, slot, result = done_q.get(timeout=0.25)
            except queue.Empty:
                continue
            running.pop(e.id)
            free_slots.append(slot)
            free_slots.sort()
            busy_profiles.discard(e.profile or e.cdp or "")
            runs = journal.entry_runs(batch_id, e.id)
            last = runs[-1] if runs else None
            ends = batch_rest.TERMINAL if e.rest is not None else TERMINAL
            if last and last["state"] not in ends:
                journal.set(last["id"], "failed", note=result.get("message") or "ended")
                last = journal.entry_runs(batch_id, e.id)[-1]
            if e.rest is not None:  # several keys, one run each: the engine's own verdict
                outcome = str(result.get("outcome") or "failed")
                if outcome == "interrupted" and not self.stop.soft.is_set():
                    outcome = "failed"  # its time ran out, not the operator's Ctrl-C
                note = str(result.get("message") or "") or (
                    f"ok: {len(e.accounts)} key(s) over REST, stored and checked"
                )
            else:
                outcome = _outcome(result, last, self.stop)
                note = verdict(last) if last else str(result.get("message") or "")
            outcomes[e.id] = outcome
            self.board.update(
                e.id,
                f"{e.id}: {outcome}" + (f": {note}" if outcome != "ok" else ""),
                outcome=outcome,
                note=note,
                ended=time.monotonic(),
                waiting="",
            )
            journal.batch_entry_done(
                batch_id, e.id, outcome, _entry_result(last, result, self.settings)
            )
        interrupted = self.stop.soft.is_set()
        worst = _exit_code(outcomes, interrupted)
        journal.batch_set(
            batch_id,
            "interrupted" if interrupted else "done",
            note=", ".join(f"{k}: {v}" for k, v in outcomes.items()),
        )
        return BatchResult(batch_id, prior is not None, interrupted, outcomes, worst)

    def _worker(
        self,
        e: Entry,
        slot: int,
        flow: Any,
        vault: Any,
        done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]],
    ) -> None:
        limit = e.timeout or self.opts.entry_timeout
        deadline = time.monotonic() + limit if limit else None
        e = replace(e, timeout=limit)
        rep = EntryReporter(
            self.board,
            e,
            self.stop,
            deadline,
            self.code_queues.get(e.id) if self.operator_codes else None,
            self.opts.human_timeout,
        )
        self.board.update(
            e.id, f"{e.id}: started", started=time.monotonic(), ended=None, outcome=""
        )
        try:
            result = execute(
                self.plan_for(e, slot),
                rep,
                self.settings,
                stand_in=self.stand_in(e) if self.stand_in else None,
                flow=flow,
                vault=vault,
                on_state=rep.on_state,
                tags={"batch_id": self.batch_id, "entry_id": e.id},
            )
        except Exception as exc:  # a browser that would not start, a driver that died
            result = {
                "status": "failed",
                "exit_code": int(Exit.UI_NOT_UNDERSTOOD),
                "message": redact.redact(f"{type(exc).__name__}: {exc}".splitlines()[0]),
            }
        done_q.put((e, slot, result))

    @staticmethod
    def _last_run(journal: Journal, batch_id: str, entry_id: str | None) -> str:
        runs = journal.entry_runs(batch_id, entry_id) if entry_id else []
        return str(runs[-1]["id"]) if runs else ""

    def _rest_worker(
        self,
        e: Entry,
        slot: int,
        main_id: str | None,
        why: str,
        vault: Any,
        done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]],
    ) -> None:
        """A `sub_accounts_via: rest` entry (agent.batch_rest): no browser; a progress line
        per key on the board; stops between keys on Ctrl-C or when its time is up."""
        from agent.subkeys import Outcome

        limit = e.timeout or self.opts.entry_timeout
        deadline = time.monotonic() + limit if limit else None
        self.board.update(
            e.id, f"{e.id}: started (REST)", started=time.monotonic(), ended=None, outcome=""
        )

        def stop() -> str | None:
            if self.stop.soft.is_set():
                return "stopped by the operator (Ctrl-C)"
            if deadline is not None and time.monotonic() > deadline:
                return f"the entry ran out of time ({limit:.0f} s per entry)"
            return None

        def progress(i: int, n: int, o: Outcome) -> None:
            self.board.update(
                e.id,
                f"{e.id}: [{i}/{n}] {o.sub_account}: {o.status}: {o.detail}",
                step=f"{i}/{n} {o.sub_account}",
                state=o.status,
            )

        if main_id is None:
            result: dict[str, Any] = {"status": "failed", "exit_code": int(Exit.FAILED),
                                      "outcome": "failed", "message": why}  # fmt: skip
        else:
            journal = Journal(self.settings.journal_file)
            try:
                assert self.opts.consent_at is not None  # batch_rest.check said so
                result = batch_rest.run_entry(
                    e, main_id, vault, journal, self.batch_id, self.opts.consent_at, stop,
                    progress,
                )  # fmt: skip
            except Exception as exc:  # the vault or the network failing beyond the engine
                result = {
                    "status": "failed",
                    "exit_code": int(Exit.FAILED),
                    "outcome": "failed",
                    "message": redact.redact(f"{type(exc).__name__}: {exc}".splitlines()[0]),
                }
            finally:
                journal.close()
        done_q.put((e, slot, result))


def _outcome(result: dict[str, Any], row: dict[str, Any] | None, stop: Stop) -> str:
    reached = (row or {}).get("reached") or ""
    if result.get("status") == "ok":
        return "ok"
    if reached in LOST:
        return "flagged"
    if reached in DONE:
        return "failed"  # stored, but a check differs: the verdict says what
    if stop.soft.is_set() and "Ctrl-C" in str(result.get("message", "")):
        return "interrupted"
    return "failed"


def _exit_code(outcomes: dict[str, str], interrupted: bool) -> int:
    if interrupted:
        return 130
    if any(o == "flagged" for o in outcomes.values()):
        return int(Exit.VERIFY_FAILED)  # a key may exist that nobody holds: loudest
    if any(o in ("failed", "interrupted") for o in outcomes.values()):
        return 1
    return 0


RESULT_KEYS = (
    "status", "exit_code", "message", "api_key_masked", "vault_ids", "verification",
    "factors", "seconds", "capture_to_disk_ms", "step_seconds", "run_id", "artifacts", "keys",
    "stored",  # where the keys are: vault ids, keychain names, an OKX profile's name and file
    "permissions", "ips",  # what the key may do and from where: the report's summary table
)  # fmt: skip


def _entry_result(
    row: dict[str, Any] | None, result: dict[str, Any] | None, settings: Settings
) -> str:
    """The secret-free summary kept in the journal for the report."""
    out: dict[str, Any] = {k: v for k, v in (result or {}).items() if k in RESULT_KEYS}
    if row:
        out.update(run_id=row["id"], reached=row["reached"], verdict=verdict(row))
        out.setdefault("artifacts", str(settings.runs_dir / row["id"]))
    return redact.redact(json.dumps(out, default=str))


def env_screen() -> tuple[int, int]:
    """Screen size for tiling: ONBOARD_SCREEN=WxH, else 1920x1080."""
    m = re.fullmatch(r"(\d+)x(\d+)", os.environ.get("ONBOARD_SCREEN", ""))
    return (int(m.group(1)), int(m.group(2))) if m else (1920, 1080)
