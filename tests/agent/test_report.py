"""The batch report at full size: 24 entries, each with a real run's screenshots and log.

One real run of the agent against a marked replica gives the screenshots (the filled form
with the overlay, the created dialog, the key list: Chromium's own PNGs) and the run log;
24 batch entries in a real journal each point at a copy of it, as a 24-entry batch would.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agent import report
from agent.artifacts import REGION_MIN
from agent.batch_outcomes import entry_result as _entry_result
from agent.config import Settings
from agent.journal import Journal
from tests.helpers import DOC_IPS
from tests.leaks import Needles, pixel_leaks, scan

N = 24
T0 = 1_750_000_000.0
LIMIT = 1_500_000


class Tags(HTMLParser):
    """Every start tag and its attributes, and the text, as a browser's parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def batch_of(settings: Settings, result: dict[str, Any], n: int) -> str:
    """A finished batch of `n` entries in the journal, each attempt a copy of one real run."""
    src = Path(result["artifacts"])
    j = Journal(settings.journal_file)
    try:
        entries = [
            {"id": f"client-{i:02d}", "label": f"ICG-{i:02d} <b>&", "account": "main",
             "profile": f"p{i}"}
            for i in range(n)
        ]  # fmt: skip
        j.batch_start("b-24", "clients.yaml", "digest", entries)
        for i, e in enumerate(entries):
            run_id = f"{src.name}-{i:02d}"
            shutil.copytree(src, settings.runs_dir / run_id)
            j.start(run_id, e["label"], "main", "replica", batch_id="b-24", entry_id=e["id"])
            j.set(run_id, "verified")
            # Two at a time, a minute each; the second half resumed a day later.
            start = T0 + (i // 2) * 60 + (86_400 if i >= n // 2 else 0)
            j.db.execute("update runs set started = ?, updated = ? where id = ?",
                         (start, start + 60, run_id))  # fmt: skip
            outcome = "ok" if i % 8 else "failed"  # a few failures, as a real batch has
            j.batch_entry_done("b-24", e["id"], outcome,
                               _entry_result(j.get(run_id), result, settings))  # fmt: skip
        j.batch_set("b-24", "done")
    finally:
        j.close()
    return "b-24"


@pytest.mark.slow
@pytest.mark.scenarios("marked")
def test_24_entry_report_is_small_complete_and_secret_free(
    run_agent: Callable[..., dict[str, Any]], replica, settings: Settings, tmp_path: Path
) -> None:
    result = run_agent(auto=True, auto_submit=True)
    assert result["status"] == "ok", result
    shots = sorted(Path(result["artifacts"]).glob("*.png"))
    assert [re.sub(r"^\d+-", "", p.stem) for p in shots] == [
        "form-filled", "key-created", "key-listed",
    ]  # fmt: skip
    raw = sum(p.stat().st_size for p in shots) * N
    assert raw > LIMIT  # the PNGs inlined as they are would not fit

    batch_id = batch_of(settings, result, N)
    j = Journal(settings.journal_file)
    try:
        json_path, html_path = report.write(j, batch_id, settings, tmp_path / "rep")
    finally:
        j.close()
    size = html_path.stat().st_size
    assert size < LIMIT, f"{size} bytes for {N} entries"
    html = html_path.read_text(encoding="utf-8")

    p = Tags()
    p.feed(html)
    assert not [t for t, _ in p.tags if t in ("script", "link", "iframe")]
    # Every screenshot twice: a thumbnail that links to its enlarged copy, both WebP, both
    # smaller than Chromium's PNG, the enlarged one the larger of the two.
    links = {a["href"]: a for t, a in p.tags if t == "a" and a.get("href")}
    imgs = [a for t, a in p.tags if t == "img"]
    assert len(imgs) == 2 * 3 * N
    assert all((a["src"] or "").startswith("data:image/webp;base64,") for a in imgs)
    zooms = [a for t, a in p.tags if t == "a" and "zoom" in (a.get("class") or "")]
    assert len(zooms) == 3 * N
    for z in zooms:
        assert f"#{z['id']}" in links  # a thumbnail opens it
    sizes = []
    for a in imgs:
        data = base64.b64decode((a["src"] or "").split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "WEBP"
            sizes.append(im.size)
    # Thumbnails at THUMB_WIDTH; the enlarged copy at LARGE_WIDTH, or the shot's own width
    # where the shot (the part of the window around what was highlighted) is narrower.
    thumbs = [w for w, _ in sizes if w == report.THUMB_WIDTH]
    assert len(thumbs) == 3 * N
    assert all(
        REGION_MIN[0] <= w <= report.LARGE_WIDTH for w, _ in sizes if w != report.THUMB_WIDTH
    )

    # The summary table: permissions and IPs for each entry; the batch's numbers and chart.
    text = " ".join(p.text)
    assert text.count("read_only, trade") >= N
    assert text.count(", ".join(DOC_IPS)) >= N
    assert re.search(rf"done\s*{N}/{N}", text)
    assert re.search(rf"keys made\s*{N - 3}", text)
    # 12 minutes with a run going, a day between: 21 keys in 12 minutes is 105 an hour.
    assert re.search(r"duration\s*24h 12m 00s", text)
    assert re.search(r"active\s*12m 00s", text)
    assert re.search(r"throughput\s*105.0 keys/h", text)
    assert re.search(r"per entry\s*30s", text)
    # The chart: one bar per step that ran, as the run log has them.
    steps = json.loads(json_path.read_text())["entries"][0]["steps"]
    ran = {s["step"] for s in steps if s.get("status") == "done"}
    assert len(ran) > 5 and html.count("<rect") == len(ran)
    for name in ran:
        assert f">{name}</text>" in html or len(name) > 44
    # Autoescape: a label's markup is text, not markup.
    assert "ICG-00 &lt;b&gt;&amp;" in html and "ICG-00 <b>" not in html

    # No secret, passphrase or full API key in any form, in the text or in any image; the
    # key shows masked (its last 4 characters), as the secret never shows at all.
    needles = Needles()
    needles.add_replica(replica.base_url)
    assert needles.of("api key") and needles.of("secret") and needles.of("passphrase")
    found = scan({"rep": tmp_path / "rep"}, {}, needles)
    assert not found.hits, [str(h) for h in found.hits]
    inlined = [i for i in found.images if "#data-uri-" in i[0]]
    assert len(inlined) == 2 * 3 * N
    assert pixel_leaks(inlined) == []
    [key] = needles.of("api key")
    assert html.count("…" + key[-4:]) >= N


def test_report_of_a_batch_that_did_not_get_far(tmp_path: Path) -> None:
    """No run at all for one entry, a run with no log or screenshot for the other: the report
    still renders, says what to do, and has no numbers it cannot know (no chart, no ETA)."""
    settings = Settings(home=tmp_path / "home")
    j = Journal(settings.journal_file)
    try:
        j.batch_start("b-2", "clients.yaml", "d", [
            {"id": "a", "label": "A", "account": "main"},
            {"id": "b", "label": "B", "account": "main"},
        ])  # fmt: skip
        j.start("r-a", "A", "main", "replica", batch_id="b-2", entry_id="a")
        j.set("r-a", "failed", note="the browser did not start")
        j.batch_entry_done("b-2", "a", "failed", json.dumps({"message": "no browser"}))
        j.batch_set("b-2", "interrupted")
        _, html_path = report.write(j, "b-2", settings, tmp_path / "rep")
    finally:
        j.close()
    html = html_path.read_text(encoding="utf-8")
    assert "not started: re-run the batch" in html
    assert "no browser" in html
    assert "<svg" not in html and "<img" not in html
    assert re.search(r"done<br><b>1/2</b>", html) and "0.0 keys/h" in html


def test_masks_shrunk_into_the_report_leave_no_marker_pixel(tmp_path: Path) -> None:
    """The report's lossy copy of a masked screenshot has no pixel the secret-pixel check
    counts: many mask boxes at odd offsets beside black rules and grey blocks, as a dialog
    with masked values looks. (Playwright's magenta masks left one such pixel here.)"""
    from PIL import ImageDraw

    from agent.artifacts import MASK_COLOR
    from tests.leaks import marked_pixels

    im = Image.new("RGB", (1920, 1080), "white")
    draw = ImageDraw.Draw(im)
    for i in range(40):
        x, y = 37 * i + 3, 23 * i + 5
        draw.rectangle((x, y, x + 200 + i, y + 31 + i % 7), fill=MASK_COLOR)
        draw.line((x - 20, y + 40 + i % 3, x + 180, y + 40 + i % 3), fill="black", width=2)
        draw.rectangle((1900 - x, y, 1990 - x, y + 20), fill="#f4f4f4")
    shot = tmp_path / "01-key-created.png"
    im.save(shot)
    for (width, _quality), webp in zip(report.SIZES, report.shrink(shot), strict=True):
        assert marked_pixels(webp) == (0, None), width
