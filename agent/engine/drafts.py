"""Several keys in one submission (one per sub-account), so the person verifies once: the
flow's per-key blocks repeated once per draft with an "add another key" step between, each
draft shown again in the form before the read-back; or, when the form fixes the account,
the whole flow once per key (`plan_separate`)."""

from __future__ import annotations

import time

from agent.engine.context import Context
from agent.engine.flow import Click, Loc, Step
from agent.engine.pressing import press_in
from agent.exitcodes import AgentError, Exit

# The step the engine adds between two keys' blocks (the flow's `drafts.add` control).
ADD_DRAFT = "add-draft"

Plan = list[tuple[Step, int]]  # each step with the draft it is done for


def plan(ctx: Context, steps: list[Step]) -> Plan:
    """The flow's steps, with the per-key blocks repeated once per draft."""
    spec = ctx.flow.drafts
    if not ctx.drafts or spec is None:
        return [(s, 0) for s in steps]
    add = Step(id=ADD_DRAFT, caption="Add another key to this submission",
               click=Click(target=spec.add))  # fmt: skip
    out: Plan = []
    i = 0
    while i < len(steps):
        block = next((b for b in (spec.steps, spec.after) if steps[i].id in b), None)
        if block is None:
            out.append((steps[i], 0))
            i += 1
            continue
        j = i
        while j < len(steps) and steps[j].id in block:
            j += 1
        for k in range(len(ctx.drafts)):
            if block is spec.steps and k > 0:
                out.append((add, k))
            out += [(t, k) for t in steps[i:j]]
        i = j
    return out


def plan_separate(ctx: Context) -> Plan:
    """The whole flow once per key: for exchanges whose form fixes the account."""
    out: Plan = []
    for k, draft in enumerate(ctx.drafts):
        values = {**ctx.vars, **draft, "multi_draft": False}
        out += [(s, k) for s in ctx.flow.steps if not s.when or values.get(s.when)]
    return out


def per_key(ctx: Context, step: Step) -> bool:
    """Whether the step is done once per key (its caption and timing say which key)."""
    spec = ctx.flow.drafts
    return spec is not None and (
        step.id in spec.steps or step.id in spec.after or step.id == ADD_DRAFT
    )


def add_draft(ctx: Context, step: Step) -> None:
    spec = ctx.flow.drafts
    assert spec is not None
    box = ctx.box(step, "clicked by the agent")
    button = ctx.find.one(spec.add, "the button that adds another key", then=box)
    press_in(ctx, button, "the button that adds another key")
    deadline = time.monotonic() + ctx.opts.step_timeout
    while True:  # the new draft shows once its first field reads empty
        field = ctx.find.one(spec.empty, "the new key's first field", editable=True)
        if field.input_value() == "":
            return
        if time.monotonic() > deadline:
            raise AgentError("another key could not be added to the submission",
                             Exit.UI_NOT_UNDERSTOOD)  # fmt: skip
        ctx.find.wait_any([Loc(css="body")], 0.2)


def select_draft(ctx: Context, k: int) -> None:
    """Show draft k in the form: the k-th of the drafts listed under its name."""
    spec = ctx.flow.drafts
    assert spec is not None
    same = [j for j, d in enumerate(ctx.drafts) if d.get("label") == ctx.drafts[k].get("label")]
    tiles = ctx.find.visible(ctx.page, spec.tile)
    if tiles.count() != len(same):
        raise AgentError(
            f"the drafts list shows {tiles.count()} draft(s) named {ctx.vars.sub(spec.tile.text or '')!r}, "
            f"expected {len(same)}; not submitted",
            Exit.AUDIT_MISMATCH,
        )
    ctx.guard_origin()
    tiles.nth(same.index(k)).click()
