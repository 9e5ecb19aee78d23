"""What the page shows of its own (cookie banners, announcements): recognised by the flow,
said once, and left to the person to pass; a step it got in the way of is done again from
its start rather than handed over as a page the flow does not know."""

from __future__ import annotations

import functools
from typing import Any

from playwright.sync_api import Locator

from agent.engine.context import Context
from agent.engine.flow import Loc, Step
from agent.engine.human import Need
from agent.engine.locate import Rider
from agent.engine.waiting import wait_human
from agent.exitcodes import AgentError

# Steps that can be done again from their start: each reads what the page holds and changes
# only what differs. Not a submission, a code or a capture (each of those happens once).
REDOABLE = frozenset({"fill", "fill_chips", "choose", "check"})


def covering(ctx: Context) -> Locator | None:
    """Everything the flow knows can cover the page, as one locator."""
    every = [c for it in ctx.flow.interruptions for c in it.detect]
    return ctx.find.union(every) if every else None


def interrupted(ctx: Context) -> bool:
    """Whether something the flow knows can cover the page shows now."""
    shown = covering(ctx)
    return shown is not None and shown.count() > 0


def look_along(ctx: Context, js: str = "", arg: dict[str, Any] | None = None) -> None:
    """The look for anything covering the page (and `js`, a step's banner) carried by the
    next read of the page (agent.engine.locate.Rider): what shows is said and boxed then."""

    def seen(shown: bool) -> None:
        if shown:
            clear_interruptions(ctx, shown=True)

    ctx.find.ride(Rider(js, arg or {}, covering(ctx), seen))


def _gone(ctx: Context, cands: list[Loc]) -> bool:
    return not ctx.find.any_visible(cands)


def clear_interruptions(ctx: Context, blocking: bool = False, shown: bool = False) -> None:
    """Cookie banners, announcements: recognised, said, and left to the human to pass.

    Said once each, and waited for only when one is in the way (`blocking`: a click the
    agent must make lands on it). A banner at the foot of the page that covers nothing
    the agent needs does not stop an unattended run; the person may pass it any time.
    `shown`: a look just made (the step's first read) saw one; not looked for again."""
    if not shown and not interrupted(ctx):
        return  # one round trip on the usual page with nothing in the way
    for it in ctx.flow.interruptions:
        if not ctx.find.any_visible(it.detect):
            continue
        say = ctx.vars.sub(it.say)
        target = ctx.find.visible(ctx.page, it.detect[0]).first
        ctx.overlay.mark(target, "interruption", f"{say}", human=True)
        if say not in ctx.said_interruptions:
            ctx.said_interruptions.append(say)
            ctx.rep.info(f"the page shows something of its own: {say}")
        if not blocking:
            continue
        ctx.overlay.banner(say, "human")
        ctx.rep.info(f"it is in the agent's way: {say}")
        gone = functools.partial(_gone, ctx, it.detect)
        wait_human(ctx, Need("act", say), gone, ctx.opts.human_timeout)
        ctx.overlay.unmark("interruption")


def redoable(ctx: Context, step: Step) -> bool:
    redo = step.action in REDOABLE or bool(step.click and step.click.by == "agent")
    return redo and ctx.redone.get(ctx.n, 0) < 2


def may_redo(ctx: Context, step: Step) -> bool:
    """Whether a step that went wrong is done again instead: it can be, it has not been
    twice already, and something of the page's own shows (it may be why)."""
    return redoable(ctx, step) and interrupted(ctx)


def redo(ctx: Context, step: Step, n: int, total: int, caption: str) -> None:
    """The person passes what the page shows (the agent never closes it), then the step
    is done again from its start, not handed over as a page the flow does not know."""
    ctx.redone[n] = ctx.redone.get(n, 0) + 1
    ctx.rep.info(
        f"{caption}: the page showed something of its own meanwhile; once it is passed, the agent does this step again"
    )
    try:
        clear_interruptions(ctx, blocking=True)
    except AgentError as err:
        ctx.rep.step(n, total, caption, "failed", err.message)
        ctx.overlay.banner(f"Stopped: {err.message}", "error")
        raise
