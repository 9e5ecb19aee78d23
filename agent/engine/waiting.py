"""Waiting for the person at the browser: bounded, and re-reading the page on each of its
events (or each second) rather than sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Error as PWError

from agent.engine.context import Context
from agent.engine.human import Need
from agent.exitcodes import AgentError, Exit

# Wakes on the next page event (navigation, DOM change) or after a second.
_NEXT_EVENT_JS = (
    "() => new Promise(r => { const o = new MutationObserver(() => { o.disconnect(); r(true); });"
    " o.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});"
    " setTimeout(() => { o.disconnect(); r(true); }, 1000); })"
)


def wait_human(ctx: Context, need: Need, done: Callable[[], bool], limit: float) -> None:
    """Bounded wait for a person, re-checking page state on each page event or second."""
    start = time.monotonic()
    try:
        while not done():
            elapsed = time.monotonic() - start
            if elapsed > limit:
                blocker = _in_the_way(ctx, need)
                raise AgentError(
                    f"timed out after {int(limit)} s waiting for the human: {need.say}"
                    + (f" (in the way: {blocker})" if blocker else ""),
                    Exit.HUMAN_TIMEOUT,
                )
            ctx.rep.waiting(need.say, elapsed, limit)
            ctx.overlay.reapply()  # the page the person looks at says what is awaited
            if ctx.stand_in:
                ctx.stand_in.act(ctx.page, need)
            try:
                ctx.page.wait_for_function(_NEXT_EVENT_JS, timeout=5000)
            except PWError:
                pass  # navigation tore the context down: re-check
    finally:
        ctx.rep.done_waiting()


def _in_the_way(ctx: Context, need: Need) -> str:
    """What the page shows of its own (an announcement over the verification window) when
    a wait for something else ends: the stop names it, not only the step it blocked."""
    for it in ctx.flow.interruptions:
        say = ctx.vars.sub(it.say)
        if say != need.say and ctx.find.any_visible(it.detect):
            return say
    return ""
