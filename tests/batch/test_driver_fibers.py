"""The Playwright internals agent.driver_fibers relies on (one driver, several greenlets): if an
upgrade changes them, this fails loudly here rather than a batch hanging or running a driver
per slot."""

from __future__ import annotations

import inspect

import greenlet
from playwright._impl import _greenlets
from playwright.sync_api import sync_playwright

from agent.driver_fibers import Fibers
from tests.helpers import in_thread


def test_wait_for_future_is_what_a_slot_waits_with():
    params = list(inspect.signature(_greenlets.wait_for_future).parameters)
    assert params == ["loop", "dispatcher_fiber", "future"]


def two_greenlets_on_one_driver() -> list[str]:
    """Two greenlets of one thread, each making sync calls and waiting on a future of its own;
    the second resolves the first's future: they interleave on one driver."""
    said: list[str] = []
    with sync_playwright() as p:
        f = Fibers(p)  # raises when _loop / _dispatcher_fiber are gone
        assert f.alive and isinstance(f.dispatcher, greenlet.greenlet)
        gate, done = f.future(), f.future()

        def call(who: str) -> None:  # a round trip to the driver, from this greenlet
            ctx = p.request.new_context(base_url="http://127.0.0.1:9")
            said.append(f"{who}: {ctx.storage_state()['cookies']}")
            ctx.dispose()

        def first() -> None:
            call("first")
            f.wait(gate)  # suspended here while the second runs
            said.append(f"first: resumed with {gate.result()}")
            done.set_result(None)

        def second() -> None:
            call("second")
            gate.set_result("go")

        for run in (first, second):
            f.spawn(run, slot=None)
        f.wait(done)
        assert f.off_thread(None, lambda: 6 * 7) == 42
    return said


def test_two_greenlets_share_one_driver():
    assert in_thread(two_greenlets_on_one_driver) == [
        "first: []",
        "second: []",
        "first: resumed with go",
    ]
