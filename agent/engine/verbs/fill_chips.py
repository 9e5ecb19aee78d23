"""fill_chips: an allowlist of addresses entered one by one into an input that turns each
into a chip. The chips are read as a person reads them (the addresses shown around the
input, up to its label), compared canonically; one not requested is removed by its own
close control, or the run stops (not submitted)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from agent.engine import engines
from agent.engine.audit import expect
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one
from agent.engine.flow import FillChips, Step
from agent.engine.handover import ask_human, may_ask
from agent.engine.locate import Then
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
    texts = area.locator("ob-chips={}").evaluate_all(
        f"els => {{ {engines.SOURCE}; return els.map(e => OB.ipOf(e.innerText)) }}"
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
    try:
        box = ctx.field_to_fill(fc.input, step)
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
    area = chip_area(ctx, box, fc)
    shown = shown_ips(area)  # read once: what is there already is not typed again
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
    if any(ip not in want for ip in shown):
        shown = shown_ips(area)  # after removals: what is left, read again
    for value in want:
        if value in shown:
            continue
        ctx.guard_origin()
        box.fill(value)
        box.press(_KEYS[fc.confirm])
        refused = error_text(ctx, fc.errors)
        if refused:
            raise AgentError(
                f"{step.caption}: the exchange refused {value}: {refused}",
                Exit.EXCHANGE_REFUSED,
            )
    expect(ctx, step.audit, want, lambda: read_back(ctx, step, fc))
    got = shown_ips(area)
    if got != want:
        raise AgentError(f"{step.caption}: shows {got}, expected {want}", Exit.AUDIT_MISMATCH)


# chip_area and shown_ips as page script on the input found: the read-back in one call.
CHIPS_JS = (
    f"{engines.SOURCE}; const ar = a.then.label ? "
    "OB.engines['ob-area'].queryAll(el, a.then.body) : []; "
    "const root = ar.length === 1 ? ar[0] : document.body; "
    "return OB.engines['ob-chips'].queryAll(root, '{}').map(e => OB.ipOf(e.innerText))"
)


def read_back(ctx: Context, step: Step, fc: FillChips) -> list[str]:
    label = _area_label(ctx, fc)
    arg = {"label": label, "body": engines.body(label=label)}
    box = ctx.find.one(fc.input, step.caption, editable=True, then=Then(CHIPS_JS, arg))
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
