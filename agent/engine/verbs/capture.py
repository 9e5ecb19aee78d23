"""capture: read the credentials the site shows once (labelled values in a container; else
the page's own copy buttons; else pasted at the operator's prompt), hand them to custody
(`on_capture`: encrypted and on disk) before any further action, and from then on paint
over anything shaped like a key or secret in every screenshot."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Error as PWError
from playwright.sync_api import Locator, Page

from agent import faults
from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one
from agent.engine.flow import Capture, Loc, Step
from agent.engine.locate import Then
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit


def act(ctx: Context, step: Step, cap: Capture) -> None:
    t0 = time.monotonic()
    # Found and read in one call: the secret is on screen, every round trip counts.
    box = ctx.find.one(cap.container, step.caption, then=Then("return el.innerText", {}))
    text, ctx.find.then = ctx.find.then, None  # the secret is kept nowhere but here
    shown = parse_labelled(text if isinstance(text, str) else box.inner_text(), cap.fields)
    records = shown
    if not records or not all(valid(r, cap.formats) for r in records):
        # Masked or unreadable on screen: the page's own copy buttons give the text.
        clipped = _from_clipboard(ctx, cap, box)
        if clipped:
            records = [
                {**(shown[k] if k < len(shown) else {}), **rec} for k, rec in enumerate(clipped)
            ]
    if not records or not all(valid(r, cap.formats) for r in records):
        records = _from_prompt(ctx, cap)
    ctx.out.displayed += [{k: v for k, v in r.items() if k not in ("secret",)} for r in records]
    ctx.on_state("captured")
    # Any image in the credentials' box may encode them (the QR code): always painted over.
    ctx.secret_targets.append(box.locator("svg, canvas, img"))
    # Screenshots from now on paint over anything shaped like a secret or a key (by format,
    # not value): the dialog now, the key list later.
    ctx.secret_targets += [
        ctx.find.visible(ctx.page, Loc(text=f"/^\\s*(?:{fmt})\\s*$/"))
        for fmt in cap.formats.values()
    ]
    # Which keys these are: the current one alone, or every draft of one submission.
    first, count = (ctx.draft, 1) if ctx.separate else (0, max(1, len(ctx.drafts)))
    ctx.on_capture(records, first, count)  # encrypted and on disk before anything else
    faults.point("capture:after-store")
    ctx.out.records += records
    ctx.out.timings["capture_to_disk"] = time.monotonic() - t0
    ctx.mark(box, step, "saved, encrypted")


def _from_clipboard(ctx: Context, cap: Capture, box: Locator) -> list[dict[str, str]]:
    if not cap.clipboard:
        return []
    out: list[dict[str, str]] = []
    buttons = ctx.find.union(cap.clipboard, box)
    # One button per key: a match inside another (the button's own text, found by a
    # second candidate) is the same button, not a second key's.
    outer = buttons.evaluate_all(
        "els => els.flatMap((e, i) => els.some(o => o !== e && o.contains(e)) ? [] : [i])"
    )
    for k in outer:
        ctx.guard_origin()
        buttons.nth(k).click()
        try:
            text = ctx.page.evaluate("navigator.clipboard.readText()")
        except PWError:
            return []
        rec = {}
        for name, pat in cap.clipboard_patterns.items():
            m = re.search(pat, text)
            if m:
                rec[name] = m.group(1)
        if rec not in out:  # the same key's text twice is one key
            out.append(rec)
    return out


def _from_prompt(ctx: Context, cap: Capture) -> list[dict[str, str]]:
    ctx.rep.warn("could not read the credentials from the page; paste them at the prompt")
    rec = {}
    for name in cap.formats:
        rec[name] = ctx.rep.ask_secret(f"paste the {name.replace('_', ' ')}").strip()
    if not valid(rec, cap.formats):
        raise AgentError(
            "the pasted credentials do not have the expected format", Exit.CUSTODY_FAILED
        )
    return [rec]


def parse_labelled(text: str, fields: dict[str, str]) -> list[dict[str, str]]:
    """Labelled values in document order: a label line then its value line, or "Label: value"
    on one line; a repeated label starts a new record."""
    # Whitespace as a person reads it: a label written with no-break or double spaces is
    # the same label.
    by_label = {" ".join(v.split()).lower(): k for k, v in fields.items()}
    same_line = re.compile(
        r"^(" + "|".join(re.escape(v) for v in sorted(by_label, key=len, reverse=True)) + r")"
        r"\s*:\s*(\S.*)$",
        re.IGNORECASE,
    )
    lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
    records: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for i, line in enumerate(lines):
        name = by_label.get(line.lower().rstrip(":").strip())
        value = lines[i + 1] if name is not None and i + 1 < len(lines) else None
        m = same_line.match(line) if name is None else None
        if m:
            name, value = by_label[m.group(1).lower()], m.group(2).strip()
        if name is None or value is None:
            continue
        if name in cur:
            records.append(cur)
            cur = {}
        cur[name] = value
    if cur:
        records.append(cur)
    return records


def valid(rec: dict[str, str], formats: dict[str, str]) -> bool:
    return all(re.fullmatch(p, rec.get(k, "")) for k, p in formats.items())


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    cap = step.capture
    assert cap is not None
    box = one(page, cap.container, vars, "the capture container")
    records = parse_labelled(box.inner_text(), cap.fields)
    if not records:
        raise Fail(f"no labelled values found for {list(cap.fields.values())}")
    for r in records:
        missing = [k for k in cap.formats if k not in r]
        if missing:
            raise Fail(f"labels not found for {missing} (read {sorted(r)})")
        if not valid(r, cap.formats):
            bad = [k for k, p in cap.formats.items() if not re.fullmatch(p, r.get(k, ""))]
            raise Fail(f"values for {bad} do not match the flow's formats")
    return f"{len(records)} record(s) with {', '.join(cap.formats)} in format"


VERB = register(Verb("capture", act, contract))
