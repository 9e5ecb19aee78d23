"""A step's screenshot: its padded covers over secret-bearing elements show in the shot and
are off the page the person looks at when the shot returns.

The shot is Chromium's fast-PNG capture over CDP: covers, capture, covers off (three driver
calls; the page's CDP session is opened once, on its first shot; in a window nobody sees the
covers go with the highlight layer's next change instead, and a shot is two calls). Without CDP it is
Playwright's screenshot with its masks and the covers shown by its stylesheet (two calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Error as PWError
from playwright.sync_api import Page

from agent.artifacts import COVER_ATTR, MASK_COLOR, REGION_MIN, REGION_PAD, RunArtifacts, region
from agent.engine import pagelib
from agent.engine.overlay import Overlay
from tests.agent.test_riding import driver_calls

GREY = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))


def _form(page: Page) -> None:
    page.set_viewport_size({"width": 800, "height": 300})
    page.set_content(
        '<p style="font:28px sans-serif">Passphrase</p>'
        '<input type=password value="correct horse" style="font-size:28px;margin-left:60px">'
    )


def _covered(page: Page, shot: Path, left: int = 0) -> None:
    """The cover stands outside the field's box (a mask the size of the box would not), and
    nothing of it is left on the page (`left`: this many covers showing there)."""
    box = page.locator("input").bounding_box()
    assert box is not None
    img = Image.open(shot).convert("RGB")
    assert img.getpixel((int(box["x"]) - 2, int(box["y"] + box["height"] / 2))) == GREY
    assert img.getpixel((int(box["x"] + box["width"] / 2), int(box["y"]) - 2)) == GREY
    assert img.getpixel((int(box["x"] + 8), int(box["y"] + box["height"] / 2))) == GREY
    shown = page.locator(f"[{COVER_ATTR}]").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).display !== 'none').length"
    )
    assert shown == left  # on the page: none showing


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


def test_in_a_window_nobody_sees_the_covers_go_with_the_layers_next_change(
    page: Page, tmp_path: Path
) -> None:
    """A still layer (a headless window: nobody sees the page): the covers stay after the
    shot, inert (the pointer reaches the field through them), and go with the layer's next
    banner or box, in that call. A shot is then two calls (covers, capture), not three."""
    _form(page)
    pagelib.install(page.context, still=True)
    pagelib.install_here(page)
    art = RunArtifacts(tmp_path, fast_shots=True)
    art.screenshot(page, "first")
    with driver_calls() as sent:
        shot = art.screenshot(page, "form")
    assert shot is not None and sent == ["evalOnSelectorAll", "send"], sent
    _covered(page, shot, left=1)
    assert page.evaluate(
        "() => { const e = document.querySelector('input'), r = e.getBoundingClientRect();"
        " return document.elementFromPoint(r.x + 8, r.y + r.height / 2) === e; }"
    )
    with driver_calls() as sent:
        Overlay(page).banner("Step 7/18")
    assert len(sent) == 1, sent
    assert page.locator(f"[{COVER_ATTR}]").count() == 0
    art.screenshot(page, "again")  # and the next shot covers again
    assert page.locator(f"[{COVER_ATTR}]").count() == 1


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


@pytest.mark.parametrize("fast", [True, False], ids=["cdp", "playwright"])
def test_a_shot_keeps_the_highlighted_part_of_a_scrolled_window(
    page: Page, tmp_path: Path, fast: bool
) -> None:
    """With a highlighted field, the shot is the part of the window around the layer's box and
    caption (REGION_MIN at least), taken where the window shows it: the page scrolled, the
    cover sits on the field in the shot, at the field's place less the clip's corner."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.set_content(
        '<div style="height:1500px"></div><p style="font:28px sans-serif">Passphrase</p>'
        '<input type=password value="correct horse" style="font-size:28px;margin-left:660px">'
        '<div style="height:1500px"></div>'
    )
    pagelib.install_here(page)
    page.locator("input").scroll_into_view_if_needed()
    page.locator("input").evaluate("e => window.__onboard.mark(e, 'pass', '6 Passphrase')")
    art = RunArtifacts(tmp_path, fast_shots=fast)
    shot = art.screenshot(page, "region")
    assert shot is not None
    clip = art.clips["region"]
    assert clip is not None and (clip["width"], clip["height"]) == REGION_MIN, clip
    img = Image.open(shot).convert("RGB")
    assert img.size == REGION_MIN
    box = page.locator("input").bounding_box()
    assert box is not None
    x, y = int(box["x"]) - clip["x"], int(box["y"]) - clip["y"]
    assert img.getpixel((x - 2, y + int(box["height"] / 2))) == GREY
    assert img.getpixel((x + 8, y + int(box["height"] / 2))) == GREY
    # The caption is in the shot (its yellow; the box itself is under the field's cover).
    colours = {c: n for n, c in img.getcolors(1 << 20) or []}
    assert colours.get((0xF0, 0xC5, 0x3A), 0) > 200


def test_a_page_the_run_did_not_expect_is_shot_whole(page: Page, tmp_path: Path) -> None:
    """Where a run stopped, or a page that differs from the flow: the whole window, marks or
    not (anything on it may be what went wrong)."""
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.set_content('<input type=password value="correct horse" style="margin:300px">')
    pagelib.install_here(page)
    page.locator("input").evaluate("e => window.__onboard.mark(e, 'pass', '6 Passphrase')")
    art = RunArtifacts(tmp_path, fast_shots=True)
    shot = art.screenshot(page, "stopped", whole=True)
    assert shot is not None and art.clips["stopped"] is None
    assert Image.open(shot).size == (1600, 1000)
    art.screenshot(page, "step")
    assert art.clips["step"] is not None  # the same page, a step's shot: the marked part


def test_nothing_highlighted_is_the_whole_window(page: Page, tmp_path: Path) -> None:
    _form(page)
    pagelib.install_here(page)
    art = RunArtifacts(tmp_path, fast_shots=True)
    shot = art.screenshot(page, "whole")
    assert shot is not None and art.clips["whole"] is None
    assert Image.open(shot).size == (800, 300)


def test_the_region_is_padded_widened_and_kept_in_the_window() -> None:
    w, h = REGION_MIN
    # Small, in the middle: widened about its centre.
    assert region([900, 500, 1000, 540], 1920, 1080) == {
        "x": 950 - w // 2, "y": 520 - h // 2, "width": w, "height": h}  # fmt: skip
    # Against the top-left corner: widened the other way, inside the window.
    assert region([5, 5, 50, 20], 1920, 1080) == {"x": 0, "y": 0, "width": w, "height": h}
    # Against the bottom-right corner.
    assert region([1900, 1060, 1915, 1075], 1920, 1080) == {
        "x": 1920 - w, "y": 1080 - h, "width": w, "height": h}  # fmt: skip
    # Large: padded by REGION_PAD, kept inside.
    assert region([100, 100, 1300, 700], 1920, 1080) == {
        "x": 100 - REGION_PAD, "y": 100 - REGION_PAD,
        "width": 1200 + 2 * REGION_PAD, "height": 600 + 2 * REGION_PAD}  # fmt: skip
    # Nearly the whole window, nothing shown, or a window smaller than the least region.
    assert region([10, 10, 1900, 1000], 1920, 1080) is None
    assert region(None, 1920, 1080) is None
    assert region([10, 10, 50, 50], 800, 300) is None
