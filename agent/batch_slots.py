"""A batch's concurrency slots, each running its entries one after another.

Why slots that last the batch (not one per entry): the driver and its browser stay warm
across entries (agent.warm). Warm slots are greenlets of one driver thread, on one
Playwright driver (agent.batch_driver); a sync Playwright belongs to the thread that started
it, and its greenlets are how several slots share it. A slot may be bound to one endpoint
of the browser pool (agent.pool): the entries that name no browser of their own then get a
fresh context in that server's browser (one driver connects to every endpoint). An endpoint
that stops answering is dead for the rest of the batch: its slots take no more entries.

`ONBOARD_BATCH_COLD=1` runs every entry the way a single run does (its own driver and
browser, closed after it): the baseline `bench.batch` measures the warm slots against.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from agent import pool, warm
from agent.batch_board import TERMINAL, EntryReporter
from agent.batch_outcomes import classify
from agent.custody import redact
from agent.exitcodes import Exit
from agent.journal import Journal
from agent.pool import Endpoint
from agent.roster import Entry
from agent.run import execute

if TYPE_CHECKING:
    from agent.batch import Batch

COLD_ENV = "ONBOARD_BATCH_COLD"


def uses_pool(e: Entry) -> bool:
    """The entry runs in its slot's endpoint's browser (it names no browser of its own)."""
    return not (e.profile or e.cdp or e.browser_ws)


class SlotThread:
    """Slot `index`: the endpoint it is bound to (None: this machine); `give` hands it its
    next entry (None: it ends)."""

    def __init__(self, index: int, endpoint: Endpoint | None, give: Callable[[Entry], None]):
        self.index, self.endpoint, self.give = index, endpoint, give
        self.lost = ""  # why its endpoint went away during the last entry ("" : it did not)
        self.dead = False  # its endpoint is gone: no more entries here

    def check_lost(self, e: Entry, result: dict[str, Any]) -> None:
        """After an entry that failed in the pool: is its endpoint still there? (In the slot,
        before the result is handed on, so the batch reads `lost` with the result.)"""
        if result.get("status") == "ok" or self.endpoint is None or not uses_pool(e):
            return
        ws = self.endpoint.ws
        why = warm.blocking(lambda: pool.health(ws))
        if why:
            self.lost = f"the browser server at {pool_shown(self.endpoint)} went away ({why})"


class ColdThread:
    """A cold slot (ONBOARD_BATCH_COLD=1): a thread running its entries in turn, each the way
    a single run does it (its own driver and browser)."""

    def __init__(self, index: int, run: Callable[[Entry, int], None]) -> None:
        self.inbox: queue.Queue[Entry | None] = queue.Queue()
        self.thread = threading.Thread(
            target=self._loop, args=(index, run), name=f"slot-{index}", daemon=True
        )
        self.thread.start()

    def _loop(self, index: int, run: Callable[[Entry, int], None]) -> None:
        while (e := self.inbox.get()) is not None:
            run(e, index)

    def close(self, wait: float = 30.0) -> None:
        self.inbox.put(None)
        self.thread.join(wait)


def start(
    endpoints: list[Endpoint | None], run: Callable[[Entry, int], None], before: Callable[[], None]
) -> tuple[list[SlotThread], Callable[[], None]]:
    """The batch's slots, one per endpoint (None: this machine), and what ends them all. Warm:
    one driver thread for all (agent.batch_driver), started with the first entry, `before`
    first; cold: a thread per slot."""

    def ran(e: Entry, n: int) -> None:
        slots[n].lost = ""
        run(e, n)

    if os.environ.get(COLD_ENV, "") == "1":
        cold = [ColdThread(i, ran) for i in range(len(endpoints))]
        slots = [SlotThread(i, ep, cold[i].inbox.put) for i, ep in enumerate(endpoints)]

        def close() -> None:
            for c in cold:
                c.close()

        return slots, close
    from agent.batch_driver import DriverThread

    hub = DriverThread(len(endpoints), ran, before)
    slots = [SlotThread(i, ep, partial(hub.give, i)) for i, ep in enumerate(endpoints)]
    return slots, hub.close


def pool_shown(ep: Endpoint) -> str:
    from agent.urls import shown

    return shown(ep.ws)


def pool_of(
    cli: list[Endpoint], roster_pool: list[Endpoint], browser_ws: str | None
) -> list[Endpoint]:
    """The batch's pool: the command line's (--browser-ws, repeated), else the roster's
    `browser_pool:`, else none."""
    if cli:
        return list(cli)
    if roster_pool:
        return list(roster_pool)
    return [Endpoint(browser_ws)] if browser_ws else []


def check_logins(entries: list[Entry], settings: Any) -> None:
    """Before anything opens: every `login_state` the roster names is sealed here (one line,
    exit 2, naming the entry and how to seal it)."""
    from agent.custody import logins
    from agent.exitcodes import AgentError

    for e in entries:
        if e.login_state and not logins.exists(settings, e.login_state):
            raise AgentError(
                f"{e.id}: login_state {e.login_state!r} is not sealed on this machine (seal "
                f"it with `onboard login-state save PROFILE --name {e.login_state}`)",
                Exit.BAD_INPUT,
            )


def health_check(endpoints: list[Endpoint]) -> dict[str, str]:
    """Each endpoint asked once before the batch uses it: the dead ones, with why."""
    dead: dict[str, str] = {}
    for ep in endpoints:
        why = pool.health(ep.ws)
        if why:
            dead[ep.ws] = f"{pool_shown(ep)} ({why})"
    return dead


def worker(
    batch: Batch,
    e: Entry,
    slot: int,
    flow: Any,
    vault: Any,
    done_q: queue.Queue[tuple[Entry, int, dict[str, Any]]],
) -> None:
    """One browser entry, in its slot's thread: `agent.run.execute` with the entry's reporter;
    then, when it failed in the pool, whether its server is still there."""
    limit = e.timeout or batch.opts.entry_timeout
    deadline = time.monotonic() + limit if limit else None
    e = replace(e, timeout=limit)
    rep = EntryReporter(
        batch.board,
        e,
        batch.stop,
        deadline,
        batch.code_queues.get(e.id) if batch.operator_codes else None,
        batch.opts.human_timeout,
    )
    batch.board.update(e.id, f"{e.id}: started", started=time.monotonic(), ended=None, outcome="")
    try:
        result = execute(
            batch.plan_for(e, slot),
            rep,
            batch.settings,
            stand_in=batch.stand_in(e) if batch.stand_in else None,
            flow=flow,
            vault=vault,
            on_state=rep.on_state,
            tags={"batch_id": batch.batch_id, "entry_id": e.id},
        )
    except Exception as exc:  # a browser that would not start, a driver that died
        result = {
            "status": "failed",
            "exit_code": int(Exit.UI_NOT_UNDERSTOOD),
            "message": redact.redact(f"{type(exc).__name__}: {exc}".splitlines()[0]),
        }
    batch.slots[slot].check_lost(e, result)
    done_q.put((e, slot, result))


def free_slot(batch: Batch, e: Entry, free: list[int]) -> int | None:
    """A free slot for `e`: one whose browser server is alive when it runs in the pool."""
    if e.rest is None and uses_pool(e) and batch.pool:
        return next((n for n in free if not batch.slots[n].dead), None)
    return free[0] if free else None


def lost(batch: Batch, journal: Journal, e: Entry, slot: int, free: list[int]) -> bool:
    """The entry's browser server went away mid-entry: its slots take no more entries,
    and the attempt is journaled as such. True when it is to run again elsewhere: only
    when nothing was submitted (a second attempt after a submit could make a second
    key), the batch is not stopping, and another server is alive."""
    gone = batch.slots[slot]
    assert gone.endpoint is not None
    batch.dead.add(gone.endpoint.ws)
    why = gone.lost
    rebind(batch, free)
    runs = journal.entry_runs(batch.batch_id, e.id)
    if not runs:
        return False
    again = (
        classify(runs, [], len(e.request.accounts)) == "run"
        and not batch.stop.soft.is_set()
        and not all(s.dead for s in batch.slots)
    )
    said = "nothing was submitted: run again on another server" if again else "not run again"
    last = runs[-1]
    if last["state"] == "failed" or last["state"] not in TERMINAL:  # never over a stored key
        was = f" (the entry: {last['note']})" if last.get("note") else ""
        journal.set(last["id"], "failed", note=f"{why}; {said}{was}")
    batch.notice(f"{e.id}: {why}; {said}")
    if again:
        batch.board.update(e.id, f"{e.id}: {why}; {said}", note=said)
    return again


def rebind(batch: Batch, free: list[int]) -> None:
    """The free slots of dead endpoints move to live ones with room (the least used first);
    with none, they are dead. A running slot moves once its entry is back (its endpoint is
    what says whether that entry lost its server)."""
    for n in free:
        s = batch.slots[n]
        if s.endpoint is None or s.endpoint.ws not in batch.dead:
            continue
        used = Counter(t.endpoint.ws for t in batch.slots if t.endpoint)
        room = [
            ep
            for ep in batch.pool
            if ep.ws not in batch.dead and (ep.concurrency is None or used[ep.ws] < ep.concurrency)
        ]
        s.dead = not room
        if room:
            s.endpoint = min(room, key=lambda ep: used[ep.ws])
