"""Never more than read and trade: the engine's rule, whatever the flow's steps did.

Before any submit every permission the page offers is read as a person reads it (the ticks
beside each name, or the list a select opens and the tags its box shows); anything on that
was not requested (a withdrawal, whatever the site calls it) is switched off by the engine, and
what was requested must read on. The flow says only what the site calls read and trade and
where the widget is (`permissions`, `permission_field`)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator

from agent.engine import engines, pagelib
from agent.engine.context import Context
from agent.engine.engines import shows
from agent.engine.flow import REQUESTED, Loc
from agent.engine.locate import Look, Then
from agent.engine.pressing import press_in
from agent.exitcodes import AgentError, Exit


def _among(name: str, labels: list[str]) -> bool:
    return any(" ".join(name.split()).lower() == " ".join(x.split()).lower() for x in labels)


def widget_look(ctx: Context) -> Look:
    """The permission widget, and what it shows read in the same call (`_state`'s reading)."""
    label = ctx.flow.permission_field
    cands = [Loc(field=label), Loc(role="combobox", name=label, exact=True)]
    return Look(cands, then=Then(f"{pagelib.OB} {_READ_JS}", _read_arg(label)))


def _widget(ctx: Context) -> tuple[Locator, Any]:
    label = ctx.flow.permission_field
    look = widget_look(ctx)
    box = ctx.find.answer(look, f"the {label!r} field", timeout=ctx.opts.step_timeout / 3)
    return box, ctx.find.then


def _close_list(ctx: Context, label: str, opened: bool = True) -> None:
    """Escape, else a click on the field's label (a list that Escape leaves open)."""
    ctx.page.keyboard.press("Escape")
    if opened and list_open(ctx):
        ctx.guard_origin()
        ctx.find.visible(ctx.page, Loc(text=label, exact=True)).first.click()


# The ticks in the field's area (ob-area, from the box `el`), else what the box shows
# (a Then's script: its arg is `a.then`).
_READ_JS = (
    "const area = OB.engines['ob-area'].queryAll(el, a.then.body); "
    "const t = area.length === 1 ? OB.ticks(area[0]) : []; "
    "return [t, t.length ? [] : OB.shown(el, a.then.label)]"
)


def _read_arg(label: str) -> dict[str, str]:
    return {"body": engines.body(label=label), "label": label}


def _state(ctx: Context, box: Locator, read: Any = None) -> dict[str, bool]:
    """Every permission the page offers, and whether it is on. `read`: _READ_JS's answer when
    it came with the box (_widget), else read now: one call."""
    label = ctx.flow.permission_field
    if not (isinstance(read, list) and len(read) == 2):
        read = pagelib.evaluate_all(
            box,
            f"(els, a) => {{ {pagelib.OB} const el = els[0]; if (!el) return [[], []]; "
            f"{_READ_JS} }}",
            {"then": _read_arg(label)},
        )
    ticks, shown = read
    if ticks:
        return {str(t["text"]): bool(t["checked"]) for t in ticks if t["text"]}
    tags = [str(x) for x in shown or []]
    # The list as the flow's step saw it open in this form, else opened now. (A tag shown
    # now that the list did not offer counts as on, below: nothing hides behind a cache.)
    offered = ctx.offered.get(ctx.draft) or open_list(ctx, box, label)
    if ctx.draft not in ctx.offered:
        _close_list(ctx, label, opened=bool(offered))
    state = {o: shows(tags, o) for o in offered}
    # A tag that is no option offered (a name the list does not show): on, and unknown.
    for piece in tags:
        if re.search(r"[^\W\d_]", piece) and not any(shows([piece], o) for o in offered):
            state[piece] = True
    return state


def _press_not_submit(ctx: Context, target: Locator, what: str, before: str = "") -> None:
    """A click of the read-back: it changes permissions only. If what it is about to click
    is the form's submit button (the flow's submit step finds it, or it holds or sits inside
    it), whatever led there (a page laid out so the widget was misread), it stops instead:
    nothing is submitted before the read-back has ended."""
    subs = [c for s in ctx.flow.steps if s.click and s.click.by == "submit" for c in s.click.target]
    handle = target.element_handle(timeout=ctx.opts.step_timeout * 1000) if subs else None
    if handle is not None:
        try:
            hit = ctx.find.union(subs).evaluate_all(
                "(els, t) => els.some(e => e === t || e.contains(t) || t.contains(e))", handle
            )
        finally:
            handle.dispose()
        if hit:
            raise AgentError(
                f"{what}: the read-back before submit would click the form's submit button; "
                "stopped with nothing submitted",
                Exit.UI_NOT_UNDERSTOOD,
            )
    press_in(ctx, target, what, before)


def open_list(ctx: Context, box: Locator, label: str) -> list[str]:
    """Open a select and read every option its list shows (empty when none shows)."""
    _press_not_submit(ctx, box, f"the {label!r} list", before=engines.SNAP_JS)
    if not ctx.find.wait_any([Loc(text="/\\S/", popup=True)], ctx.opts.step_timeout / 2):
        return []
    return list_texts(ctx)


def list_texts(ctx: Context) -> list[str]:
    """Every text in the list that opened (its options), in page order."""
    texts = ctx.page.locator("ob-popup=" + engines.body(text="/\\S/")).all_inner_texts()
    return list(dict.fromkeys(" ".join(t.split()) for t in texts if t.strip()))


def list_open(ctx: Context) -> bool:
    return ctx.find.any_visible([Loc(text="/\\S/", popup=True)])


def keep_only_requested(ctx: Context, prefix: str = "") -> list[str]:
    """Switch off whatever is on unrequested, then read again. Problems, one line each
    (none: exactly as requested)."""
    want = [ctx.flow.permissions[k] for k in REQUESTED]
    label = ctx.flow.permission_field
    try:
        box, read = _widget(ctx)
        state = _state(ctx, box, read)
        for name in [n for n, on in state.items() if on and not _among(n, want)]:
            ctx.rep.warn(f"{prefix}{label}: {name!r} was on; the agent switches it off")
            _switch_off(ctx, box, name)
        if any(on and not _among(n, want) for n, on in state.items()):
            state = _state(ctx, box)
    except AgentError as err:
        return [f"{prefix}{label}: could not be read back from the page ({err.message})"]
    problems = [f"{prefix}{label}: {n!r} is on" for n, on in state.items()
                if on and not _among(n, want)]  # fmt: skip
    for w in want:
        got = [on for n, on in state.items() if _among(n, [w])]
        if not got:
            problems.append(f"{prefix}{label}: the page offers no {w!r}")
        elif not any(got):
            problems.append(f"{prefix}{label}: {w!r} is off")
    offered = ", ".join(f"{n} {'on' if on else 'off'}" for n, on in state.items())
    ctx.out.audit[f"{prefix}every permission offered".strip()] = "MISMATCH" if problems else "ok"
    if ctx.art:
        ctx.art.log("permissions", offered=offered, problems=problems)
    return problems


def _switch_off(ctx: Context, box: Locator, name: str) -> None:
    label = ctx.flow.permission_field
    area = box.locator("ob-area=" + engines.body(label=label))
    scope = area if area.count() == 1 else ctx.page
    tick = ctx.find.visible(scope, Loc(field=name), tick=True)
    if tick.count() == 1:
        _press_not_submit(ctx, tick, f"{name!r}")
        return
    open_list(ctx, box, label)
    option = ctx.find.one([Loc(text=name, exact=True, popup=True)], f"the option {name!r}")
    _press_not_submit(ctx, option, f"the option {name!r}")
    _close_list(ctx, label)
