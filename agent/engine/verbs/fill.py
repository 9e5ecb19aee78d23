"""fill: type a request value into a field, and read it back before submit (at once, for a
field the audit does not read).

A field the flow cannot find is the person's: a plain value they type themselves (confirmed
by exactly one field holding it); a secret (the passphrase) is never shown to be typed, so
they point at the field and the agent types it there."""

from __future__ import annotations

from playwright.sync_api import Page

from agent.engine import keyboard
from agent.engine.audit import expect
from agent.engine.context import Context, Vars
from agent.engine.contract import one
from agent.engine.flow import Fill, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.locate import Look, Then
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit

# The field the human put the cursor in, when the agent is to type there (a secret).
FOCUSED_FIELD_JS = """() => { const e = document.activeElement;
  return !!e && e.matches('input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea')
    && !e.disabled && !e.readOnly }"""


def act(ctx: Context, step: Step, f: Fill) -> None:
    value = ctx.vars.sub(f.value)
    by_value = False  # read back by what the page holds, not by finding the field again
    focused: object = None  # the field focused and selected by the look that found it
    try:
        target = ctx.field_to_fill(f.target, step, also=keyboard.FOCUS_TO_FILL)
        focused = ctx.find.then
    except AgentError as err:
        if not may_ask(ctx, err):
            raise
        if not f.secret:
            ask_human(
                ctx,
                step,
                f.target,
                err,
                f"Please type {value} into the field “{ctx.what(f.target, step)}” yourself.",
                lambda: inputs_holding(ctx.page, value) == 1,
            )
            expect_value(ctx, step, value)
            return
        # A secret is never shown to be typed: the human points at the field, the agent types.
        ask_human(
            ctx,
            step,
            f.target,
            err,
            f"Please click into the field “{ctx.what(f.target, step)}”; the agent types it for you.",
            lambda: bool(ctx.page.evaluate(FOCUSED_FIELD_JS)),
        )
        target, by_value = ctx.page.locator("*:focus"), True
    if f.secret:
        ctx.secret_targets.append(target)
    ctx.guard_origin()
    keyboard.fill(target, value, focused)
    # Read back at once unless the audit before submit reads it (one read, not two).
    if (by_value or not step.audit) and target.input_value() != value:
        raise AgentError(f"{step.caption}: the field did not take the value", Exit.AUDIT_MISMATCH)
    if by_value:
        expect_value(ctx, step, value)
    else:
        expect(ctx, step.audit, value, lambda: read_back(ctx, step, f), _look(f))


# The field's value, read in the call that finds it (the read-back before submit: one call).
VALUE = Then("return typeof el.value === 'string' ? el.value : null", {})


def _look(f: Fill) -> Look:
    return Look(f.target, editable=True, then=VALUE)


def read_back(ctx: Context, step: Step, f: Fill) -> str:
    field = ctx.find.answer(_look(f), step.caption)
    got = ctx.find.then
    return got if isinstance(got, str) else field.input_value()


def expect_value(ctx: Context, step: Step, value: str) -> None:
    """Read back by value: exactly one field on the page must hold it."""
    expect(ctx, step.audit, True, lambda: inputs_holding(ctx.page, value) == 1)


def inputs_holding(page: Page, value: str) -> int:
    """How many visible text fields hold exactly this value (drift confirmation by page state)."""
    return int(
        page.evaluate(
            """v => [...document.querySelectorAll('input, textarea')].filter(e =>
                 e.value === v && e.offsetParent !== null).length""",
            value,
        )
    )


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    f = step.fill
    assert f is not None
    one(page, f.target, vars, "the field", editable=True)
    return "one editable field"


VERB = register(Verb("fill", act, contract))
