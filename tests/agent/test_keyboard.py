"""Typing as the agent does (agent.engine.keyboard): the field focused by page script in the
page's main world, then the keyboard; Playwright's own fill for any other field."""

from __future__ import annotations

from playwright.sync_api import Page

from agent.engine import keyboard
from agent.engine.context import Vars
from agent.engine.flow import Loc
from agent.engine.locate import Resolver
from tests.agent.test_locate import _injected_scripts

# Every input event's value, as a page that reacts to typing sees them.
EVENTS = """<script>window.seen = [];
  document.addEventListener('input', e => seen.push([e.target.id || e.target.tagName, e.inputType,
    e.target.value !== undefined ? e.target.value : e.target.textContent]), true);</script>"""


def test_a_fill_sends_what_playwrights_fill_sends(page: Page, agent_scripts: None):
    """Each kind of field, filled over what it held: the page sees the same input events and
    ends with the same value as with Playwright's fill of a twin field."""
    fields = ('<input id=t{} value="old text"><textarea id=a{}>old</textarea>'
              "<div id=c{} contenteditable=true>old</div><input id=p{} type=password>")  # fmt: skip
    page.set_content(EVENTS + fields.format(*"1111") + fields.format(*"2222"))
    for el, value in (("t", "ICG-MM"), ("a", "two\nlines"), ("c", "rich"), ("p", "S3cret-pass")):
        page.locator(f"#{el}1").fill(value)
        ours = page.locator(f"#{el}2")
        assert keyboard.focus(ours, select=True) is True
        keyboard.fill(ours, value, True)
    seen = page.evaluate("seen")
    theirs = [s[1:] for s in seen if s[0].endswith("1")]
    mine = [s[1:] for s in seen if s[0].endswith("2")]
    assert mine == theirs and len(mine) >= 4, seen
    keyboard.fill(page.locator("#t2"), "", keyboard.focus(page.locator("#t2"), select=True))
    assert page.locator("#t2").input_value() == ""


def test_the_focus_rides_the_look_that_finds_the_field(page: Page, agent_scripts: None):
    page.set_content('<label>API key name <input id=n value="x"></label><button>b</button>')
    page.locator("button").focus()
    find = Resolver(page, Vars(), 1)
    field = find.one(
        [Loc(label="API key name")], "the name", editable=True, then=keyboard.FOCUS_TO_FILL
    )
    assert find.then is True
    assert page.evaluate("document.activeElement.id") == "n"
    keyboard.fill(field, "ICG-MM", find.then)
    assert field.input_value() == "ICG-MM"


def test_fields_typed_otherwise_are_playwrights_to_fill(page: Page, agent_scripts: None):
    """A date, a number, a select: the focus says no, and Playwright's fill does it (or
    refuses, with its own error, as before)."""
    page.set_content("<input id=d type=date><input id=n type=number><select id=s></select>")
    for el, value in (("d", "2026-12-01"), ("n", "42")):
        target = page.locator(f"#{el}")
        focused = keyboard.focus(target, select=True)
        assert focused is False
        keyboard.fill(target, value, focused)
        assert target.input_value() == value
    assert keyboard.focus(page.locator("#s"), select=True) is False


def test_typing_a_code_into_boxes_that_move_the_focus_along(page: Page, agent_scripts: None):
    page.set_content(
        "".join(f"<input class=box maxlength=1 id=b{i}>" for i in range(6))
        + """<script>document.querySelectorAll('.box').forEach((b, i, all) =>
             b.addEventListener('input', () => all[i + 1] && all[i + 1].focus()));</script>"""
    )
    boxes = page.locator(".box")
    keyboard.type_in(boxes, "314159")
    assert [boxes.nth(i).input_value() for i in range(6)] == list("314159")


def test_a_key_reaches_the_field_wherever_the_page_put_the_focus(page: Page, agent_scripts: None):
    """Enter confirms an address in the field, even if the page moved the focus to a button
    meanwhile (where Enter would press the button)."""
    page.set_content(
        """<input id=ip><button id=go onclick="window.pressed = true">Submit</button>
        <script>window.entered = 0; ip.addEventListener('keydown', e => {
          if (e.key === 'Enter') window.entered++; });</script>"""
    )
    ip = page.locator("#ip")
    keyboard.fill(ip, "203.0.113.7", keyboard.focus(ip, select=True))
    page.locator("#go").focus()
    keyboard.press(ip, "Enter")
    assert page.evaluate("[window.entered, !!window.pressed]") == [1, False]


def test_typing_builds_no_second_world(page: Page, agent_scripts: None):
    """Filling, typing and a key all run where the agent's looks run: the document never
    gets Playwright's script built in its utility world (Playwright's fill and typing do)."""
    page.goto("about:blank")
    worlds = _injected_scripts(page)
    page.set_content("<input id=a><input id=b maxlength=6>")
    a = page.locator("#a").locator("ob-self=x")
    keyboard.fill(a, "ICG-MM", keyboard.focus(a, select=True))
    keyboard.type_in(page.locator("#b"), "123456")
    keyboard.press(page.locator("#a"), "Enter")
    assert len(set(worlds)) == 1, worlds
    page.locator("#a").fill("x")  # Playwright's own: its utility world
    assert len(set(worlds)) == 2, worlds
