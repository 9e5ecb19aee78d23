"""Typing into a field as a person does: the field focused (its content selected, for a fill)
by a page script, then the keyboard.

Why not Playwright's `fill` and `press_sequentially`: they focus the field in Playwright's
utility world, which Playwright builds in each document where it is first needed (its
injected script, some 350 KB, parsed and run again: about 33 ms of CPU per document,
`python -m bench.docs`), and a fill costs about twice the CPU of a focus riding the look
that found the field plus the same `insertText` (`python -m bench.actions`: 13.1 against
6.9 ms, the look aside). The agent's own calls run in the page's main world; so do these.
What reaches the page is what Playwright's fill sends (the text selected, then one
`Input.insertText`; an empty value: the Delete key) and what its typing sends (a key event
per character).

A field these cannot fill the same way (an input of another type, a select, an element that
only says it is a text box) answers `False` to the focus: Playwright's own fill or typing
does it then, with its own checks and errors.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator

from agent.engine.locate import Then

# Playwright's selectText (select=true, for a fill) or focusNode (for typing: the caret at the
# start of an input that had not the focus), on the fields both fill by keyboard; false for
# any other element. True when the field has the focus after it.
FOCUS_JS = r"""(el, select) => {
  if (el.nodeName === 'LABEL' && el.control) el = el.control;
  const input = el.nodeName === 'INPUT', area = el.nodeName === 'TEXTAREA';
  if (input && !/^(|text|email|password|search|tel|url)$/.test((el.type || '').toLowerCase())) return false;
  if (!input && !area && !el.isContentEditable) return false;
  const was = el.getRootNode().activeElement === el;
  if (select && input) el.select();
  else if (select && area) { el.selectionStart = 0; el.selectionEnd = el.value.length; }
  else if (select) {
    const r = document.createRange(); r.selectNodeContents(el);
    const s = getSelection(); s.removeAllRanges(); s.addRange(r);
  }
  el.focus();
  if (!select && input && !was) try { el.setSelectionRange(0, 0); } catch (e) {}
  return el.getRootNode().activeElement === el;
}"""

# For a fill, in the call that finds the field (Context.field_to_fill's `also`): its answer
# (Resolver.then) is `fill`'s `focused`.
FOCUS_TO_FILL = Then(f"return ({FOCUS_JS})(el, true)", {})


def focus(target: Locator, select: bool) -> bool:
    """The first element of `target` focused (its content selected with `select`): one call."""
    js = f"els => !!els[0] && ({FOCUS_JS})(els[0], {'true' if select else 'false'})"
    return bool(target.evaluate_all(js))


def fill(target: Locator, value: str, focused: Any) -> None:
    """`target.fill(value)`, the field already focused and selected (`focused`: FOCUS_JS's
    answer, True); Playwright's fill for any other answer."""
    if focused is not True:
        target.fill(value)
    elif value:
        target.page.keyboard.insert_text(value)
    else:
        target.page.keyboard.press("Delete")


def type_in(target: Locator, text: str) -> None:
    """`target.press_sequentially(text)`: focused by page script, then a key per character."""
    if focus(target, select=False):
        target.page.keyboard.type(text)
    else:
        target.press_sequentially(text)


def press(target: Locator, key: str) -> None:
    """`target.press(key)`: focused by page script (again: a key such as Enter must reach
    this field, wherever the page put the focus since), then the key."""
    if focus(target, select=False):
        target.page.keyboard.press(key)
    else:
        target.press(key)
