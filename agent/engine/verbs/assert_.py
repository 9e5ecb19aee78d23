"""assert: the page shows (`present`, near the request's own texts) or does not show
(`absent`) something, else the run stops with the flow's message and exit code (a key
with this label exists already: the exchange would refuse it)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one, vis
from agent.engine.flow import Assert, Step
from agent.engine.locate import Then
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit

# The text around `el` (up to 8 levels up) that holds every wanted text, or null.
_NEAR_JS = """(el, wanted) => { let n = el; for (let d = 0; n && d < 8; d++, n = n.parentElement) {
     const t = n.innerText || ''; if (wanted.every(w => t.includes(w))) return t; } return null; }"""

_CODES = {"exchange_refused": Exit.EXCHANGE_REFUSED, "verify_failed": Exit.VERIFY_FAILED}


def _near(el: Locator, a: Assert, vars: Vars) -> list[str] | None:
    """The texts that must show around `el`, or None when they do."""
    wanted = [w for item in a.near for w in vars.sub_list(item)]
    return None if el.evaluate(_NEAR_JS, wanted) is not None else wanted


def _near_and_mark(el: Locator, a: Assert, vars: Vars, box: Then | None) -> bool:
    """Whether the wanted texts show around `el`; if so it is boxed, in the same call."""
    wanted = [w for item in a.near for w in vars.sub_list(item)]
    return bool(
        el.evaluate_all(
            f"(els, a) => {{ const el = els[0]; if (!el) return false; "
            f"const ok = ({_NEAR_JS})(el, a.wanted) !== null; "
            f"if (ok && a.then) {{ {box.js if box else ''} }} return ok; }}",
            {"wanted": wanted, "then": box.arg if box else None},
        )
    )


def act(ctx: Context, step: Step, a: Assert) -> None:
    msg = ctx.vars.sub(a.message)
    code = _CODES.get(a.code, Exit.UI_NOT_UNDERSTOOD)
    if a.absent is not None and ctx.find.any_visible([a.absent]):
        raise AgentError(msg, code)
    if a.present is not None:
        if not ctx.find.wait_any([a.present], ctx.opts.step_timeout):
            raise AgentError(msg, code)
        el = ctx.find.visible(ctx.page, a.present).first
        if not _near_and_mark(el, a, ctx.vars, ctx.box(step, "confirmed")):
            raise AgentError(msg, code)
        ctx.listed += 1
        ctx.out.listed = ctx.listed >= max(1, len(ctx.drafts))


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    a = step.assert_
    assert a is not None
    if a.absent is not None:
        n = vis(page, a.absent, vars).count()
        if n:
            raise Fail(f"`absent` matches {n} element(s) on this recorded page",
                       [f"{a.absent.describe()} -> {n} match(es)"])  # fmt: skip
    if a.present is not None:
        el = one(page, [a.present], vars, "`present`")
        missing = _near(el, a, vars)
        if missing is not None:
            raise Fail(f"`present` found, but not near {missing}")
    return "assertion locators behave"


VERB = register(Verb("assert_", act, contract))
