"""choose: make a select show exactly what is wanted (one value, or several tags) with every
`never` option off, read as a person reads the closed box. A select already right is left
alone; a disabled one showing anything else stops the run (or, for a later key's account,
turns the submission into one per key: `AccountFixed`). An option the list does not offer
(an unknown sub-account) is a stop, never the person's guess."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from agent.engine import engines, pagelib
from agent.engine.audit import expect
from agent.engine.context import Context, Vars
from agent.engine.contract import one
from agent.engine.engines import shows
from agent.engine.flow import Choose, Loc, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.locate import Look, Then, then_after
from agent.engine.permissions import list_texts
from agent.engine.press import DISABLED_JS, is_disabled, with_hit
from agent.engine.pressing import press_in, waited
from agent.engine.signals import AccountFixed, NoSuchOption
from agent.engine.verbs.base import Verb, register
from agent.engine.verbs.navigate import data_shown
from agent.exitcodes import AgentError, Exit


def _label(ctx: Context, ch: Choose, step: Step) -> str:
    return ctx.vars.sub(ch.label) if ch.label else ctx.what(ch.open, step)


def _select_shows(ctx: Context, box: Locator, ch: Choose, step: Step) -> list[str]:
    """What the closed select shows, piece by piece (its value, or its tags)."""
    return engines.shown(box, _label(ctx, ch, step))


def _options(ch: Choose, name: str) -> list[Loc]:
    """An option is in the list the select opened, whatever kind of candidate finds it: the
    engine says so (`popup`), so a role or class the box's own tags share never counts."""
    return [c.bind(option=name).model_copy(update={"popup": True}) for c in ch.option]


def _open_select(ctx: Context, box: Locator, ch: Choose, step: Step, names: list[str]) -> None:
    """Open the list (remembering what showed before, so its options are told apart from
    the box's own text) and wait for an option; a second click if the page was not ready."""
    every = [c for n in names for c in _options(ch, n)]
    for _ in range(2):
        check = press_in(ctx, box, f"{step.caption}: the select", before=engines.SNAP_JS,
                         later=True)  # fmt: skip
        if waited(
            check, lambda s, ok: ctx.find.wait_any(every, s, landed=ok), ctx.opts.step_timeout / 2
        ):
            return
        offered = ctx.page.locator("ob-popup=" + engines.body(text="/\\S/"))
        if offered.count():  # a list opened, without what is asked for: no one can pick it
            texts = [" ".join(t.split()) for t in offered.all_inner_texts()][:12]
            raise NoSuchOption(
                f"{step.caption}: the list offers no {' / '.join(names)!r} "
                f"(it shows: {', '.join(texts)})",
                Exit.UI_NOT_UNDERSTOOD,
            )
    raise AgentError(
        f"{step.caption}: the select shows no options after a click "
        f"(looked for {', '.join(names)})",
        Exit.UI_NOT_UNDERSTOOD,
    )


def _close_select(ctx: Context, ch: Choose, step: Step, names: list[str]) -> None:
    """Close the list as a person does: Escape, else a click on the field's label."""
    every = [c for n in names for c in _options(ch, n)]
    ctx.page.keyboard.press("Escape")
    if not ctx.find.any_visible(every):
        return
    label = ctx.find.visible(ctx.page, Loc(text=_label(ctx, ch, step), exact=True))
    if label.count():
        ctx.guard_origin()
        label.first.click()
    if ctx.find.any_visible(every):
        raise AgentError(f"{step.caption}: its list does not close", Exit.UI_NOT_UNDERSTOOD)


def _state(ctx: Context, box: Locator, ch: Choose, step: Step, names: list[str]) -> dict[str, bool]:
    shown = _select_shows(ctx, box, ch, step)
    return {n: shows(shown, n) for n in names}


def act(ctx: Context, step: Step, ch: Choose) -> None:
    want = [ctx.vars.sub(n) for n in ch.want]
    never = [ctx.vars.sub(n) for n in ch.never]
    names = want + never if ch.multiple else want[:1]
    target = {n: n in want for n in names}
    # Found, boxed, and what it shows and whether it is disabled read: one call. A select
    # already right is read once and left alone.
    read = then_after(
        ctx.box(step, "set by the agent"),
        f"{pagelib.OB} return [OB.shown(el, a.then.label), ({DISABLED_JS})(el)]",
        {"label": _label(ctx, ch, step)},
    )
    box = ctx.find.one(ch.open, step.caption, then=read)
    seen = ctx.find.then
    if isinstance(seen, list) and len(seen) == 2:
        got = {n: shows([str(x) for x in seen[0]], n) for n in names}
        disabled = bool(seen[1])
    else:
        got, disabled = _state(ctx, box, ch, step, names), is_disabled(box)
    if got == target:
        ctx.rep.info(f"{step.caption}: already shows {', '.join(want)}; left as it is")
    elif disabled:
        fixed = AccountFixed if ch.audit == "account" and ctx.draft > 0 else AgentError
        if ctx.separate:
            fixed = AgentError
        raise fixed(
            f"{step.caption}: the field is fixed and shows "
            f"{' '.join(_select_shows(ctx, box, ch, step)) or 'nothing'!r}, expected "
            f"{', '.join(want)!r}; not submitted",
            Exit.AUDIT_MISMATCH,
        )
    else:
        try:
            got = _set_select(ctx, box, ch, step, names, target, got)
        except AgentError as err:
            if not may_ask(ctx, err):
                raise
            say = f"Please choose {' and '.join(want)}" + (
                f" (never {', '.join(never)})" if never else ""
            ) + f" in “{_label(ctx, ch, step)}” yourself."  # fmt: skip
            ask_human(
                ctx, step, ch.open, err, say,
                lambda: _state(ctx, box, ch, step, names) == target,
            )  # fmt: skip
            got = _state(ctx, box, ch, step, names)
        if ch.loaded:
            data_shown(ctx, ch.loaded, step)
            got = _state(ctx, box, ch, step, names)  # after the page's reload of its data
    if got != target:
        raise AgentError(f"{step.caption}: reads back as {got}", Exit.AUDIT_MISMATCH)
    expect(ctx, step.audit, target, lambda: read_back(ctx, step, ch, names), _look(ctx, step, ch))


def _look(ctx: Context, step: Step, ch: Choose) -> Look:
    label = _label(ctx, ch, step)
    return Look(
        ch.open, then=Then(f"{pagelib.OB} return OB.shown(el, a.then.label)", {"label": label})
    )


def read_back(ctx: Context, step: Step, ch: Choose, names: list[str]) -> dict[str, bool]:
    """What the select shows, read in the call that finds it (before submit: one call)."""
    box = ctx.find.answer(_look(ctx, step, ch), step.caption)
    got = ctx.find.then
    if not isinstance(got, list):
        return _state(ctx, box, ch, step, names)
    return {n: shows([str(x) for x in got], n) for n in names}


def _set_select(
    ctx: Context,
    box: Locator,
    ch: Choose,
    step: Step,
    names: list[str],
    target: dict[str, bool],
    state: dict[str, bool],
) -> dict[str, bool]:
    """Click the options that differ from what the box shows (`state`, just read), close, read
    again; what it reads last."""
    for attempt in range(2):
        if attempt:
            state = _state(ctx, box, ch, step, names)
        todo = [n for n in names if state[n] != target[n]]
        if not todo:
            return state
        _open_select(ctx, box, ch, step, names)
        _all_drafts_offered(ctx, ch, step)
        if ch.audit == "permissions":  # what the list offers, for the engine's read-back
            ctx.offered[ctx.draft] = list_texts(ctx)
        for name in todo:
            if not ctx.find.any_visible(_options(ch, name)):
                _open_select(ctx, box, ch, step, names)  # a list that closes after each click
            option = ctx.find.one(_options(ch, name), f"the option {name!r}", then=with_hit(None))
            hit = ctx.find.then  # whether it is disabled, and where the pointer lands: one look
            if hit and hit.get("state") == "disabled":
                raise AgentError(
                    f"{step.caption}: {name!r} is fixed {'off' if target[name] else 'on'}; "
                    "not submitted",
                    Exit.AUDIT_MISMATCH,
                )
            press_in(ctx, option, f"the option {name!r}", hit=hit)
            if not ch.multiple and ch.loaded:
                break
        if ch.multiple or ctx.find.any_visible([c for n in names for c in _options(ch, n)]):
            _close_select(ctx, ch, step, names)
    return _state(ctx, box, ch, step, names)


def _all_drafts_offered(ctx: Context, ch: Choose, step: Step) -> None:
    """Several keys, each for its own value of this select (their accounts): all must be
    offered before any is made, so an unknown one stops the run before the first key."""
    if len(ctx.drafts) < 2 or ch.multiple:
        return
    values = {Vars(d).sub(w) for d in ctx.drafts for w in ch.want if "{" in w}
    missing = [v for v in sorted(values) if not ctx.find.any_visible(_options(ch, v))]
    if missing:
        raise NoSuchOption(
            f"{step.caption}: the list offers no {', '.join(map(repr, missing))}; nothing "
            "was submitted",
            Exit.UI_NOT_UNDERSTOOD,
        )


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    ch = step.choose
    assert ch is not None
    one(page, ch.open, vars, "the select to open")
    return "select found"


VERB = register(Verb("choose", act, contract))
