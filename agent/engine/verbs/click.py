"""click: by the agent, or by the person (`human`, and `submit` unless --auto-submit).

A submit is the one click that cannot be taken back, so before it the engine reads the
whole form back (agent.engine.audit) and stops on any difference. A click the agent cannot
make (no match, several, covered, no effect) is the person's, shown where; the step is done
once what follows the click (`until`) shows. The site's refusal is read and said."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page

from agent.engine.audit import audit
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, clickable, resolve
from agent.engine.flow import Click, Loc, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.human import Need
from agent.engine.press import NotActionable, with_hit
from agent.engine.pressing import press_in, waited
from agent.engine.refusals import error_text, errors_gone
from agent.engine.signals import SessionLost
from agent.engine.verbs.base import Verb, register
from agent.engine.waiting import wait_human
from agent.exitcodes import AgentError, Exit


def _submitted_at_browser(ctx: Context, step: Step, when: str) -> None:
    """Someone at the browser submitted before (or during) the agent's read-back: the
    verification is open. Carry on (the key must be captured); what the exchange shows is
    checked afterwards."""
    ctx.rep.warn(
        f"{step.caption}: the form was submitted at the browser {when}; the agent carries on "
        "and checks what the exchange shows"
    )
    ctx.on_state("filled")
    ctx.on_state("submitted")


def act(ctx: Context, step: Step, c: Click) -> None:
    if c.by == "submit":
        try:
            if audit(ctx, submitted=c.until):  # looked for in the audit's first call
                _submitted_at_browser(ctx, step, "before the agent read it back")
                return
        except AgentError:
            if not (c.until and ctx.find.any_visible(c.until)):
                raise
            _submitted_at_browser(ctx, step, "during the agent's read-back")
            return
        ctx.on_state("filled")
    agent_clicks = c.by == "agent" or (c.by == "submit" and ctx.opts.auto_submit)
    box = (
        ctx.box(step, "clicked by the agent")
        if agent_clicks
        else ctx.box(step, "your turn", human=True)
    )
    try:
        target = ctx.find.one(c.target, step.caption, then=with_hit(box) if agent_clicks else box)
    except AgentError as err:
        if c.by != "agent" or not c.until or not may_ask(ctx, err):
            raise
        human_clicks(ctx, step, c, err)
        return
    if c.by == "submit":
        ctx.on_state("submitted")  # from here a key may exist that only this run can capture
    if agent_clicks:
        _agent_clicks(ctx, step, c, target, ctx.find.then)
        return
    say = ctx.vars.sub(c.say or f"Please click: {step.caption}")
    ctx.overlay.banner(say, "human")
    seen_error = [""]

    def done() -> bool:
        if ctx.on_login_page() or (c.until and ctx.find.any_visible(c.until)):
            return True
        err = error_text(ctx, c.errors)
        if err and err != seen_error[0]:
            seen_error[0] = err
            ctx.rep.warn(f"the exchange says: {err} (click again when ready)")
        return False

    wait_human(ctx, Need("submit", say), done, ctx.opts.human_timeout)
    if ctx.on_login_page():
        raise SessionLost()


def _agent_clicks(
    ctx: Context, step: Step, c: Click, target: Locator, hit: dict[str, Any] | None = None
) -> None:
    """`hit`: where the pointer would land, looked at as the target was found; used for the
    first click only when no highlight was held in between (the page had no time to move)."""
    if ctx.opts.pace > 0:
        ctx.overlay.settle()
        hit = None
    for attempt in range(3):
        try:
            # The guard's read rides the wait for what follows (agent.engine.pressing.waited).
            check = press_in(ctx, target, step.caption, hit=hit if attempt == 0 else None,
                             later=bool(c.until))  # fmt: skip
            took = not c.until or _until_or_error(ctx, c, ctx.opts.step_timeout, check)
        except NotActionable as err:
            if c.by != "agent" or not c.until or not may_ask(ctx, err):
                raise
            human_clicks(ctx, step, c, err)
            return
        if not c.until:
            return
        if took:
            ctx.page.wait_for_load_state("load")  # the page's scripts, not just its HTML
            return
        if ctx.on_login_page():
            raise SessionLost()
        if attempt < 2 and c.by == "submit":
            ctx.rep.warn("the exchange refused the submission; trying once more")
            # Let the refusal's message go first, so the next one read is new.
            errors_gone(ctx, c.errors)
            continue
        break
    stuck = AgentError(f"{step.caption}: nothing happened after the click", Exit.UI_NOT_UNDERSTOOD)
    if c.by != "agent" or not may_ask(ctx, stuck):
        raise stuck
    human_clicks(ctx, step, c, stuck)


def human_clicks(ctx: Context, step: Step, c: Click, err: AgentError) -> None:
    """A click the agent cannot make (no match, several, covered, disabled, no effect):
    the human makes it; the step is done when what follows the click shows."""
    until = c.until or []
    ask_human(
        ctx,
        step,
        c.target,
        err,
        f"Please click “{ctx.what(c.target, step)}” yourself (it may look different).",
        lambda: ctx.find.any_visible(until),
    )
    ctx.page.wait_for_load_state("load")


def _until_or_error(
    ctx: Context, c: Click, timeout: float, check: Callable[[], None] | None = None
) -> bool:
    """Whether the click took effect; a refusal is said, and stops the run unless it is a
    submission the site may take on a second try (the flow's `final` says which are not).
    `check`: the click's guard read (press_in), owed until the wait sees what follows *and*
    the click landed (agent.engine.pressing.waited: a dialog that came up over the button
    and took the click would be `until` too)."""
    cands: list[Loc] = list(c.until or []) + list(c.errors or [])
    deadline = time.monotonic() + timeout

    def wait(seconds: float, landed: bool = False) -> bool:
        left = max(deadline - time.monotonic(), 0.01)
        return ctx.find.wait_any(cands, min(seconds, left), landed=landed)

    # In slices of a second, the login page looked for between them; the first slice also
    # settles the click's guard read.
    seen = waited(check, wait, 1.0)
    while not seen and not ctx.on_login_page() and time.monotonic() < deadline:
        seen = wait(1.0)
    # Without refusals to tell apart, what the wait saw is `until`: no second look for it.
    if c.until and ((seen and not c.errors) or ctx.find.any_visible(c.until)):
        return True
    err = error_text(ctx, c.errors)
    if err:
        ctx.rep.warn(f"the exchange says: {err}")
        if c.by != "submit":
            raise AgentError(f"the exchange refused: {err}", Exit.EXCHANGE_REFUSED)
        if c.final and re.search(c.final, err, re.I):
            raise AgentError(f"the exchange refused: {err}", Exit.EXCHANGE_REFUSED)
        ctx.find.wait_any([Loc(css="body")], 0.1)
    return False


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    c = step.click
    assert c is not None
    el, tried = resolve(page, c.target, vars)
    if el is None:
        raise Fail("no candidate gave exactly one visible element to click", tried)
    clickable(el, "the click target", tried)
    return "one enabled clickable target"


VERB = register(Verb("click", act, contract))
