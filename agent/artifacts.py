"""What a run leaves behind: a structured log, masked screenshots, an optional trace.

Every artifact is written through the redaction layer or with masks over
secret-bearing elements; the Playwright trace is paused while secrets are on
the page (from the passphrase until after the credentials are confirmed).
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Locator, Page
from playwright.sync_api import Error as PWError

from agent.config import private_dir
from agent.custody import redact

# Neutral dark grey, not Playwright's default magenta: a lossy copy (the report's WebP) smears
# colour over 2x2 pixels, and at magenta's edges against white or black that smear leaves a
# pixel with a blue cast, the one thing the secret-pixel check must never see (CI failed once
# on exactly that). A grey mask has no colour to smear; tests/agent/test_report.py.
MASK_COLOR = "#2B2B2B"
# Each secret-bearing element gets a cover a little larger than its layout box: a glyph's
# anti-aliased edge can stand a pixel outside the box (seen on the last character of an API
# key: one pixel a quarter its colour), so a mask the size of the box is not enough.
#
# In a headless browser the agent started, the shot itself is Chromium's capture over CDP
# with `optimizeForSpeed` (fast PNG compression): Playwright's `page.screenshot` compresses
# its PNG hard, and that was most of a shot's cost (`python -m bench.actions`: about half the
# CPU per shot across the processes; the file is about 45 % larger). The covers are shown for
# that shot and taken off after it: by the highlight layer's next banner or box (a still
# layer, in a window nobody sees: they ride on that call, none of their own), else at once.
# Elsewhere (`fast_shots` off, or no CDP) it is
# `page.screenshot` with Playwright's masks over the same elements, and the covers are put on
# the page hidden and shown only by the screenshot's own stylesheet (SHOW_COVERS); the next
# shot's covers replace them.
COVER_ATTR = "data-onboard-mask"
SHOW_COVERS = f"[{COVER_ATTR}] {{ display: block !important; }}"
COVER_JS = """(els, [color, attr, show]) => {
  const off = () => document.querySelectorAll('[' + attr + ']').forEach((d) => d.remove());
  off();
  for (const e of els) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const pad = Math.max(3, Math.ceil(parseFloat(getComputedStyle(e).fontSize) * 0.25 || 0));
    const d = document.createElement("div");
    d.setAttribute(attr, "");
    d.style.cssText = "display:" + (show ? "block" : "none") + ";position:fixed;margin:0;border:0;padding:0;pointer-events:none;" +
      "z-index:2147483647;background:" + color + ";left:" + (r.left - pad) + "px;top:" +
      (r.top - pad) + "px;width:" + (r.width + 2 * pad) + "px;height:" + (r.height + 2 * pad) + "px";
    document.documentElement.appendChild(d);
  }
  const o = window.__onboard;
  return !!(show && o && o.untilNext && o.untilNext(off));
}"""


# The highlight layer laid out for the shot: in a window nobody sees (headless) it is laid out
# only when looked at, here (agent/engine/overlay.js), not on every frame of the run.
FLUSH_LAYER = "window.__onboard && window.__onboard.flush && window.__onboard.flush()"
# Then what the shot keeps: the rectangle of the layer's boxes and captions, the window's size
# and how far the page is scrolled (a CDP clip is in page coordinates).
FRAME_JS = """(() => {
  const o = window.__onboard;
  return { extent: o && o.extent ? o.extent() : null, w: innerWidth, h: innerHeight,
           x: scrollX, y: scrollY, hidden: document.hidden };
})()"""

# A shot is the part of the window the agent highlighted (the form's fields, the created
# dialog, the new key's row), with this much of the page around it, and never smaller than
# this (the heading over a form, the columns of a list). Why: a shot's cost follows its
# pixels, in Chromium (the frame read back and encoded), in the driver and this process (the
# image over the wire) and in the batch report (scaled and encoded again): `python -m
# bench.actions` measures the shot. What the agent did not highlight shows nothing the
# evidence needs; a step with nothing highlighted, or a region near the window's size, is
# shot whole.
REGION_PAD = 40
REGION_MIN = (960, 540)


def region(extent: list[float] | None, width: int, height: int) -> dict[str, int] | None:
    """The clip (window coordinates, whole pixels) around `extent` (left, top, right, bottom
    in the window): padded, widened to REGION_MIN about its centre and kept inside the
    window. None: the whole window."""
    if not extent or width <= 0 or height <= 0:
        return None
    left, top, right, bottom = extent

    def span(lo: float, hi: float, least: int, size: int) -> tuple[int, int]:
        a, b = math.floor(lo - REGION_PAD), math.ceil(hi + REGION_PAD)
        if b - a < least:
            a = math.floor((a + b - least) / 2)
            b = a + least
        a, b = max(0, a), min(size, b)
        if b - a < least:  # against an edge: widened the other way
            return (0, min(size, least)) if a == 0 else (max(0, size - least), size)
        return a, b

    x0, x1 = span(left, right, REGION_MIN[0], width)
    y0, y1 = span(top, bottom, REGION_MIN[1], height)
    if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) >= 0.85 * width * height:
        return None
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


UNCOVER_JS = "attr => document.querySelectorAll('[' + attr + ']').forEach((d) => d.remove())"


class RunArtifacts:
    def __init__(self, root: Path, trace: bool = False, fast_shots: bool = False) -> None:
        """`fast_shots`: screenshots over CDP (see above), for a headless browser the agent
        started, where every page paints. A window a person uses can have the page in a
        tab behind another, and Chromium's capture over a new CDP session then waits for a
        frame that never comes (seen with the client's Chrome over --cdp, another tab in
        front); Playwright's screenshot there."""
        self.id = time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        self.dir = private_dir(private_dir(root) / self.id)
        self.log_path = self.dir / "log.jsonl"
        self.trace = trace
        self.context: BrowserContext | None = None
        self._chunk = 0
        self._tracing = False
        self.files: list[Path] = [self.log_path]
        self.fast_shots = fast_shots
        self._cdp: list[tuple[Page, CDPSession | None]] = []  # per page; None: no CDP there
        self.clips: dict[str, dict[str, int] | None] = {}  # each shot's part of the window

    def log(self, event: str, **fields: Any) -> None:
        """One JSON line per event; every value passes the redaction layer."""
        record = {"t": round(time.time(), 3), "event": event, **fields}
        line = redact.redact(json.dumps(record, default=str))
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as fh:
            fh.write(line + "\n")

    # -- tracing ---------------------------------------------------------------
    def attach(self, context: BrowserContext) -> None:
        self.context = context
        if self.trace:
            context.tracing.start(screenshots=True, snapshots=True)
            self._tracing = True
            self.log("trace", state="recording")

    def pause_trace(self) -> None:
        """Stop the trace outright (not just a chunk: the network log would carry on)."""
        if self.context and self._tracing:
            self._save_trace()
            self.log("trace", state="paused: secrets on the page")

    def resume_trace(self) -> None:
        if self.context and self.trace and not self._tracing:
            self.context.tracing.start(screenshots=True, snapshots=True)
            self._tracing = True
            self.log("trace", state="recording")

    def _save_trace(self) -> None:
        assert self.context is not None
        self._chunk += 1
        path = self.dir / f"trace-{self._chunk}.zip"
        self.context.tracing.stop(path=str(path))
        path.chmod(0o600)
        self.files.append(path)
        self._tracing = False

    def close(self) -> None:
        if self.context and self._tracing:
            try:
                self._save_trace()
            except Exception:
                self._tracing = False

    # -- screenshots -------------------------------------------------------------
    def _session(self, page: Page) -> CDPSession | None:
        """The page's CDP session for the shots, opened on its first shot; None without
        `fast_shots` or where the browser has no CDP (the shot is then Playwright's)."""
        if not self.fast_shots:
            return None
        for known, session in self._cdp:
            if known is page:
                return session
        try:
            found: CDPSession | None = page.context.new_cdp_session(page)
        except PWError:
            found = None
        self._cdp.append((page, found))
        return found

    def screenshot(
        self,
        page: Page,
        name: str,
        extra_masks: list[Locator] | None = None,
        whole: bool = False,
    ) -> Path | None:
        """A PNG of the window's highlighted part (`region`), every secret-bearing element
        painted over. `whole`: the whole window, for a page the run did not expect (where it
        stopped, a page that differs from the flow): anything on it may be what went wrong."""
        masks = [
            page.locator("input[type=password]"),
            page.locator("input[autocomplete='one-time-code'], input[maxlength='1']"),
            *(extra_masks or []),
        ]
        # (No mask is built from a secret's value: the selector itself would land in traces.)
        path = self.dir / f"{len([f for f in self.files if f.suffix == '.png']) + 1:02d}-{name}.png"
        every = masks[0]
        for m in masks[1:]:
            every = every.or_(m)  # one round trip for all the covers, not one per mask
        try:
            cdp = self._session(page)
            frame = every.evaluate_all(
                f"(els, a) => {{ const later = ({COVER_JS})(els, a); {FLUSH_LAYER}; "
                f"return Object.assign({FRAME_JS}, {{ later }}) }}",
                [MASK_COLOR, COVER_ATTR, cdp is not None],
            )
            if frame["hidden"]:  # another tab in front: nothing is painted
                page.bring_to_front()
            clip = None if whole else region(frame["extent"], int(frame["w"]), int(frame["h"]))
            if cdp is None:
                page.screenshot(
                    path=str(path), mask=masks, mask_color=MASK_COLOR, full_page=False,
                    style=SHOW_COVERS, clip=clip,  # type: ignore[arg-type]
                )  # fmt: skip
            else:
                params: dict[str, Any] = {"format": "png", "optimizeForSpeed": True}
                if clip:  # in page coordinates: the window's part, where the page is scrolled
                    params["clip"] = {**clip, "x": clip["x"] + frame["x"],
                                      "y": clip["y"] + frame["y"], "scale": 1}  # fmt: skip
                try:
                    shot = cdp.send("Page.captureScreenshot", params)
                finally:
                    if not frame["later"]:  # else the still layer's next banner or box does
                        page.evaluate(UNCOVER_JS, COVER_ATTR)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(base64.b64decode(shot["data"]))
        except PWError as exc:
            # Evidence, never a reason to fail a run (the key may be on screen right now).
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.log("screenshot", name=name, error=first)
            return None
        path.chmod(0o600)
        self.files.append(path)
        self.clips[name] = clip  # None: the whole window
        self.log("screenshot", name=name, file=path.name, clip=clip)
        return path
