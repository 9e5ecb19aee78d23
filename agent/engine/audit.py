"""The read-back before any submit: every field a verb filled is read from the page again
(each verb left its reader through `Context.expect`), every permission the page offers is
checked (agent.engine.permissions), and any difference stops the run, not submitted.

With several keys in one submission each draft is shown in turn and read back: the human
verifies once for all of them, so every one must be exactly as requested."""

from __future__ import annotations

from agent.engine.context import Context
from agent.engine.drafts import select_draft
from agent.engine.permissions import keep_only_requested
from agent.exitcodes import AgentError, Exit


def audit(ctx: Context) -> None:
    diffs = []
    keys = [ctx.draft] if ctx.separate else range(max(1, len(ctx.drafts)))
    for k in keys:
        prefix = ""
        if ctx.drafts:
            ctx.use_draft(k)
            if not ctx.separate:
                select_draft(ctx, k)
            prefix = f"key {k + 1} ({ctx.vars.get('account_text')}) "
        diffs += keep_only_requested(ctx, prefix)
        for name, read in ctx.readers.items():
            got = read()
            want = ctx.expected[name]
            if got != want:
                hide = name.startswith("passphrase")
                diffs.append(
                    f"{prefix}{name}: page shows {'(hidden)' if hide else got}, "
                    f"requested {'(hidden)' if hide else want}"
                )
            key = f"key{k + 1}.{name}" if ctx.drafts else name
            ctx.out.audit[key] = "ok" if got == want else "MISMATCH"
        for need in ctx.flow.required_audits:
            if not any(r == need or r.startswith(need + ".") for r in ctx.readers):
                diffs.append(f"{prefix}{need}: could not be read back from the page with certainty")
    if diffs:
        raise AgentError(
            "the form does not match the request; not submitted: " + "; ".join(diffs),
            Exit.AUDIT_MISMATCH,
        )
    ctx.rep.info("pre-submit audit: every field reads back exactly as requested")
