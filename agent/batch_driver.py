"""A warm batch's one driver thread: one sync Playwright, every slot a greenlet in it.

Why: a driver per slot was ~100 MB PSS each (a Node process), 4 of them at concurrency 4.
One sync Playwright serves them all when the slots are greenlets of its thread
(agent.driver_fibers); they share its browsers too (agent.warm.Driver.browser).

Entries reach a slot from the batch's thread through one thread-safe inbox; `give` wakes the
driver's loop (`call_soon_threadsafe`), which hands each entry to its slot's deque and
resolves the future the slot waits on. A slot waiting for its next entry is suspended on that
future, so the other slots run.

Blocking calls in a slot stall every slot while they last; what an entry does was audited:
- Playwright calls, page waits and the human waits (agent.engine.waiting waits in the page)
  yield to the other slots.
- Waits that can be long go to a worker thread through agent.warm.blocking and yield: the
  code commands (agent.engine.human, up to 120 s), the operator's typed code
  (agent.batch_board), the signed REST check after a store (agent.run_end), and the pool
  health check (agent.batch_slots).
- Short ones stay in the thread, and only stall the others briefly: the journal's sqlite
  writes (autocommit, one statement each: no transaction stays open across a Playwright call,
  so a suspended slot never holds sqlite's lock) and the vault's and exports' file writes
  under flock (agent.custody.vault, .formats): their locked blocks make no Playwright call,
  so a greenlet can never be suspended holding a lock another greenlet of this thread polls
  for; the one polling wait (recovery's exclusive lock) runs in the batch's thread before
  the slots start or in another process, never here.
- No time.sleep or polling loop runs in agent/engine outside Playwright waits.

If the driver dies, the dispatcher greenlet ends and the driver thread's own greenlet
resumes: every suspended slot is resumed, its pending call raises ("Playwright connection
closed"), its entry ends through the run's failure path; entries given afterwards fail at
once naming the dead driver (agent.warm.Driver.playwright). Nothing is retried: a dead driver
is no dead pool endpoint (agent.batch_slots.lost).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from agent import warm
from agent.roster import Entry

if TYPE_CHECKING:
    from agent.driver_fibers import Fibers, SlotGreenlet

CLOSE = -1  # the inbox's last item: every slot ends


class DriverThread:
    """`n` warm slots, each running `run(entry, index)` for its entries in turn."""

    def __init__(self, n: int, run: Callable[[Entry, int], None], before: Callable[[], None]):
        self.n, self._run, self._before = n, run, before
        self.driver = warm.Driver(n)
        self.inbox: queue.Queue[tuple[int, Entry | None]] = queue.Queue()
        self._queued: list[deque[Entry | None]] = [deque() for _ in range(n)]
        self._waiters: list[asyncio.Future[Any] | None] = [None] * n
        self._lock = threading.Lock()
        self._fibers: Fibers | None = None  # while the loop runs the slots
        self._ended = 0
        self._all_ended: asyncio.Future[Any] | None = None
        self.thread = threading.Thread(target=self._main, name="batch-driver", daemon=True)

    # -- the batch's thread ------------------------------------------------------------
    def give(self, index: int, entry: Entry | None) -> None:
        """`entry` to slot `index` (the slot is free); CLOSE, None: every slot ends."""
        self.inbox.put((index, entry))
        with self._lock:
            if self.thread.ident is None:
                if index == CLOSE:
                    return  # never started: nothing to stop
                self.thread.start()
            fibers = self._fibers
        if fibers is not None:
            try:
                fibers.call_soon_threadsafe(self._pump)
            except RuntimeError:
                pass  # the loop is closed: the thread reads the inbox itself

    def close(self, wait: float = 30.0) -> None:
        self.give(CLOSE, None)
        if self.thread.ident is not None:
            self.thread.join(wait)
        self.driver.executor.shutdown(wait=False, cancel_futures=True)

    # -- the driver thread -------------------------------------------------------------
    def _main(self) -> None:
        from playwright.sync_api import sync_playwright

        from agent.driver_fibers import Fibers

        try:
            self._before()
            pw = sync_playwright().start()
        except Exception as exc:
            self._dead(f"the batch's Playwright driver did not start ({exc})")
            return
        try:
            fibers = Fibers(pw)
        except RuntimeError as exc:  # Playwright's internals changed (agent.driver_fibers)
            pw.stop()
            self._dead(str(exc))
            return
        self.driver.pw, self.driver.fibers = pw, fibers
        self._all_ended = fibers.future()
        greenlets = [fibers.spawn(partial(self._slot, i), self.driver) for i in range(self.n)]
        with self._lock:
            self._fibers = fibers
        fibers.loop.call_soon(self._pump)  # what was given before the loop was known
        try:
            fibers.wait(self._all_ended)
        except Exception:
            self.driver.dead = "the batch's Playwright driver went away"
            self._after_death(greenlets)
        finally:
            self.driver.close_browsers()
            try:
                pw.stop()
            except Exception:
                pass  # the driver had died

    def _slot(self, index: int) -> None:
        """A slot's greenlet: its entries in turn until CLOSE; never raises."""
        try:
            while (e := self._next(index)) is not None:
                self._run(e, index)
        except BaseException:
            pass  # the driver went away while the slot waited: _after_death goes on
        finally:
            self._ended += 1
            done = self._all_ended
            if self._ended == self.n and done is not None and not done.done():
                done.set_result(None)

    def _next(self, index: int) -> Entry | None:
        q = self._queued[index]
        while not q:
            fibers = self._fibers
            if fibers is None:
                raise RuntimeError(self.driver.dead)  # resumed after the driver's death
            self._waiters[index] = fut = fibers.future()
            try:
                fibers.wait(fut)
            finally:
                self._waiters[index] = None
        return q.popleft()

    def _pump(self) -> None:
        """On the loop: the inbox's entries to their slots, each slot waiting woken."""
        while True:
            try:
                index, entry = self.inbox.get_nowait()
            except queue.Empty:
                return
            for i in range(self.n) if index == CLOSE else [index]:
                self._queued[i].append(entry)
                w = self._waiters[i]
                if w is not None and not w.done():
                    w.set_result(None)

    def _dead(self, why: str) -> None:
        self.driver.dead = why.splitlines()[0]
        self._after_death([])

    def _after_death(self, greenlets: list[SlotGreenlet]) -> None:
        """The driver is gone: the suspended slots resumed (their calls raise, their entries
        fail and are reported), then every entry still to come fails the same way, here."""
        from agent.driver_fibers import SlotGreenlet

        with self._lock:
            self._fibers = None
        for g in greenlets:
            if not g.dead:
                g.switch()  # returns here when it ends (its parent, the dispatcher, is dead)
        while True:
            index, entry = self.inbox.get()
            if index == CLOSE:
                return
            if entry is not None:
                g = SlotGreenlet(partial(self._run, entry, index))
                g.slot = self.driver
                g.switch()
