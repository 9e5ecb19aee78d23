"""A click as a person makes it (agent.engine.press), on an allowed origin only, and once
more after the person passed an announcement that covered or took it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator

from agent.engine.context import Context
from agent.engine.interruptions import clear_interruptions, interrupted, redoable
from agent.engine.press import NotActionable, press
from agent.engine.signals import Interrupted


def press_in(
    ctx: Context, target: Locator, what: str, before: str = "", hit: dict[str, Any] | None = None
) -> None:
    """`hit`: the look at the element made as it was found (press.with_hit), for a click made
    right after; a second try looks again."""
    ctx.guard_origin()
    try:
        press(ctx.page, target, what, ctx.rep.info, ctx.opts.step_timeout, before, hit)
    except NotActionable as err:
        # Something the flow knows as an interruption shows (an announcement that came up
        # a moment ago covers the click or takes it): the person passes it, then the same
        # click once more. Disabled is the control's own state, whatever else shows.
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
