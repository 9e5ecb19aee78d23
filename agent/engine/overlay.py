"""The highlight layer from Python: banner text and numbered boxes, re-applied after navigations."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Error, Locator, Page

from agent.engine import pagelib
from agent.engine.locate import Then


class Overlay:
    def __init__(self, page: Page, enabled: bool = True, pace: float = 0.0) -> None:
        self.page = page
        self.enabled = enabled
        self.pace = pace
        self._banner: tuple[str, str] = ("", "")
        self._lost = False  # a new document loaded since the banner was last shown
        self.still = pagelib.is_still(page.context)  # a window nobody sees (headless)

    @staticmethod
    def install(context: BrowserContext, still: bool = False) -> None:
        """The layer in every document of the context. `still`: a window nobody sees
        (headless): no pulse, no frame loop, and drawn only when looked at (a screenshot,
        agent.artifacts.FLUSH_LAYER); following and animating there only cost CPU (a
        pulsing box kept Chromium busy for as long as it waited). With the page reader: both
        are installed once per document (agent.engine.pagelib)."""
        pagelib.install(context, still)

    def _eval(self, js: str, arg: object) -> None:
        if not self.enabled:
            return
        try:
            pagelib.evaluate(self.page, f"(a) => {{ {js} }}", arg)
        except Error:
            pass  # the page is navigating; the next step re-applies

    def banner(self, text: str, mode: str = "", unseen: bool = False) -> None:
        """Show the banner (a step's own rides the call that reads its page: `banner_js`).

        `unseen`: in a still window nothing would ever show it (the page is about to be
        replaced by a navigation, or the run ends): kept, drawn by the next wait's `reapply`
        should one come, and no call made for it."""
        if unseen and self.still:
            self._banner, self._lost = (text, mode), True
            return
        self._banner, self._lost = (text, mode), False
        self._eval("window.__onboard.banner(a.text, a.mode)", {"text": text, "mode": mode})

    def banner_js(self, text: str, mode: str = "") -> tuple[str, dict[str, str]]:
        """The banner as page script for a call made anyway (the resolver's Rider: `a.ride`),
        taken as shown from now on; no script when the layer is off."""
        self._banner, self._lost = (text, mode), False
        js = "window.__onboard.banner(a.ride.text, a.ride.mode)" if self.enabled else ""
        return js, {"text": text, "mode": mode}

    def lost(self) -> None:
        """A new document loaded: its layer (the init script's) shows no banner yet. Noted
        only: the next step shows its own, and a wait re-shows it (`reapply`); an evaluate
        from the load event itself cost a round trip per navigation on the critical path."""
        self._lost = True

    def reapply(self) -> None:
        """The banner again on a document that loaded since it was shown (a wait's tick)."""
        if self._lost and self._banner[0]:
            self.banner(*self._banner)

    def then_mark(self, key: str, caption: str, human: bool = False) -> Then | None:
        """The box as page script, for the resolver to draw in the round trip that finds the
        element (None when the layer is off)."""
        if not self.enabled:
            return None
        return Then(
            "window.__onboard.mark(el, a.then.key, a.then.caption, a.then.kind, a.then.hold)",
            self._mark_arg(key, caption, human),
        )

    def _mark_arg(self, key: str, caption: str, human: bool) -> dict[str, object]:
        return {
            "key": key,
            "caption": caption,
            "kind": "human" if human else "agent",
            "hold": 0 if human else self.pace * 1000,
        }

    def mark(self, target: Locator, key: str, caption: str, human: bool = False) -> None:
        if not self.enabled:
            return
        try:
            # evaluate_all: one round trip (evaluate is three: resolve, run, release), and no
            # waiting; the target was just found, and one that has gone gets no box.
            pagelib.evaluate_all(
                target,
                "(els, a) => { if (els[0]) window.__onboard.mark(els[0], a.key, a.caption, a.kind, a.hold) }",
                self._mark_arg(key, caption, human),
            )
        except Error:
            pass

    def settle(self) -> None:
        """Let the client see what was just highlighted: wait until the layer says so."""
        if not self.enabled or self.pace <= 0:
            return
        try:
            self.page.wait_for_function(
                "() => !window.__onboard || window.__onboard.settled()",
                timeout=(self.pace + 5) * 1000,
            )
        except Error:
            pass

    def unmark(self, key: str) -> None:
        self._eval("window.__onboard.unmark(a.key)", {"key": key})
