"""The resolver's one-round-trip probe: count, "can one type here", and the highlight box."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.flow import Loc
from agent.engine.locate import Resolver, Then
from agent.engine.overlay import Overlay
from agent.exitcodes import AgentError

FIELDS = """
<input id="plain" aria-label="plain">
<input id="ro" aria-label="ro" readonly>
<input id="off" aria-label="off" disabled>
<fieldset disabled><input id="in-off-set" aria-label="in-off-set"></fieldset>
<textarea id="area" aria-label="area"></textarea>
<div id="ce" contenteditable="true" aria-label="ce">x</div>
<div id="tb" role="textbox" aria-label="tb">x</div>
<div id="tb-ro" role="textbox" aria-readonly="true" aria-label="tb-ro">x</div>
<div aria-disabled="true"><div id="tb-under-off" role="textbox" aria-label="tb-under-off">x</div></div>
<select id="sel" aria-label="sel"><option>a</option></select>
<select id="sel-off" aria-label="sel-off" disabled><option>a</option></select>
"""


@pytest.mark.parametrize(
    "el", ["plain", "ro", "off", "in-off-set", "area", "ce", "tb", "tb-ro", "sel", "sel-off"]
)
def test_editable_agrees_with_playwright(page: Page, el: str):
    page.set_content(FIELDS)
    found = page.locator(f"#{el}")
    n, ok, _ = Resolver(page, Vars(), 1).probe(found, True, None)
    assert (n, ok) == (1, found.is_editable())


def test_not_editable_under_an_aria_disabled_ancestor_or_when_not_a_field(page: Page):
    page.set_content(FIELDS + '<p id="para">text</p>')
    probe = Resolver(page, Vars(), 1).probe
    assert probe(page.locator("#tb-under-off"), True, None) == (1, False, -1)
    assert probe(page.locator("#para"), True, None) == (1, False, -1)  # Playwright would throw
    assert probe(page.locator("#para"), False, None) == (1, True, 0)  # no need to type: usable


def test_one_refuses_a_single_match_one_cannot_type_into(page: Page):
    page.set_content(FIELDS)
    with pytest.raises(AgentError, match=r"1 match, not editable"):
        Resolver(page, Vars(), 0.2).one([Loc(label="ro", exact=True)], "the field", editable=True)


def test_then_runs_on_the_single_match_only(page: Page):
    page.set_content("<button>Go</button><button>Go</button><button>Stop</button>")
    then = Then("el.dataset.hit = a.then.n", {"n": "7"})
    probe = Resolver(page, Vars(), 1).probe
    assert probe(page.get_by_role("button", name="Go"), False, then) == (2, False, -1)
    assert page.locator("[data-hit]").count() == 0  # several matches: nothing is touched
    assert probe(page.get_by_role("button", name="Stop"), False, then) == (1, True, 0)
    assert page.locator("[data-hit='7']").count() == 1


def test_the_box_is_drawn_in_the_round_trip_that_finds_the_element(page: Page):
    page.set_content('<label>Name <input aria-label="Name"></label>')
    found = Resolver(page, Vars(), 1).one(
        [Loc(label="Name", exact=True)],
        "the name",
        editable=True,
        then=Overlay(page).then_mark("name", "1 - Name: filled by the agent"),
    )
    assert found.count() == 1
    captions = page.evaluate(
        "() => [...window.__onboard.layer().querySelectorAll('*')]"
        ".map(e => e.textContent).filter(t => t.includes('filled by the agent'))"
    )
    assert any("1 - Name: filled by the agent" in t for t in captions)


def test_a_disabled_copy_of_a_field_is_no_choice(page: Page):
    """Two fields under one label, one disabled (a decoy): the editable one is the field."""
    page.set_content(
        "<label>Name <input id=a disabled></label><label>Name <input id=b></label>"
        "<button>OK</button><button>ok</button>"
    )
    find = Resolver(page, Vars(), 0.5)
    got = find.one([Loc(label="Name")], "the field", editable=True)
    assert got.evaluate("e => e.id") == "b"
    with pytest.raises(AgentError, match="2 match"):  # two buttons saying OK, case aside
        find.one([Loc(role="button", name="OK", exact=True)], "the button")


def _injected_scripts(page: Page) -> list[int]:
    """For each world of the page's document that got Playwright's injected script (a script
    of hundreds of KB), that world's execution context: the Debugger sees every script parsed."""
    cdp = page.context.new_cdp_session(page)
    worlds: list[int] = []
    cdp.on(
        "Debugger.scriptParsed",
        lambda e: worlds.append(e["executionContextId"]) if e["length"] > 200_000 else None,
    )
    cdp.send("Debugger.enable")
    return worlds


def test_a_document_the_agent_only_looks_at_builds_one_world(page: Page, agent_scripts: None):
    """Counts and waits over candidates of Playwright's own engines (text, role, css) run in
    the page's main world, where the agent's own calls run: a document where the agent only
    looks never gets Playwright's script built a second time, in its utility world."""
    page.goto("about:blank")
    worlds = _injected_scripts(page)
    page.set_content("<h1>API keys</h1><p>No API keys yet</p><button>Create</button>")
    find = Resolver(page, Vars(), 1)
    cands = [Loc(role="heading", name="API keys", exact=True), Loc(text="No API keys yet")]
    assert find.wait_any(cands, 2)
    assert find.any_visible([Loc(css="button")])
    find.one([Loc(text="Create", exact=True)], "the create control")
    assert len(worlds) == 1, worlds
    page.locator("p").count()  # Playwright's own look, with none of the agent's engines
    assert len(set(worlds)) == 2, worlds
