"""A click as a person makes it (agent.engine.press), on an allowed origin only, and once
more after the person passed an announcement that covered or took it.

A click whose caller waits for its effect next (a form that opens, the verification's next
step, a select's options) hands its guard's read back (`press_in(later=True)`), and the
wait (`waited`) looks at the guard in the page as it looks for the effect: the effect shown
and the click landed ends it, a round trip fewer per such click. Otherwise, after the first
second, the read is made and says what it would have said right after the click (taken by
something else: made again with Playwright's checks, or refused)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator

from agent.engine.context import Context
from agent.engine.interruptions import clear_interruptions, interrupted, redoable
from agent.engine.press import NotActionable, press
from agent.engine.signals import Interrupted

# How long a click's effect is waited for before its guard is read (`waited`).
FIRST_WAIT_S = 1.0


def press_in(
    ctx: Context,
    target: Locator,
    what: str,
    before: str = "",
    hit: dict[str, Any] | None = None,
    later: bool = False,
) -> Callable[[], None] | None:
    """`hit`: the look at the element made as it was found (press.with_hit), for a click made
    right after; a second try looks again. `later`: the guard's read handed back, for `waited`
    (None when there is none to make)."""
    ctx.guard_origin()
    pending: list[Callable[[], None]] = []
    log, timeout = ctx.rep.info, ctx.opts.step_timeout
    _passing(ctx, target, what, before, lambda: press(
        ctx.page, target, what, log, timeout, before, hit, later=pending if later else None
    ))  # fmt: skip
    if not pending:
        return None
    return lambda: _passing(ctx, target, what, before, pending[0])


def _passing(
    ctx: Context, target: Locator, what: str, before: str, act: Callable[[], None]
) -> None:
    """`act` (the click, or its guard's read); when it is refused because something the
    flow knows as an interruption shows (an announcement that came up a moment ago covers
    the click or takes it): the person passes it, then the same click once more. Disabled
    is the control's own state, whatever else shows."""
    try:
        act()
    except NotActionable as err:
        if err.why == "disabled" or not interrupted(ctx):
            raise
        clear_interruptions(ctx, blocking=True)
        ctx.guard_origin()
        try:
            press(ctx.page, target, what, ctx.rep.info, ctx.opts.step_timeout, before)
        except NotActionable:
            # The page moved on meanwhile (the list it was in closed): the step again.
            if ctx.step is None or not redoable(ctx, ctx.step):
                raise
            raise Interrupted() from None


def waited(
    check: Callable[[], None] | None, wait: Callable[[float, bool], bool], timeout: float
) -> bool:
    """`wait(seconds, landed)` for a click's effect, up to `timeout` in all. While the click's
    guard read (`check`, from press_in) is owed, the wait is for the effect shown *and* the
    click landed (`landed`: Resolver.wait_any's, one look at both): an effect that showed
    anyway (a dialog that came up over the button and took the click is a dialog too) is no
    proof. Nothing so within FIRST_WAIT_S: the read is made, then the rest of the wait."""
    if check is None:
        return wait(timeout, False)
    start = time.monotonic()
    if wait(min(FIRST_WAIT_S, timeout), True):
        return True
    check()
    left = timeout - (time.monotonic() - start)
    return left > 0 and wait(left, False)
