"""The guarded click (agent.engine.press): a mouse click at the point the look found, which
reaches nothing but the element. Whatever took the point between the look and the click gets
no press at all, and the click is then made with Playwright's checks, or refused."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from agent.engine.press import GUARD_READ_JS, HIT_JS, NotActionable, press
from agent.engine.pressing import FIRST_WAIT_S, waited
from tests.agent.test_riding import driver_calls

PAGE = """
<style>button { position: absolute; width: 160px; height: 40px; }</style>
<button id=go style="left: 100px; top: 100px">Go</button>
<button id=other style="left: 400px; top: 100px">Other</button>
<script>
  window.got = [];
  for (const t of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click'])
    document.addEventListener(t, e => window.got.push(e.target.id + ':' + t), true);
</script>
"""


def _look(page: Page, sel: str) -> dict[str, Any]:
    """The look a find makes (press.with_hit): where to click, and the guard armed."""
    got: dict[str, Any] = page.locator(sel).evaluate_all(f"els => ({HIT_JS})(els[0])")
    return got


def _log() -> tuple[list[str], Any]:
    said: list[str] = []
    return said, said.append


def test_a_click_on_the_element_lands_once_in_three_calls(page: Page) -> None:
    page.set_content(PAGE)
    said, log = _log()
    with driver_calls() as sent:
        press(page, page.locator("#go"), "Go", log, 5)
    assert sent == ["evalOnSelectorAll", "mouseClick", "evaluateExpression"], sent
    assert page.evaluate("window.got.filter(g => g.endsWith(':click'))") == ["go:click"]
    assert page.evaluate("window.__obGuard") is None and said == []


def test_a_cover_that_took_the_point_gets_nothing_and_the_click_is_refused(page: Page) -> None:
    page.set_content(PAGE)
    hit = _look(page, "#go")
    assert hit["state"] == "ok" and hit["guard"] is True
    # A banner comes up over the button after the look and before the click.
    page.evaluate(
        """() => { const d = document.createElement('div'); d.id = 'banner';
        d.style.cssText = 'position:fixed;inset:0;background:#fff'; document.body.append(d); }"""
    )
    said, log = _log()
    with pytest.raises(NotActionable) as err:
        press(page, page.locator("#go"), "Go", log, 5, hit=hit)
    assert err.value.why == "covered"
    # The banner's handlers saw none of the press (swallowed at the window), the button none.
    assert page.evaluate("window.got") == []
    assert said and "div" in said[0]


def test_a_moved_element_is_looked_at_again_and_clicked_with_playwrights_checks(
    page: Page,
) -> None:
    page.set_content(PAGE)
    hit = _look(page, "#go")
    # The two buttons trade places: the point is now the other button's.
    page.evaluate("() => { go.style.left = '400px'; other.style.left = '100px'; }")
    said, log = _log()
    with driver_calls() as sent:
        press(page, page.locator("#go"), "Go", log, 5, hit=hit)
    clicks = page.evaluate("window.got.filter(g => g.endsWith(':click'))")
    assert clicks == ["go:click"]  # once, and the other button never
    assert not any(g.startswith("other:") for g in page.evaluate("window.got"))
    assert "click" in sent and said and "looked at again" in said[0]


def test_a_press_elsewhere_while_armed_is_left_alone(page: Page) -> None:
    """A person clicking something else while the agent's guard is armed: untouched."""
    page.set_content(PAGE)
    _look(page, "#go")
    page.mouse.click(480, 120)  # the other button, not the guarded point
    assert page.evaluate("window.got.filter(g => g.endsWith(':click'))") == ["other:click"]
    assert page.evaluate(GUARD_READ_JS)["state"] == "armed"


def test_an_element_gone_on_press_is_a_click_that_landed(page: Page) -> None:
    """A list that closes on mousedown (the option chosen): the rest of the press lands on
    what is under it, as a person's does, and is not swallowed."""
    page.set_content(PAGE)
    page.evaluate("go.addEventListener('mousedown', () => go.remove())")
    said, log = _log()
    press(page, page.locator("#go"), "Go", log, 5)
    assert page.evaluate("window.got").count("go:mousedown") == 1
    assert said == []


def test_a_look_without_the_guard_leaves_none(page: Page) -> None:
    page.set_content(PAGE)
    got = page.locator("#go").evaluate_all(f"els => ({HIT_JS})(els[0], false)")
    assert got["state"] == "ok" and got["guard"] is False
    assert page.evaluate("window.__obGuard === undefined || window.__obGuard === null")


SHOWS_DONE = "go.addEventListener('click', () => document.body.insertAdjacentHTML('beforeend', '<p id=done>Done</p>'))"


def test_a_click_whose_effect_shows_owes_no_guard_read(page: Page) -> None:
    """A caller waiting for the click's effect (agent.engine.pressing.waited): the effect
    shown says the click landed, and the guard's read is never made (a call fewer)."""
    page.set_content(PAGE)
    page.evaluate(SHOWS_DONE)
    said, log = _log()
    later: list[Any] = []
    read: list[str] = []
    with driver_calls() as sent:
        press(page, page.locator("#go"), "Go", log, 5, later=later)
        assert len(later) == 1  # the read, owed

        def owed() -> None:
            read.append("read")
            later[0]()

        seen = waited(owed, lambda s, landed: page.locator("#done").count() > 0, 5)
    assert seen and read == [] and sent == ["evalOnSelectorAll", "mouseClick", "queryCount"]
    assert said == []
    assert page.evaluate("window.__obGuard.state") == "passed"  # taken off by the next look
    assert page.evaluate("window.got.filter(g => g.endsWith(':click'))") == ["go:click"]


def test_a_click_taken_by_a_cover_is_told_by_the_owed_read(page: Page) -> None:
    """The effect does not show (the cover swallowed the press): the read is made after the
    first second, and the click is refused as it was when the read came right after it."""
    page.set_content(PAGE)
    page.evaluate(SHOWS_DONE)
    hit = _look(page, "#go")
    page.evaluate(
        """() => { const d = document.createElement('div'); d.id = 'banner';
        d.style.cssText = 'position:fixed;inset:0;background:#fff'; document.body.append(d); }"""
    )
    said, log = _log()
    later: list[Any] = []
    press(page, page.locator("#go"), "Go", log, 5, hit=hit, later=later)
    waits: list[tuple[float, bool]] = []

    def wait(s: float, landed: bool) -> bool:
        waits.append((s, landed))
        return page.locator("#done").count() > 0

    with pytest.raises(NotActionable) as err:
        waited(later[0], wait, 5)
    assert err.value.why == "covered" and waits == [(FIRST_WAIT_S, True)]  # effect and landed
    assert said and "took the click" in said[0]  # the read said what took it
    assert page.evaluate("window.got") == [] and page.locator("#done").count() == 0


def test_without_a_read_owed_the_wait_is_the_whole_wait() -> None:
    waits: list[float] = []
    assert not waited(None, lambda s, landed: bool(waits.append(s)), 5) and waits == [5]
