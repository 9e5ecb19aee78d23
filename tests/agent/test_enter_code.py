"""Verification codes go in the way a person types them, whatever the boxes do."""

from __future__ import annotations

from playwright.sync_api import Page

from agent.engine.verbs.wait_codes import enter_code

BOXES = "".join(
    f'<input maxlength="1" autocomplete="one-time-code" aria-label="digit {i}">' for i in range(6)
)
ADVANCE = """<script>
  const ins = [...document.querySelectorAll('input')];
  ins.forEach((el, i) => el.addEventListener('input', () => {
    window.typed = (window.typed || 0) + 1;
    if (el.value && ins[i + 1]) ins[i + 1].focus();
  }));
</script>"""


def values(page: Page) -> str:
    return "".join(page.locator("input").evaluate_all("els => els.map(e => e.value)"))


def test_boxes_that_move_the_focus_get_the_code_typed(page: Page):
    page.set_content(BOXES + ADVANCE)
    enter_code(page.locator("input"), "492817")
    assert values(page) == "492817"
    assert page.evaluate("window.typed") == 6  # key by key, as typed: no per-box fill


def test_boxes_that_do_not_move_the_focus_get_one_digit_each(page: Page):
    page.set_content(BOXES)
    enter_code(page.locator("input"), "492817")
    assert values(page) == "492817"


def test_boxes_left_holding_an_old_code_end_with_the_new_one(page: Page):
    page.set_content(BOXES + ADVANCE)
    enter_code(page.locator("input"), "111111")
    enter_code(page.locator("input"), "492817")
    assert values(page) == "492817"


def test_one_box_for_the_whole_code(page: Page):
    page.set_content('<input autocomplete="one-time-code">')
    enter_code(page.locator("input"), "492817")
    assert values(page) == "492817"


def test_boxes_that_go_after_the_last_digit_are_left_alone(page: Page):
    """A page that takes the code by itself on the sixth digit: no second attempt."""
    page.set_content(
        BOXES
        + ADVANCE
        + """<script>
      const all = [...document.querySelectorAll('input')];
      all[5].addEventListener('input', () => {
        window.sent = all.map(e => e.value).join(''); all.forEach(e => e.remove()); });
    </script>"""
    )
    enter_code(page.locator("input"), "492817")
    assert page.evaluate("window.sent") == "492817"
    assert page.locator("input").count() == 0
