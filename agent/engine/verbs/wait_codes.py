"""wait_codes: the exchange's security verification, any factors in any order, until the
flow's `done` shows. A code the operator's sources give (TOTP secret, a command) is typed
by the agent; any other is the person's. A window that closes unfinished means submit
again (`Resubmit`); one the agent cannot read is the person's to finish, within a bound."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page

from agent.engine import keyboard
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one, vis
from agent.engine.flow import Codes, Loc, Step
from agent.engine.human import Need
from agent.engine.locate import Then
from agent.engine.press import NotActionable, with_hit
from agent.engine.pressing import press_in, waited
from agent.engine.refusals import error_text
from agent.engine.signals import Resubmit
from agent.engine.verbs.base import Verb, register
from agent.engine.waiting import wait_human
from agent.exitcodes import AgentError, Exit

# What the person is asked when the verification window shows no step the flow knows.
UNREAD_VERIFICATION = (
    "Please finish the security verification in the window yourself; the agent continues "
    "when it closes."
)


def act(ctx: Context, step: Step, cd: Codes) -> None:
    ctx.on_state("verifying-human")
    tries: dict[str, int] = {}
    placed = time.monotonic()  # when a factor (or the window) was last understood
    appeared = False  # the window (or the result) was seen
    ahead: list[bool] = []  # whether order[0] shows: asked by the look that saw a step end
    while True:
        dialog = ctx.find.union(cd.dialog).first
        # A factor showing in the dialog means the dialog shows: no separate look for it.
        # Those not yet shown are looked for first (the next step is usually a new one): a
        # look per factor already passed saved. The first one and the result: one look,
        # already made when the last factor's step ended (that look asked it too, and
        # nothing was done since).
        order = _order(ctx, cd)
        if ahead:
            shows, done = ahead.pop(), False
        else:
            shows, done, _ = ctx.find.looks(order[0][1], cd.done, dialog)
        if done:
            return
        if not (appeared or shows):  # not up yet: waited for, once (the look above is the
            # first, usually all it takes: the submit that opened it waited for it already)
            if not ctx.find.wait_any(cd.dialog + cd.done, ctx.opts.step_timeout):
                raise AgentError("the security verification did not appear", Exit.UI_NOT_UNDERSTOOD)
            appeared = True
            continue
        appeared = True
        ctx.guard_origin()  # between codes too: a redirect there is never typed into
        factor = order[0][0] if shows else None
        factor = factor or next((f for f, c in order[1:] if ctx.find.any_visible(c, dialog)), None)
        if factor is None and not ctx.find.any_visible(cd.dialog):
            raise Resubmit()
        if factor is None:
            ctx.find.wait_any(cd.done + [loc for c in cd.factors.values() for loc in c], 2)
            if not ctx.find.any_visible(cd.dialog) and not ctx.find.any_visible(cd.done):
                raise Resubmit()
            if time.monotonic() - placed > ctx.opts.step_timeout:
                # A window the agent cannot read (no factor, no result it knows): never an
                # endless loop; the person finishes it, within the human timeout.
                wait_human(
                    ctx,
                    Need("code", UNREAD_VERIFICATION),
                    lambda: ctx.find.any_visible(cd.done) or not ctx.find.any_visible(cd.dialog),
                    ctx.opts.human_timeout,
                )
                placed = time.monotonic()
            continue
        placed = time.monotonic()
        if factor not in ctx.out.factors:
            ctx.out.factors.append(factor)
        for hook in ctx.hooks.on_factor:
            hook(factor)
        if _one_factor(ctx, step, cd, factor, dialog, tries, ahead):
            return  # the result shows (seen by the look that saw the factor's step end)


def _order(ctx: Context, cd: Codes) -> list[tuple[str, list[Loc]]]:
    """The factors, those not yet passed first (the next step is usually a new one)."""
    return sorted(cd.factors.items(), key=lambda fc: fc[0] in ctx.out.factors)


def _one_factor(
    ctx: Context,
    step: Step,
    cd: Codes,
    factor: str,
    dialog: Locator,
    tries: dict[str, int],
    ahead: list[bool],
) -> bool:
    """One factor's code, typed or the person's; True: the result shows now. `ahead` gets
    whether the factor to look for next shows, asked by the look that saw the step end."""
    boxes = ctx.find.union(cd.boxes, dialog)
    say = cd.say.get(factor, f"Enter the {factor} code")
    check: Callable[[], None] | None = None  # the button click's guard read, if one is owed
    if ctx.opts.codes.automatic(factor):
        tries[factor] = tries.get(factor, 0) + 1
        if tries[factor] > 3:
            raise AgentError(f"the {factor} code was refused three times", Exit.HUMAN_TIMEOUT)
        code = ctx.opts.codes.get(factor, ctx.rep, cd.names.get(factor), ctx.opts.human_timeout)
        box = ctx.box(step, f"{factor} code entered by the agent")  # drawn as it is read back
        ctx.guard_origin()
        if not _sends(ctx, functools.partial(enter_code, boxes, code, box)):
            check = _submit_code(ctx, cd, dialog)
    else:
        ctx.mark(boxes.first, step, say, human=True)
        ctx.overlay.banner(say, "human")
    return _await_step_change(ctx, cd, factor, dialog, Need("code", say, factor), ahead, check)


def enter_code(boxes: Locator, code: str, box: Then | None = None) -> None:
    """Type the code as a person does: into the first box, the page moving focus along.

    Two round trips (the first box focused, the digits: agent.engine.keyboard), and one to
    read the boxes back (and draw `box`, the highlight, on the first); a page that does not
    move the focus on by itself gets each digit put in its own box. Boxes gone after the
    last digit mean the page took the code by itself: nothing more to type."""
    keyboard.type_in(boxes, code)
    shown = boxes.evaluate_all(
        "(els, a) => { const el = els[0]; if (el && a.then) { "
        f"{box.js if box else ''} }} return els.map(e => e.value) }}",
        {"then": box.arg if box else None},
    )
    if shown and "".join(shown) != code:
        for idx, digit in enumerate(code):
            boxes.nth(idx).fill(digit)


def _sends(ctx: Context, act: Callable[[], None]) -> bool:
    """Whether the page sent a request of its own while `act` ran (typing the sixth digit
    of a code that the page then submits by itself). The page's requests are followed from
    the first code on (one subscription for the run)."""
    if not ctx.requests:
        ctx.requests.append(0)

        def count(req: Any) -> None:
            if req.resource_type in ("fetch", "xhr"):
                ctx.requests[0] += 1

        ctx.page.on("request", count)
    before = ctx.requests[0]
    act()
    return ctx.requests[0] > before


def _submit_code(ctx: Context, cd: Codes, dialog: Locator) -> Callable[[], None] | None:
    """Click Continue/Confirm unless the page already took the code (no button, or the
    button disabled while it checks it): never a second submission of the same code. The
    click's guard read is handed back, for the wait for the factor's step to end to make
    only when nothing shows at once (agent.engine.pressing.waited)."""
    try:
        button = ctx.find.one(
            cd.submit, "the verification button", dialog, timeout=0, then=with_hit(None)
        )
        check = press_in(ctx, button, "the verification button", hit=ctx.find.then, later=True)
    except NotActionable as err:
        if err.why != "disabled":
            raise
        return None
    except AgentError:
        return None  # no button: the page goes on by itself
    if check is None:
        return None

    def read() -> None:
        try:
            check()
        except NotActionable as err:  # taken, and looked at again: disabled (being checked)
            if err.why != "disabled":
                raise

    return read


def _await_step_change(
    ctx: Context,
    cd: Codes,
    factor: str,
    dialog: Locator,
    need: Need,
    ahead: list[bool],
    check: Callable[[], None] | None = None,
) -> bool:
    """Until the factor's step is over; True: the result shows (the last look saw it). The
    last look also asks whether the factor to look for next shows, into `ahead`. `check`:
    the code's button click's guard read (`_submit_code`), owed if nothing shows at once."""
    seen_err = [""]
    result = [False]

    def changed() -> bool:
        # The factor's step gone covers the result shown and the dialog closed: one look
        # at both, and at the next factor (the caller's next look).
        shows, result[0], following = ctx.find.looks(
            cd.factors[factor], cd.done, dialog, also=_order(ctx, cd)[0][1]
        )
        ahead[:] = [following]
        if not shows or result[0]:
            return True
        err = error_text(ctx, cd.error)
        if err and err != seen_err[0]:
            seen_err[0] = err
            ctx.rep.warn(f"{factor}: {err}")
            if ctx.opts.codes.automatic(factor):
                return True
        return False

    if ctx.opts.codes.automatic(factor):
        # Wake on whatever comes next: the next factor's step, the result, or an error.
        others = [loc for f, c in cd.factors.items() if f != factor for loc in c]
        follows = cd.done + (cd.error or []) + others
        waited(check, lambda s, ok: ctx.find.wait_any(follows, s, landed=ok), ctx.opts.step_timeout)
        if changed():
            return result[0]
    wait_human(ctx, need, changed, ctx.opts.human_timeout)
    return result[0]


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    cd = step.wait_codes
    assert cd is not None
    factor = stage.removeprefix("verify-")
    dialog = one(page, cd.dialog, vars, "the verification dialog")
    if factor not in cd.factors:
        raise Fail(f"the flow knows no factor {factor!r} (knows {', '.join(cd.factors)})")
    shown = [
        f for f, cands in cd.factors.items() if any(vis(dialog, c, vars).count() for c in cands)
    ]
    counts = [
        f"{f}: {c.describe()} -> {vis(dialog, c, vars).count()} match(es)"
        for f, cands in cd.factors.items()
        for c in cands
    ]
    if not shown or shown[0] != factor:
        raise Fail(f"the dialog reads as factor {shown[0] if shown else 'none'!r}, expected {factor!r}",
                   counts)  # fmt: skip
    counted = [(c, vis(dialog, c, vars).count()) for c in cd.boxes]
    boxes = next((vis(dialog, c, vars) for c, n in counted if n >= 4), None)
    n = boxes.count() if boxes is not None else 0
    if boxes is None or n != 6 or not all(boxes.nth(i).is_editable() for i in range(n)):
        raise Fail(f"expected 6 editable code boxes, found {n}",
                   [f"{c.describe()} -> {k} match(es)" for c, k in counted])  # fmt: skip
    one(dialog, cd.submit, vars, "the verification button")
    return f"{factor} title, 6 code boxes, one button"


VERB = register(Verb("wait_codes", act, contract))
