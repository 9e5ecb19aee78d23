"""A step's screenshot shows the region it concerns (what the agent boxed there, with its
caption, and every masked element), not the whole window; a stop's shows the whole window.
Either way the masked field is painted over."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

from agent.artifacts import MASK_COLOR, RunArtifacts
from agent.engine.overlay import Overlay


def _size_and_mask(path: Path) -> tuple[tuple[int, int], int]:
    want = tuple(int(MASK_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(io.BytesIO(path.read_bytes())) as im:
        rgb = im.convert("RGB")
        colors = rgb.getcolors(maxcolors=rgb.width * rgb.height) or []
        return rgb.size, next((n for n, c in colors if c == want), 0)


def test_step_shot_is_its_region_and_a_stop_shot_the_window(
    replica, page: Page, tmp_path: Path
) -> None:
    Overlay.install(page.context)
    page.set_viewport_size({"width": 1600, "height": 900})
    page.goto(f"{replica.base_url}/account/login")
    page.get_by_placeholder("Password").fill("not a real one")
    Overlay(page).mark(page.get_by_placeholder("Email"), "k", "1 - Email: filled by the agent")
    page.wait_for_function("() => window.__onboard.rects().length > 0")
    art = RunArtifacts(tmp_path)

    step = art.screenshot(page, "form-filled")
    stop = art.screenshot(page, "stopped", whole=True)
    assert step is not None and stop is not None
    (sw, sh), step_masked = _size_and_mask(step)
    (ww, wh), stop_masked = _size_and_mask(stop)
    assert (ww, wh) == (1600, 900)
    assert sw < ww and sh < wh, (sw, sh)  # the region, not the window
    email = page.get_by_placeholder("Email").bounding_box()
    assert email is not None and sw >= email["width"]  # the boxed field fits in it
    assert step_masked > 100 and stop_masked > 100  # the password is painted over in both
