"""A warm batch: its one Playwright driver and that driver's browsers, shared by the slots and
kept across their entries.

Why: starting Playwright's driver (a Node process, ~100 MB PSS) and a Chromium for every
entry cost more CPU than the entry's own pages. A batch starts one driver for all its slots
(agent.batch_driver), and that driver one browser per way of starting it (this machine's
Chromium as launched, or one pool endpoint's, as connected to), shared by the slots: each
entry gets a fresh context (its own cookies and storage, its own renderer process, closed
when the entry ends) in it. A browser per slot was ~65 MB PSS more per slot (a browser and
a GPU process each; bench.batch_ab at concurrency 4: 905 against 708 MB) for nothing the
entries could not share: contexts are as separate in one browser as in two. It is over a
pipe to the driver, never a port another process could reach. A browser that goes away (crashed, its server died) is started again by the next
entry that needs it; the slots that were in it fail their entries as they would have.

Sync Playwright is bound to the thread that started it, so every slot is a greenlet of that
one driver thread (agent.driver_fibers says how and why that is sound). A slot's greenlet
carries the batch's Driver, which agent.session finds through the running greenlet
(`current`), so `agent.run.execute` needs no new
parameter and a run outside a batch stays as it was (a driver and browser of its own).

Slots share one thread: a call that blocks it stalls every slot. `blocking` runs such a call
(a code command, the operator's code, a signed REST check) in a worker thread while the
other slots go on; outside a slot it is a plain call.

Entries that open a client's persistent profile still launch their own browser (one user
data directory, one browser process), but through the batch's driver.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from agent.exitcodes import AgentError, Exit

if TYPE_CHECKING:
    import asyncio

    from playwright.sync_api import Browser, Playwright

    from agent.driver_fibers import Fibers

T = TypeVar("T")


class Driver:
    """The batch's running Playwright, its loop and its browsers; `dead` says why it is gone
    ("": it is not)."""

    def __init__(self, slots: int) -> None:
        self.pw: Playwright | None = None
        self.fibers: Fibers | None = None
        self.dead = ""
        self.browsers: dict[str, Browser] = {}
        self._starting: dict[str, asyncio.Future[None]] = {}  # a slot is starting that one
        self.registered = False  # the engines (agent.engine.engines) are on it
        # A blocking call per slot at most (a slot runs one entry at a time).
        self.executor = ThreadPoolExecutor(max(1, slots), thread_name_prefix="slot-blocking")

    @property
    def live(self) -> bool:
        return self.fibers is not None and self.fibers.alive and not self.dead

    def playwright(self) -> Playwright:
        if self.pw is None or self.dead:
            raise AgentError(
                self.dead or "the batch's Playwright driver is not running", Exit.FAILED
            )
        return self.pw

    def browser(self, key: str, start: Callable[[], Browser]) -> Browser:
        """The batch's browser for `key` (what was launched or connected to, and how); started
        when none is connected. Slots asking while another starts it wait for that one (a
        launch is several driver calls, during which the other slots run)."""
        assert self.fibers is not None  # a slot runs on the driver's loop
        while True:
            b = self.browsers.get(key)
            if b is not None and b.is_connected():
                return b
            starting = self._starting.get(key)
            if starting is None:
                break
            self.fibers.wait(starting)
        self._starting[key] = done = self.fibers.future()
        try:
            b = self.browsers[key] = start()
        finally:
            del self._starting[key]
            done.set_result(None)
        return b

    def close_browsers(self) -> None:
        for b in self.browsers.values():
            try:
                b.close()
            except Exception:
                pass  # already gone with its server, or with the driver
        self.browsers.clear()


def current() -> Driver | None:
    """The batch's driver, if the running greenlet is a warm batch slot."""
    import greenlet

    driver: Driver | None = getattr(greenlet.getcurrent(), "slot", None)
    return driver


def blocking(fn: Callable[[], T]) -> T:
    """`fn()`; in a warm slot, in a worker thread while the other slots run on."""
    driver = current()
    if driver is None or not driver.live:
        return fn()
    assert driver.fibers is not None
    return driver.fibers.off_thread(driver.executor, fn)
