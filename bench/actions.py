"""`python -m bench.actions`: what one screenshot and one click cost, the agent's way against
Playwright's, alternated in one browser on the replica's create form.

Why: a run's CPU is mostly Chromium's and the driver's, spread over a few kinds of action; a
change to how the agent takes a shot or makes a click is measured here on that action alone,
where the whole run's noise would hide it. Per variant, rounds of N actions, A B A B; the
CPU is this process's and every descendant's (the driver, the browser and its helpers: from
/proc), per action, minus a baseline variant that does the same look without the action.
Printed: medians over the rounds after the first (a warm-up), and each variant's ratio to
Playwright's. Variants:

- shots, the form's fields highlighted as a run leaves them: `playwright` (page.screenshot
  of the whole window with masks and the covers' stylesheet: the agent's shot until
  600971a), `whole` (RunArtifacts.screenshot of the whole window: covers shown, CDP capture
  with fast PNG compression, covers off: the agent's until the region shots) and `agent`
  (the same, of the part of the window around what is highlighted: artifacts.region),
  against `look` (the covers only).
- clicks: `playwright` (the agent's look at the point, then Locator.click with Playwright's
  checks) and `agent` (agent.engine.press.press: the look arms a guard, a mouse click at the
  point, the guard read), against `look` (the look only). Two labels of a radio group,
  alternately, so each click changes the page.
- fills of the name field: `playwright` (the look, then Locator.fill) and `agent` (the look
  focuses and selects the field, then one insertText: agent.engine.keyboard), against
  `look` (the look only). The document's utility world, which Playwright's fill needs and
  the agent's does not, is built before the rounds (the warm-up), so not counted here:
  `python -m bench.docs` measures a world.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.batch_ab import cpu_of, tree


def tree_cpu() -> float:
    """CPU seconds so far of this process and all its descendants (live ones)."""
    total = 0.0
    for pid in tree(os.getpid()):
        try:
            total += cpu_of(pid)
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(
    variants: dict[str, Callable[[int], object]], rounds: int, n: int
) -> dict[str, tuple[float, float]]:
    """Per variant: median CPU ms and wall ms per action over the rounds after the first."""
    got: dict[str, list[tuple[float, float]]] = {k: [] for k in variants}
    for _ in range(rounds + 1):
        for name, act in variants.items():
            c0, t0 = tree_cpu(), time.perf_counter()
            for i in range(n):
                act(i)
            got[name].append(((tree_cpu() - c0) * 1000 / n, (time.perf_counter() - t0) * 1000 / n))
    return {
        k: (statistics.median(c for c, _ in v[1:]), statistics.median(w for _, w in v[1:]))
        for k, v in got.items()
    }


def report(title: str, res: dict[str, tuple[float, float]], base: str) -> None:
    print(f"{title}: CPU and wall per action (ms), less `{base}`'s")
    b_cpu, b_wall = res[base]
    net = {k: (c - b_cpu, w - b_wall) for k, (c, w) in res.items() if k != base}
    for k, (c, w) in net.items():
        ratio = c / net["playwright"][0] if net["playwright"][0] > 0 else float("nan")
        print(f"  {k:10s} CPU {c:6.1f}  wall {w:6.1f}  CPU/playwright's {ratio:.2f}")
    print(f"  ({base}: CPU {b_cpu:.1f}, wall {b_wall:.1f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=10, help="actions per variant per round")
    a = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from agent import artifacts
    from agent.artifacts import COVER_ATTR, COVER_JS, MASK_COLOR, SHOW_COVERS, RunArtifacts
    from agent.browser import require_browser
    from agent.engine import keyboard, pagelib
    from agent.engine.press import GUARD_READ_JS, HIT_JS, press
    from replica.server import ReplicaServer
    from tests.replica.test_ui_common import open_create

    with (
        ReplicaServer() as srv,
        sync_playwright() as p,
        tempfile.TemporaryDirectory(prefix="onboard-bench-") as tmp,
    ):
        choice = require_browser(True, p)
        browser = p.chromium.launch(headless=True, **choice.launch_kwargs())  # type: ignore[arg-type]
        page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
        open_create(page, srv.base_url)
        page.locator("[data-okx-field=passphrase] input").fill("Bench-pass-123")
        name = page.locator("[data-okx-field=label] input")
        pagelib.install_here(page)  # the highlight layer, its boxes on the form's fields
        page.locator("[data-okx-field] input:not([type=hidden])").evaluate_all(
            "els => els.forEach((e, i) => window.__onboard.mark(e, 'f' + i, (i + 5) + ' - a field'))"
        )
        art = RunArtifacts(Path(tmp), fast_shots=True)
        masks = [
            page.locator("input[type=password]"),
            page.locator("input[autocomplete='one-time-code'], input[maxlength='1']"),
        ]
        every = masks[0].or_(masks[1])
        cover = f"(els, a) => ({COVER_JS})(els, a)"

        def look(i: int) -> None:
            name.fill(f"ICG-{i}")
            every.evaluate_all(cover, [MASK_COLOR, COVER_ATTR, False])

        def shot_playwright(i: int) -> None:
            look(i)
            page.screenshot(
                path=f"{tmp}/p{i}.png", mask=masks, mask_color=MASK_COLOR, style=SHOW_COVERS
            )

        def shot_agent(i: int) -> None:
            name.fill(f"ICG-{i}")
            art.screenshot(page, f"s{i}")

        region = artifacts.region

        def shot_whole(i: int) -> None:
            artifacts.region = lambda *_: None  # type: ignore[assignment]
            try:
                shot_agent(i)
            finally:
                artifacts.region = region

        shots = measure(
            {"look": look, "playwright": shot_playwright, "whole": shot_whole, "agent": shot_agent},
            a.rounds,
            a.n,
        )
        print(f"the agent's shot: {art.clips[f's{a.n - 1}']} of the window (1920x1080)")
        labels = page.locator("[data-okx-field=usedFor] label")
        hit = f"els => ({HIT_JS})(els[0], false)"

        def point(i: int) -> None:
            labels.nth(i % 2).evaluate_all(hit)

        def click_playwright(i: int) -> None:
            point(i)
            labels.nth(i % 2).click()

        def click_agent(i: int) -> None:
            press(page, labels.nth(i % 2), "a label", lambda _: None, 5)

        clicks = measure(
            {"look": point, "playwright": click_playwright, "agent": click_agent}, a.rounds, a.n
        )
        page.evaluate(GUARD_READ_JS)

        def find(i: int) -> None:
            name.evaluate_all("els => els[0].value")

        def fill_playwright(i: int) -> None:
            find(i)
            name.fill(f"ICG-{i}")

        def fill_agent(i: int) -> None:
            keyboard.fill(name, f"ICG-{i}", keyboard.focus(name, select=True))

        fills = measure(
            {"look": find, "playwright": fill_playwright, "agent": fill_agent}, a.rounds, a.n
        )
    report("screenshot", shots, "look")
    report("click", clicks, "look")
    report("fill", fills, "look")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
