"""The agent's page scripts live in the document (agent.engine.pagelib): a call names them and
never carries them, a document without them gets them and the call is made again, and the
page cannot swap the reader for another."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Page

from agent.engine import engines, pagelib
from agent.engine.context import Vars
from agent.engine.flow import Loc
from agent.engine.locate import Resolver
from agent.engine.overlay import Overlay

GO = [Loc(role="button", name="Go", exact=True), Loc(text="Go", exact=True)]
FIELD = "<label>Permissions</label><div class='box'><span>Read</span><span>Trade</span></div>"
DIALOG = (
    "<div style='position: fixed; top: 40px; left: 40px; width: 300px; background: #fff'>"
    "<div>Verify with your authenticator</div><input></div>"
)


@contextmanager
def sent_text() -> Iterator[list[tuple[str, str]]]:
    """Every call to Playwright's driver: its method and its parameters as sent (JSON)."""
    from playwright._impl.connection import Connection

    out: list[tuple[str, str]] = []
    send = Connection.send_message_to_server

    def keep(self: Any, obj: Any, method: str, params: Any, *rest: Any) -> Any:
        if method != "__waitInfo__":
            out.append((method, json.dumps(params, default=str)))
        return send(self, obj, method, params, *rest)

    Connection.send_message_to_server = keep  # type: ignore[method-assign]
    try:
        yield out
    finally:
        Connection.send_message_to_server = send  # type: ignore[method-assign]


def test_a_call_names_the_page_scripts_and_never_carries_them(page: Page, agent_scripts: None):
    page.set_content("<div>Go</div>")
    find = Resolver(page, Vars(), 1)
    overlay = Overlay(page)
    with sent_text() as sent:
        find.one(GO, "the go control", then=overlay.then_mark("go", "1 - Go"))
        overlay.banner("Step 1/1")
    assert [m for m, _ in sent] == ["evalOnSelectorAll", "evaluateExpression"]
    for _m, text in sent:  # the reader's and the layer's own words are not in any call
        assert "Finding things the way a person does" not in text
        assert "The guide-style highlight layer" not in text
        assert len(text) < 8000, len(text)
    assert page.evaluate("window.__onboard.state()") == {"banner": "Step 1/1", "marks": ["1 - Go"]}


def test_a_document_without_them_gets_them_and_the_call_is_made_again(page: Page):
    """A page open before the scripts were installed (a test's bare page here): the call finds
    them missing, they are installed in that document, and the same call is made once more.
    The next call is one call again."""
    page.set_content("<div>Go</div>")
    find = Resolver(page, Vars(), 1)
    with sent_text() as sent:
        got = find.one(GO, "the go control")
    assert got.inner_text() == "Go"
    assert [m for m, _ in sent] == ["evalOnSelectorAll", "evaluateExpression", "evalOnSelectorAll"]
    with sent_text() as sent:
        find.one(GO, "the go control")
    assert [m for m, _ in sent] == ["evalOnSelectorAll"]


def test_the_page_cannot_swap_the_reader(page: Page, agent_scripts: None):
    """The reader answers the read-back before submit: a page script that replaces it, or one
    of its functions, changes nothing."""
    page.set_content(FIELD)
    before = engines.shown(page.locator(".box"))
    assert before and "Withdraw" not in " ".join(before)
    page.evaluate(
        """() => {
            try { window.__onboardOB = { shown: () => ['Withdraw'] }; } catch (e) {}
            try { window.__onboardOB.shown = () => ['Withdraw']; } catch (e) {}
            try { delete window.__onboardOB; } catch (e) {}
            try { Object.defineProperty(window, '__onboardOB', { value: {} }); } catch (e) {}
        }"""
    )
    assert engines.shown(page.locator(".box")) == before
    assert page.evaluate("Object.isFrozen(window.__onboardOB)") is True


def test_the_engines_find_things_on_a_page_that_never_got_the_scripts(page: Page):
    """Playwright builds the selector engines in a document before its first look; where the
    context's init script never ran they install the reader themselves."""
    page.set_content(FIELD)
    assert page.evaluate("window.__onboardOB === undefined") is True
    assert page.locator('ob-field={"label": "Permissions"}').count() == 1
    assert page.evaluate("typeof window.__onboardOB.shown") == "function"
    assert pagelib.MISSING not in page.content()


def test_the_engines_carry_the_reader_once_and_in_ascii():
    """Playwright puts every registered engine's source in each document's injected script, in
    both worlds: the reader travels in one of them only, and nothing the page is sent holds a
    character beyond ASCII (DevTools would carry the whole script as UTF-16, twice the size)."""
    sources = [pagelib.engine_source(n, carrier=i == 0) for i, n in enumerate(engines.NAMES)]
    assert sum("Finding things the way a person does" in s for s in sources) == 1
    assert all(len(s) < 200 for s in sources[1:])
    for text in [*sources, pagelib.script(False), pagelib.script(True)]:
        assert text.isascii()
    assert not (pagelib.HERE / "engines.js").read_text().isascii()  # the files may have some
    assert pagelib.ascii_js("a \u2014 \u00d7 \U0001f600") == "a \\u2014 \\u00d7 \\ud83d\\ude00"


def test_an_engine_looked_up_when_used_finds_on_a_bare_page(page: Page):
    """The engines other than the reader's carrier name it when used: on a page the init
    script never reached, they find what they find where it did."""
    page.set_content(DIALOG + "<label>Permissions</label><div class='box'><span>Read</span></div>")
    assert page.evaluate("window.__onboardOB === undefined") is True
    assert page.locator('ob-dialog={"title": "Verify with your authenticator"}').count() == 1
    assert page.locator('ob-area={"label": "Permissions"}').count() == 0  # a document root
    assert page.locator('ob-field={"label": "Permissions"}').count() == 1


def test_the_page_cannot_swap_an_engine(page: Page, agent_scripts: None):
    """The engines are looked up in the reader when used: the page cannot put its own in their
    place, nor change one (the reader's engines are frozen like the reader)."""
    page.set_content(DIALOG + "<div>Verify with email</div><input>")
    look = page.locator('ob-dialog={"title": "Verify with your authenticator"}')
    assert look.count() == 1
    page.evaluate(
        """() => {
            const evil = { queryAll: () => [...document.querySelectorAll('input, div')] };
            for (const name of Object.keys(window.__onboardOB.engines)) {
                try { window.__onboardOB.engines[name] = evil; } catch (e) {}
                try { window.__onboardOB.engines[name].queryAll = evil.queryAll; } catch (e) {}
                try { delete window.__onboardOB.engines[name]; } catch (e) {}
            }
        }"""
    )
    assert look.count() == 1
    assert page.locator('ob-field={"label": "Permissions"}').count() == 0
    assert page.evaluate("Object.isFrozen(window.__onboardOB.engines['ob-dialog'])") is True
