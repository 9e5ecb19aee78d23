"""Many onboardings from one roster: N at once, journaled, resumable, never duplicated.

Each entry is one `agent.run.execute` in one of the batch's slots (agent.batch_slots):
greenlets sharing one Playwright driver and its browser, warm across the entries
(agent.warm), each entry in a fresh context unless it opens a client's profile. Slots may
be bound to a pool of browser servers (agent.pool); an entry whose server dies before it
submitted is retried on another. The journal ties every attempt (a `runs` row) to its batch and
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

import math
import os
import queue
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent import batch_rest, batch_slots
from agent.batch_board import TERMINAL
from agent.batch_board import Board as Board
from agent.batch_board import EntryReporter as EntryReporter
from agent.batch_board import Progress as Progress
from agent.batch_board import Stop as Stop
from agent.batch_board import View as View
from agent.batch_outcomes import (
    BatchResult,
    classify,
    entry_result,
    exit_code,
    outcome_of,
    records_by_run,
)
from agent.batch_slots import SlotThread, health_check, pool_of, uses_pool
from agent.choices import parse_sink
from agent.config import Settings
from agent.exchanges import DEFAULT
from agent.exitcodes import AgentError, Exit
from agent.journal import Journal, verdict
from agent.plan import RunPlan, build_plan, preflight
from agent.pool import Endpoint, slots_for
from agent.roster import Entry, Roster
from agent.session import SessionSpec, node_cache


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
    flow: str = DEFAULT
    recipients: list[str] = field(default_factory=list)
    sink: str = "vault"
    screen: tuple[int, int] = (1920, 1080)  # for tiling visible windows
    browser_ws: str | None = None  # for entries that name no profile, cdp or browser_ws
    # --browser-ws given more than once: the pool those entries spread over (agent.pool)
    browser_pool: list[Endpoint] = field(default_factory=list)
    # When the operator said the clients agreed (--yes): the consent of the roster's
    # `sub_accounts_via: rest` entries, recorded with every key they make. None: not said.
    consent_at: float | None = None


def window_tile(slot: int, n: int, screen: tuple[int, int]) -> list[str]:
    """Chromium args placing window `slot` of `n` in a grid over the screen."""
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    w, h = screen[0] // cols, screen[1] // rows
    x, y = (slot % cols) * w, (slot // cols) * h
    return [f"--window-position={x},{y}", f"--window-size={w},{h}"]


def new_batch_id() -> str:
    return "batch-" + time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


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
        self.pool = pool_of(opts.browser_pool, roster.pool, opts.browser_ws)
        self.slots: list[SlotThread] = []
        self._close_slots: Callable[[], None] = lambda: None
        self.notice: Callable[[str], None] = lambda line: print(line, file=sys.stderr)

    # -- set-up --------------------------------------------------------------
    def plan_for(self, entry: Entry, slot: int = 0) -> RunPlan:
        o = self.opts
        args = [] if o.headless else window_tile(slot, max(1, o.concurrency), o.screen)
        limit = entry.timeout or o.entry_timeout
        human = min(entry.human_timeout or o.human_timeout, limit or math.inf)
        login = min(entry.login_timeout or o.login_timeout, limit or math.inf)
        # The entry's own way in wins; the CLI's --browser-ws is the default for the others.
        if self.slots:
            ep = self.slots[slot].endpoint
        else:
            ep = self.pool[slot % len(self.pool)] if self.pool else None
        return build_plan(
            entry.request,
            SessionSpec(
                profile=entry.profile,
                cdp=entry.cdp,
                browser_ws=ep.ws if ep and uses_pool(entry) else entry.browser_ws,
                login_state=entry.login_state,
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
        batch_slots.check_logins(browser, settings)
        self.dead: set[str] = set()
        if self.pool and any(uses_pool(e) for e in browser):  # before use: said in one line
            dead = health_check(self.pool)
            if len(dead) == len(self.pool):
                raise AgentError(
                    "no browser server answers: " + ", ".join(dead.values()), Exit.FAILED
                )
            for why in dead.values():
                self.notice(f"browser pool: {why} does not answer; the batch goes on without it")
            self.dead = set(dead)
        journal = Journal(settings.journal_file)
        try:
            return self._run(journal, flow, vault, resume, fresh, set(retry or []))
        finally:
            journal.close()
            self._close_slots()

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
        by_run = records_by_run(self.settings)
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
                batch_id, e.id, outcomes[e.id], entry_result(row, None, self.settings)
            )
        for e in todo:
            self.code_queues[e.id] = queue.Queue()
        done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]] = queue.Queue()
        running: dict[str, tuple[Entry, int]] = {}
        busy_profiles: set[str] = set()
        self.slots, self._close_slots = batch_slots.start(
            slots_for(self.pool, max(1, self.opts.concurrency)),
            lambda x, n: batch_slots.worker(self, x, n, flow, vault, done_q),
            lambda: node_cache(self.settings),
        )
        free_slots = list(range(len(self.slots)))
        batch_slots.rebind(self, free_slots)  # off the endpoints dead at the start
        pending = list(todo)
        while pending or running:
            if self.stop.soft.is_set():
                for e in pending:
                    outcomes[e.id] = "interrupted"
                    self.board.update(e.id, outcome="interrupted", note="not started (Ctrl-C)")
                    journal.batch_entry_done(batch_id, e.id, "interrupted", "")
                pending = []
            if self.pool and all(s.dead for s in self.slots):
                for e in [x for x in pending if x.rest is None and uses_pool(x)]:
                    pending.remove(e)
                    outcomes[e.id] = "failed"
                    why = "not run: every browser server of the pool went away"
                    self.board.update(e.id, f"{e.id}: {why}", outcome="failed", note=why)
                    journal.batch_entry_done(batch_id, e.id, "failed", "")
            while pending and free_slots:
                pick = next(
                    (
                        (x, n)
                        for x in pending
                        if (x.profile or x.cdp or "") not in busy_profiles
                        and (x.after is None or x.after in outcomes)
                        and (n := batch_slots.free_slot(self, x, free_slots)) is not None
                    ),
                    None,
                )
                if pick is None:
                    break  # a profile in use by a running entry, or a main key still to come
                e, slot = pick
                pending.remove(e)
                free_slots.remove(slot)
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
                        target=batch_rest.worker,
                        args=(self, e, slot, main_id, why, vault, done_q),
                        name=f"entry-{e.id}",
                        daemon=True,
                    ).start()
                    continue
                self.slots[slot].give(e)
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
            if (
                e.rest is None
                and self.slots[slot].lost
                and batch_slots.lost(self, journal, e, slot, free_slots)
            ):
                pending.insert(0, e)  # nothing was submitted: another server runs it
                continue
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
                outcome = outcome_of(result, last, self.stop)
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
                batch_id, e.id, outcome, entry_result(last, result, self.settings)
            )
        interrupted = self.stop.soft.is_set()
        worst = exit_code(outcomes, interrupted)
        journal.batch_set(
            batch_id,
            "interrupted" if interrupted else "done",
            note=", ".join(f"{k}: {v}" for k, v in outcomes.items()),
        )
        return BatchResult(batch_id, prior is not None, interrupted, outcomes, worst)

    @staticmethod
    def _last_run(journal: Journal, batch_id: str, entry_id: str | None) -> str:
        runs = journal.entry_runs(batch_id, entry_id) if entry_id else []
        return str(runs[-1]["id"]) if runs else ""


def env_screen() -> tuple[int, int]:
    """Screen size for tiling: ONBOARD_SCREEN=WxH, else 1920x1080."""
    m = re.fullmatch(r"(\d+)x(\d+)", os.environ.get("ONBOARD_SCREEN", ""))
    return (int(m.group(1)), int(m.group(2))) if m else (1920, 1080)
