"""A step's screenshot: its padded covers over secret-bearing elements show in the shot and
are off the page the person looks at when the shot returns.

The shot is Chromium's fast-PNG capture over CDP: covers, capture, covers off (three driver
calls; the page's CDP session is opened once, on its first shot). Without CDP it is
Playwright's screenshot with its masks and the covers shown by its stylesheet (two calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Error as PWError
from playwright.sync_api import Page

from agent.artifacts import COVER_ATTR, MASK_COLOR, RunArtifacts
from tests.agent.test_riding import driver_calls

GREY = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))


def _form(page: Page) -> None:
    page.set_viewport_size({"width": 800, "height": 300})
    page.set_content(
        '<p style="font:28px sans-serif">Passphrase</p>'
        '<input type=password value="correct horse" style="font-size:28px;margin-left:60px">'
    )


def _covered(page: Page, shot: Path) -> None:
    """The cover stands outside the field's box (a mask the size of the box would not), and
    nothing of it is left on the page."""
    box = page.locator("input").bounding_box()
    assert box is not None
    img = Image.open(shot).convert("RGB")
    assert img.getpixel((int(box["x"]) - 2, int(box["y"] + box["height"] / 2))) == GREY
    assert img.getpixel((int(box["x"] + box["width"] / 2), int(box["y"]) - 2)) == GREY
    assert img.getpixel((int(box["x"] + 8), int(box["y"] + box["height"] / 2))) == GREY
    shown = page.locator(f"[{COVER_ATTR}]").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).display !== 'none').length"
    )
    assert shown == 0  # on the page: none showing


def test_the_covers_show_in_the_shot_and_are_off_the_page_after(page: Page, tmp_path: Path) -> None:
    _form(page)
    art = RunArtifacts(tmp_path, fast_shots=True)
    with driver_calls() as sent:
        shot = art.screenshot(page, "form")
    assert shot is not None
    assert sent == ["newCDPSession", "evalOnSelectorAll", "send", "evaluateExpression"], sent
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_mode & 0o777 == 0o600
    _covered(page, shot)
    assert page.locator(f"[{COVER_ATTR}]").count() == 0
    with driver_calls() as sent:  # the session is the page's: opened once
        again = art.screenshot(page, "again")
    assert again is not None and len(sent) == 3, sent
    _covered(page, again)


def test_without_cdp_the_shot_is_playwrights_with_its_masks(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser that gives no CDP session: Playwright's screenshot, the covers shown by its
    stylesheet only (hidden on the page), its own masks over the same elements."""

    def no_cdp(*_: object) -> None:
        raise PWError("CDP session is only available in Chromium")

    _form(page)
    monkeypatch.setattr(page.context, "new_cdp_session", no_cdp)
    art = RunArtifacts(tmp_path, fast_shots=True)
    with driver_calls() as sent:
        shot = art.screenshot(page, "form")
    assert shot is not None and sent == ["evalOnSelectorAll", "screenshot"], sent
    _covered(page, shot)
    art.screenshot(page, "again")  # a second shot replaces the covers, it does not add to them
    assert page.locator(f"[{COVER_ATTR}]").count() == 1


def test_a_window_a_person_uses_gets_playwrights_shot(page: Page, tmp_path: Path) -> None:
    """Without fast_shots (a headed window, the client's Chrome over --cdp): no CDP session is
    opened, and the shot is Playwright's."""
    _form(page)
    art = RunArtifacts(tmp_path)
    with driver_calls() as sent:
        shot = art.screenshot(page, "form")
    assert shot is not None and sent == ["evalOnSelectorAll", "screenshot"], sent
    _covered(page, shot)


def test_a_scrolled_page_is_shot_as_the_window_shows_it(page: Page, tmp_path: Path) -> None:
    """The shot is the window as scrolled, and the covers (placed in window coordinates) sit
    on the field in it: a shot of the page's top would hold the field's place uncovered."""
    page.set_viewport_size({"width": 800, "height": 300})
    page.set_content(
        '<div style="height:1500px"></div><p style="font:28px sans-serif">Passphrase</p>'
        '<input type=password value="correct horse" style="font-size:28px;margin-left:60px">'
        '<div style="height:1500px"></div>'
    )
    page.locator("input").scroll_into_view_if_needed()
    assert page.evaluate("scrollY") > 1000
    shot = RunArtifacts(tmp_path, fast_shots=True).screenshot(page, "scrolled")
    assert shot is not None
    _covered(page, shot)
