"""check: a radio or checkbox that must end up on or off; a disabled one showing the other
state stops the run (not submitted), one the agent cannot press is the person's."""

from __future__ import annotations

from playwright.sync_api import Page

from agent.engine.audit import expect
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, resolve
from agent.engine.flow import Check, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.press import NotActionable, with_hit
from agent.engine.pressing import press_in
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit


def act(ctx: Context, step: Step, c: Check) -> None:
    on = c.state == "on"
    # Found, boxed, looked at and its tick read: one call.
    box = with_hit(ctx.box(step, "set by the agent"), checked=True)
    target = ctx.find.one(c.target, step.caption, then=box, tick=True)
    hit = ctx.find.then
    now = hit.get("checked") if isinstance(hit, dict) else None
    if (target.is_checked() if now is None else bool(now)) == on:  # as wanted: left alone
        expect(ctx, step.audit, on, lambda: read_back(ctx, step, c))
        return
    if hit and hit.get("state") == "disabled":
        raise AgentError(
            f"{step.caption}: fixed {'off' if on else 'on'}; not submitted",
            Exit.AUDIT_MISMATCH,
        )
    try:
        press_in(ctx, target, step.caption, hit=hit)
    except NotActionable as err:
        if not may_ask(ctx, err):
            raise
        ask_human(
            ctx,
            step,
            c.target,
            err,
            f"Please set “{ctx.what(c.target, step)}” {c.state} yourself.",
            lambda: target.is_checked() == on,
        )
    if target.is_checked() != on:
        raise AgentError(f"{step.caption}: could not set it {c.state}", Exit.AUDIT_MISMATCH)
    expect(ctx, step.audit, on, lambda: read_back(ctx, step, c))


def read_back(ctx: Context, step: Step, c: Check) -> bool:
    return ctx.find.one(c.target, step.caption, tick=True).is_checked()


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    ck = step.check
    assert ck is not None
    el, tried = resolve(page, ck.target, vars, tick=True)
    if el is None:
        raise Fail("no candidate gave exactly one visible radio/checkbox", tried)
    if el.is_disabled():
        raise Fail("the radio/checkbox is disabled", tried)
    if stage == "create-form" and el.is_checked() != (ck.state == "on"):
        raise Fail(f"the filled form shows it {'off' if ck.state == 'on' else 'on'}", tried)
    return "one enabled radio/checkbox"


VERB = register(Verb("check", act, contract))
