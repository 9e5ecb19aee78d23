"""Several batch slots on ONE sync Playwright driver: each slot is a greenlet of its thread.

Why: a sync Playwright (one Node driver process, ~100 MB PSS) is bound to the thread that
started it, so a batch whose slots were threads ran one driver per slot. Within its thread,
though, the sync API is greenlet based: a call makes a task on the driver's asyncio loop and
switches to the loop's "dispatcher" greenlet until the task is done, which switches back
(playwright/_impl/_greenlets.py `wait_for_future`, _sync_base.py `SyncBase._sync`). So any
greenlet of that thread may make sync calls, and while one waits the others run.

A slot needs three things the public API does not give: the driver's loop and dispatcher
greenlet (the `_loop` and `_dispatcher_fiber` of every sync API object) and
`wait_for_future`, to wait without blocking the thread on a future of our own (the slot's
next entry, a blocking call done in a worker thread). They are Playwright internals, so they
are used here and nowhere else; tests/batch/test_driver_fibers.py fails loudly when an
upgrade changes them (checked with playwright 1.65.2).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, TypeVar

import greenlet

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

T = TypeVar("T")


class SlotGreenlet(greenlet.greenlet):  # type: ignore[misc]
    """A batch slot's greenlet; `slot` (the batch's agent.warm.Driver) is what
    agent.warm.current() answers inside it."""

    slot: Any = None


class Fibers:
    """The loop and dispatcher of one running sync Playwright, for the greenlets of its thread."""

    def __init__(self, pw: Playwright) -> None:
        from playwright._impl._greenlets import wait_for_future

        loop = getattr(pw, "_loop", None)
        fiber = getattr(pw, "_dispatcher_fiber", None)
        if not isinstance(loop, asyncio.AbstractEventLoop) or not isinstance(
            fiber, greenlet.greenlet
        ):
            raise RuntimeError(
                "this Playwright has no _loop / _dispatcher_fiber: agent.driver_fibers "
                "needs updating for it (or run the batch with ONBOARD_BATCH_COLD=1)"
            )
        self.loop: asyncio.AbstractEventLoop = loop
        self.dispatcher: greenlet.greenlet = fiber
        self._wait_for_future = wait_for_future

    @property
    def alive(self) -> bool:
        """False once the driver went away (its dispatcher greenlet ends with the connection)."""
        return not self.dispatcher.dead

    def spawn(self, run: Callable[[], None], slot: Any) -> SlotGreenlet:
        """A greenlet running `run` on the loop (started on the loop's next turn); when it
        ends, control goes back to the dispatcher, as for Playwright's own callbacks. `run`
        must not raise: an exception would surface in the dispatcher."""
        g = SlotGreenlet(run, parent=self.dispatcher)
        g.slot = slot
        self.loop.call_soon(g.switch)
        return g

    def future(self) -> asyncio.Future[Any]:
        return self.loop.create_future()

    def wait(self, fut: asyncio.Future[Any]) -> None:
        """Suspend the calling greenlet (of the driver's thread) until `fut` is done; the other
        greenlets run meanwhile. Raises Playwright's TargetClosedError when the driver is gone."""
        self._wait_for_future(self.loop, self.dispatcher, fut)

    def call_soon_threadsafe(self, fn: Callable[[], None]) -> None:
        """`fn` on the loop, from any thread (RuntimeError when the loop is closed)."""
        self.loop.call_soon_threadsafe(fn)

    def off_thread(self, executor: Executor, fn: Callable[[], T]) -> T:
        """`fn()` in a worker thread while the calling greenlet waits for it and the others run."""
        fut = self.loop.run_in_executor(executor, fn)
        self.wait(fut)
        return fut.result()
