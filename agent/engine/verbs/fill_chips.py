"""fill_chips: an allowlist of addresses entered one by one into an input that turns each
into a chip. The chips are read as a person reads them (the addresses shown around the
input, up to its label), compared canonically; one not requested is removed by its own
close control, or the run stops (not submitted)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from agent.engine import engines, keyboard, pagelib
from agent.engine.audit import expect
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one
from agent.engine.flow import FillChips, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.locate import Look, Then
from agent.engine.pressing import press_in
from agent.engine.refusals import error_text
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit
from agent.ips import canonical

_KEYS = {"enter": "Enter", "comma": ",", "space": " "}


def shown_ips(area: Locator, raw: bool = False) -> list[str]:
    """The IP addresses an allowlist's chips show in `area`, as a person reads them (a close
    glyph, an icon or spacing around an address is ignored): canonical and sorted, or with
    `raw` as written, in page order (one per chip, as its close controls are ordered)."""
    texts = pagelib.evaluate_all(
        area.locator("ob-chips={}"),
        f"els => {{ {pagelib.OB} return els.map(e => OB.ipOf(e.innerText)) }}",
    )
    found = [str(t) for t in texts if t]
    if raw:
        return found
    return _canonical(found)


def _canonical(texts: list[str]) -> list[str]:
    return sorted({canonical(t) or t for t in texts})


def _wanted(vars: Vars, fc: FillChips) -> list[str]:
    return _canonical(vars.sub_list(fc.values))


def _area_label(ctx: Context, fc: FillChips) -> str | None:
    label = fc.label or next((c.field for c in fc.input if c.field), None)
    return ctx.vars.sub(label) if label else None


def chip_area(ctx: Context, box: Locator, fc: FillChips) -> Locator:
    """Where the field's chips show: around its input, up to its label (else the page)."""
    label = _area_label(ctx, fc)
    if label:
        area = box.locator("ob-area=" + engines.body(label=label))
        if area.count() == 1:
            return area
    return ctx.page.locator("body")


def act(ctx: Context, step: Step, fc: FillChips) -> None:
    want = _wanted(ctx.vars, fc)
    label = _area_label(ctx, fc)
    body = engines.body(label=label)
    arg = {"label": label, "body": body}
    try:  # found, boxed, its chips read and the field focused to type in: one call
        box = ctx.field_to_fill(fc.input, step, also=Then(AREA_CHIPS_FOCUS_JS, arg))
    except AgentError as err:
        if not may_ask(ctx, err):
            raise
        page_chips = ctx.page.locator("body")
        ask_human(
            ctx,
            step,
            fc.input,
            err,
            f"Please enter these IP addresses yourself: {', '.join(want)}.",
            lambda: shown_ips(page_chips) == want,
        )
        expect(ctx, step.audit, want, lambda: shown_ips(page_chips))
        return
    seen = ctx.find.then  # read once: what is there already is not typed again
    focused = seen[2] if isinstance(seen, list) and len(seen) == 3 else None
    if isinstance(seen, list) and len(seen) == 3:
        area = box.locator("ob-area=" + body) if seen[0] else ctx.page.locator("body")
        shown = _canonical([str(t) for t in seen[1] if t])
    else:
        area = chip_area(ctx, box, fc)
        shown = shown_ips(area)
    for ip in shown:
        if ip in want:
            continue  # already there: left alone
        close = area.locator("ob-chips=" + engines.body(close=True))
        chips = shown_ips(area, raw=True)
        at = [canonical(c) for c in chips].index(ip)
        if close.count() != len(chips):
            raise AgentError(
                f"{step.caption}: the page shows {ip}, which was not requested, and it has "
                "no control to remove it; not submitted",
                Exit.AUDIT_MISMATCH,
            )
        press_in(ctx, close.nth(at), f"the remove control of {ip}")
        focused = None  # the click took the focus
    if any(ip not in want for ip in shown):
        shown = shown_ips(area)  # after removals: what is left, read again
    got = shown
    for value in want:
        if value in shown:
            continue
        ctx.guard_origin()
        if focused is not True:
            focused = keyboard.focus(box, select=True)
        keyboard.fill(box, value, focused)
        keyboard.press(box, _KEYS[fc.confirm])
        focused = None  # the next address: focused and selected again
        refused, got = _after_entry(ctx, area, fc)
        refusal = error_text(ctx, fc.errors) if refused else ""
        if refusal:
            raise AgentError(
                f"{step.caption}: the exchange refused {value}: {refusal}",
                Exit.EXCHANGE_REFUSED,
            )
    expect(ctx, step.audit, want, lambda: read_back(ctx, step, fc), _look(ctx, fc))
    if got != want:
        raise AgentError(f"{step.caption}: shows {got}, expected {want}", Exit.AUDIT_MISMATCH)


def _after_entry(ctx: Context, area: Locator, fc: FillChips) -> tuple[bool, list[str]]:
    """After an address was entered: whether any of the flow's refusals shows, and the chips
    `area` shows now (shown_ips'): one call. The refusal's words are read only if one shows."""
    chips = area.locator("ob-chips={}")
    if fc.errors:  # the root element stands for "a refusal shows" (DOM order: first)
        chips = chips.or_(ctx.page.locator("html").filter(has=ctx.find.union(fc.errors)))
    refused, texts = pagelib.evaluate_all(
        chips,
        f"els => {{ {pagelib.OB} const root = document.documentElement; "
        "return [els.includes(root), els.filter(e => e !== root).map(e => OB.ipOf(e.innerText))] }",
    )
    return bool(refused), _canonical([str(t) for t in texts if t])


# chip_area and shown_ips as page script on the input found: the read-back in one call.
_CHIPS = (
    f"{pagelib.OB} const ar = a.then.label ? "
    "OB.engines['ob-area'].queryAll(el, a.then.body) : []; "
    "const root = ar.length === 1 ? ar[0] : document.body; "
    "const chips = OB.engines['ob-chips'].queryAll(root, '{}').map(e => OB.ipOf(e.innerText)); "
)
CHIPS_JS = _CHIPS + "return chips"
# And whether the area was found, and the field focused and selected to be typed in.
AREA_CHIPS_FOCUS_JS = _CHIPS + f"return [ar.length === 1, chips, ({keyboard.FOCUS_JS})(el, true)]"


def _look(ctx: Context, fc: FillChips) -> Look:
    label = _area_label(ctx, fc)
    arg = {"label": label, "body": engines.body(label=label)}
    return Look(fc.input, editable=True, then=Then(CHIPS_JS, arg))


def read_back(ctx: Context, step: Step, fc: FillChips) -> list[str]:
    box = ctx.find.answer(_look(ctx, fc), step.caption)
    got = ctx.find.then
    if not isinstance(got, list):
        return shown_ips(chip_area(ctx, box, fc))
    return _canonical([str(t) for t in got if t])


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    fc = step.fill_chips
    assert fc is not None
    box = one(page, fc.input, vars, "the chip input", editable=True)
    want = _wanted(vars, fc)
    area = box.locator("ob-area=" + engines.body(label=vars.sub(fc.label or "")))
    chips = shown_ips(area if fc.label and area.count() == 1 else page.locator("body"))
    if stage == "create-form" and chips != want:
        raise Fail(f"the chips read {chips}, the recorded form holds {want}")
    return f"one editable input, {len(chips)} chip(s)"


VERB = register(Verb("fill_chips", act, contract))
