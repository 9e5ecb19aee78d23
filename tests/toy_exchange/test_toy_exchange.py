"""The engine is exchange-neutral: a toy exchange (its own words, its own pages served under
its own origin by Playwright's router) runs through the same Runner from a flow file alone,
with no Python of its own in agent/. The key it makes is captured, read and trade only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route

from agent.engine.context import Vars
from agent.engine.flow import load_flow
from agent.engine.human import CodeSources
from agent.engine.runner import Options, Runner
from agent.exitcodes import AgentError
from agent.record import check_step
from tests.agent.test_handover import Said

HERE = Path(__file__).parent
ORIGIN = "https://toy.test"
PAGES = {"/keys": "keys.html", "/keys/new": "new.html"}


class Terminal(Said):
    """The operator's terminal: what was said, and the authenticator code when asked."""

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        self.lines.append(f"asked: {prompt}")
        return "123456"


def unwrapped(html: str) -> str:
    """The create form without its <form> and footer: the button right after the items."""
    html = html.replace('  <form onsubmit="return false">\n', "").replace("  </form>\n", "")
    return html.replace('<div class="footer"><button type="button" id="create">Create key</button></div>',
                        '<button type="button" id="create">Create key</button>')  # fmt: skip


def serve(page: Page, edit: Callable[[str], str] = str) -> None:
    def fulfil(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        name = PAGES.get(path)
        if name is None:
            route.fulfill(status=404, body="not found")
        else:
            html = (HERE / "site" / name).read_text()
            route.fulfill(body=edit(html) if name == "new.html" else html, content_type="text/html")

    page.route(f"{ORIGIN}/**", fulfil)


def run(
    page: Page,
    flow_path: Path = HERE / "toy.yaml",
    edit: Callable[[str], str] = str,
    said: Terminal | None = None,
) -> tuple[Runner, Terminal, list[Any]]:
    serve(page, edit)
    flow = load_flow(flow_path)
    stored: list[Any] = []
    said = said or Terminal()
    vars = Vars(label="toy-bot-1", permissions_text="Reading, Trading")
    opts = Options(pace=0, step_timeout=5, human_timeout=10, auto_submit=True,
                   drift_to_human=False, codes=CodeSources(prompt={"totp"}))  # fmt: skip
    runner = Runner(
        page, flow, vars, ORIGIN, flow.origins, opts, said,
        lambda records, first, count: stored.append((records, first, count)),
    )  # fmt: skip
    runner.run()
    return runner, said, stored


def test_a_toy_exchange_runs_through_the_same_engine(page: Page) -> None:
    runner, said, stored = run(page)
    # The key made is captured, handed to custody once, in the flow's formats.
    assert len(stored) == 1
    records, first, count = stored[0]
    assert (first, count) == (0, 1)
    assert len(records) == 1 and records[0]["api_key"].startswith("TOY-")
    assert len(records[0]["secret"]) == 40
    assert runner.out.records == records and runner.out.listed
    # The page preselected its withdrawal-like "Payouts": the key has read and trade only.
    made = page.evaluate("JSON.parse(localStorage.getItem('toy-keys'))")
    assert made == [{"name": "toy-bot-1", "access": ["Reading", "Trading"],
                     "id": records[0]["api_key"]}]  # fmt: skip
    assert runner.out.audit["every permission offered"] == "ok"
    assert runner.out.factors == ["totp"]
    assert "asked: Authenticator code (as the client reads it out)" in said.lines
    assert said.lines[-1].strip() == "done: Confirm the new key in the list"


def test_the_engine_keeps_payouts_off_even_when_the_toy_flow_does_not(
    page: Page, tmp_path: Path
) -> None:
    """The flow's own 'off' step never runs (gated on something no page shows): the engine's
    read-back before submit still finds Payouts on and switches it off."""
    text = (HERE / "toy.yaml").read_text()
    gated = text.replace(
        '    caption: "Access: Payouts off"\n',
        '    caption: "Access: Payouts off"\n    if_visible: {css: "#nothing-shows-this"}\n',
    )
    assert gated != text
    (tmp_path / "toy.yaml").write_text(gated)
    _, said, stored = run(page, tmp_path / "toy.yaml")
    assert "warn: Access: 'Payouts' was on; the agent switches it off" in said.lines
    made = page.evaluate("JSON.parse(localStorage.getItem('toy-keys'))")
    assert made[0]["access"] == ["Reading", "Trading"]
    assert len(stored) == 1


def test_the_read_back_never_clicks_a_button_beside_the_permissions(page: Page) -> None:
    """Before: with the submit button right after the permission item (no <form> or footer
    around the items), the ticks side by side were taken for the label's own line, the
    button for the "Access" field, read as a tick that is on and "switched off": the form
    was submitted during the read-back and a key made without Reading."""
    _, said, _ = run(page, edit=unwrapped)
    assert not [line for line in said.lines if "'Create key' was on" in line]
    made = page.evaluate("JSON.parse(localStorage.getItem('toy-keys'))")
    assert [k["access"] for k in made] == [["Reading", "Trading"]]


def test_the_read_back_refuses_to_click_the_submit_button(page: Page) -> None:
    """Whatever misleads it, the read-back's own clicks never land on the form's submit
    button (the flow's submit step's target): it stops with nothing submitted."""
    from agent.engine.permissions import open_list

    serve(page)
    page.goto(f"{ORIGIN}/keys/new")
    flow = load_flow(HERE / "toy.yaml")
    runner = Runner(
        page, flow, Vars(label="toy-bot-1"), ORIGIN, flow.origins,
        Options(pace=0, step_timeout=2, drift_to_human=False), Terminal(), lambda *a: None,
    )  # fmt: skip
    with pytest.raises(AgentError, match="would click the form's submit button"):
        open_list(runner, page.locator("#create"), "Access")
    assert page.locator("#check").is_hidden()  # the security check never opened


@pytest.mark.parametrize("step_id", ["name", "reading", "submit"])
def test_the_toy_flow_fits_its_own_pages_by_the_verbs_contracts(
    page: Page, tmp_path: Path, step_id: str
) -> None:
    """The same verb modules check the toy flow against a recorded page of its own."""
    set_dir = tmp_path / "toy-set"
    set_dir.mkdir()
    html = (HERE / "site" / "new.html").read_text().replace('id="name" type="text"',
                                                            'id="name" type="text" value="toy-bot-1"')  # fmt: skip
    html = html.replace('value="read">', 'value="read" checked>').replace(
        'value="trade">', 'value="trade" checked>'
    )
    (set_dir / "create-form.html").write_text(html)
    (set_dir / "manifest.json").write_text(
        '{"stages": [{"name": "create-form", "file": "create-form.html"}],'
        ' "vars": {"label": "toy-bot-1"}}'
    )
    flow = load_flow(HERE / "toy.yaml")
    step = next(s for s in flow.steps if s.id == step_id)
    res = check_step(page, set_dir, flow, step, "create-form")
    assert res.ok, res.message()
