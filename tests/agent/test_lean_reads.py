"""The lean read-back: each field read in the call that finds it (Resolver.one's `then`) reads
exactly what the separate calls read, on the select, the checkbox and the pre-selected
Withdraw variants of the form. A script's argument is `a.then` there, not `a`: a read that
used the wrong one still returned something plausible, so each is compared with the slow
read, not only with what is expected."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page

from agent.engine import permissions
from agent.engine.context import Vars
from agent.engine.flow import load_named
from agent.engine.locate import Resolver
from agent.engine.overlay import Overlay
from agent.engine.verbs import choose, fill, fill_chips

FLOW = load_named("okx")
STEPS = {s.id: s for s in FLOW.steps}
IPS = ["203.0.113.7", "2001:db8::7"]


def filled(page: Page, base: str) -> Any:
    """The create form with a name and two IPs, and the parts of a run the read-backs use."""
    Overlay.install(page.context)
    page.goto(f"{base}/account/my-api/create")
    page.locator("[data-okx-field=label] input").fill("lean-reads")
    box = page.get_by_placeholder("Enter IP address")
    for ip in IPS:
        box.fill(ip)
        box.press("Enter")
    vars = Vars(account_text="Main account", label="lean-reads", ips=IPS)
    return SimpleNamespace(
        page=page, vars=vars, find=Resolver(page, vars, 5), flow=FLOW, offered={}, draft=0,
        opts=SimpleNamespace(step_timeout=5),
    )  # fmt: skip


@pytest.mark.scenarios("logged-in", "withdraw-preselected")
def test_select_reads_agree(replica, page: Page) -> None:
    ctx = filled(page, replica.base_url)
    for sid in ("account", "permissions"):
        st = STEPS[sid]
        ch = st.choose
        assert ch is not None
        names = [ctx.vars.sub(n) for n in ch.want + ch.never]
        slow = choose._state(ctx, ctx.find.one(ch.open, st.caption), ch, st, names)
        assert choose.read_back(ctx, st, ch, names) == slow
        assert isinstance(ctx.find.then, list)  # read in the finding call, not again
    assert slow["Withdraw"] is True  # the variant shows it on: the read sees it
    box, read = permissions._widget(ctx)
    ctx.offered = {0: ["Read", "Trade", "Withdraw"]}
    assert permissions._state(ctx, box, read) == permissions._state(ctx, box)
    assert read[1] and "Withdraw" in " ".join(read[1])


@pytest.mark.scenarios("logged-in", "perm-checkboxes")
def test_checkbox_ticks_and_chips_and_values_agree(replica, page: Page) -> None:
    ctx = filled(page, replica.base_url)
    box, read = permissions._widget(ctx)
    assert read[0], "the ticks were read with the widget"
    assert permissions._state(ctx, box, read) == permissions._state(ctx, box)
    st = STEPS["ips"]
    fc = st.fill_chips
    assert fc is not None
    slow = fill_chips.shown_ips(
        fill_chips.chip_area(ctx, ctx.find.one(fc.input, st.caption, editable=True), fc)
    )
    assert fill_chips.read_back(ctx, st, fc) == slow == sorted(IPS)
    assert isinstance(ctx.find.then, list)
    st = STEPS["name"]
    assert st.fill is not None
    assert fill.read_back(ctx, st, st.fill) == "lean-reads" == ctx.find.then
