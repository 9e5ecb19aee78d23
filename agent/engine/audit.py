"""The read-back before any submit: every field a verb filled is read from the page again
(each verb left its reader here, through `expect`), every permission the page offers is
checked (agent.engine.permissions), and any difference stops the run, not submitted.

With several keys in one submission each draft is shown in turn and read back: the human
verifies once for all of them, so every one must be exactly as requested."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.engine.context import Context, Ledger
from agent.engine.drafts import select_draft
from agent.engine.flow import Loc
from agent.engine.locate import Look
from agent.engine.permissions import keep_only_requested, widget_look
from agent.exitcodes import AgentError, Exit


def expect(
    ctx: Context, name: str | None, want: Any, read: Callable[[], Any], look: Look | None = None
) -> None:
    """A verb's read-back: before any submit, `read()` must give `want` again (for the
    draft being filled). `look`: the question `read` asks the page first (`Resolver.one`'s),
    so the audit asks every field's at once, in one call."""
    if name:
        ledger = _ledger(ctx)
        ledger.expected[name] = want
        ledger.readers[name] = read
        if look is not None:
            ledger.looks[name] = look


def _ledger(ctx: Context) -> Ledger:
    return ctx.audits.setdefault(ctx.draft, Ledger())


def audit(ctx: Context, submitted: list[Loc] | None = None) -> bool:
    """Read the form back; a difference stops the run (AUDIT_MISMATCH). `submitted`: what
    shows once the form is submitted, looked for first (in the audit's first call, with one
    key): True, and nothing read back, when it shows (someone at the browser submitted)."""
    if submitted and ctx.drafts:  # a draft is chosen (clicked) before it is read back
        if ctx.find.any_visible(submitted):
            return True
        submitted = None
    diffs = []
    keys = [ctx.draft] if ctx.separate else range(max(1, len(ctx.drafts)))
    for k in keys:
        prefix = ""
        if ctx.drafts:
            ctx.use_draft(k)
            if not ctx.separate:
                select_draft(ctx, k)
            prefix = f"key {k + 1} ({ctx.vars.get('account_text')}) "
        ledger = _ledger(ctx)
        readers, expected = ledger.readers, ledger.expected
        # The permissions widget and every field, found and read in one call; each reader
        # below takes its answer (or asks again, should the page have changed meanwhile).
        if ctx.find.ahead([widget_look(ctx), *ledger.looks.values()], submitted):
            ctx.find.forget()
            return True
        submitted = None
        try:
            diffs += keep_only_requested(ctx, prefix)
            got_all = {name: read() for name, read in readers.items()}
        finally:
            ctx.find.forget()
        for name, got in got_all.items():
            want = expected[name]
            if got != want:
                hide = name.startswith("passphrase")
                diffs.append(
                    f"{prefix}{name}: page shows {'(hidden)' if hide else got}, "
                    f"requested {'(hidden)' if hide else want}"
                )
            key = f"key{k + 1}.{name}" if ctx.drafts else name
            ctx.out.audit[key] = "ok" if got == want else "MISMATCH"
        for need in ctx.flow.required_audits:
            if not any(r == need or r.startswith(need + ".") for r in readers):
                diffs.append(f"{prefix}{need}: could not be read back from the page with certainty")
    if diffs:
        raise AgentError(
            "the form does not match the request; not submitted: " + "; ".join(diffs),
            Exit.AUDIT_MISMATCH,
        )
    ctx.rep.info("pre-submit audit: every field reads back exactly as requested")
    return False
