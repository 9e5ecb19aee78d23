"""A step's screenshot: its padded covers over secret-bearing elements show in the shot and
never on the page the person looks at, in two driver calls (the covers and the shot)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from agent.artifacts import COVER_ATTR, MASK_COLOR, RunArtifacts
from tests.agent.test_riding import driver_calls


def test_the_covers_show_in_the_shot_only_and_cost_no_call_to_take_off(
    page: Page, tmp_path: Path
) -> None:
    """Before: a third call took the covers off after each shot (and they showed on the
    page meanwhile)."""
    page.set_viewport_size({"width": 800, "height": 300})
    page.set_content(
        '<p style="font:28px sans-serif">Passphrase</p>'
        '<input type=password value="correct horse" style="font-size:28px;margin-left:60px">'
    )
    art = RunArtifacts(tmp_path)
    with driver_calls() as sent:
        shot = art.screenshot(page, "form")
    assert shot is not None and len(sent) == 2, sent
    shown = page.locator(f"[{COVER_ATTR}]").evaluate_all(
        "els => els.filter(e => getComputedStyle(e).display !== 'none').length"
    )
    assert shown == 0  # on the page: hidden
    box = page.locator("input").bounding_box()
    assert box is not None
    grey = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    img = Image.open(shot).convert("RGB")
    # Just outside the field's box (Playwright's own mask stops at the box): the cover.
    assert img.getpixel((int(box["x"]) - 2, int(box["y"] + box["height"] / 2))) == grey
    assert img.getpixel((int(box["x"] + box["width"] / 2), int(box["y"]) - 2)) == grey
    # A second shot replaces the covers, it does not add to them.
    art.screenshot(page, "again")
    assert page.locator(f"[{COVER_ATTR}]").count() == 1
