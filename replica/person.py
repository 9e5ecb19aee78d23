"""A scripted person for guided runs on mutated pages: does what the agent's handover asks.

The plain `ScriptedClient` logs in, submits and types codes. When the agent cannot place a
step on a page it has never seen, it asks the human in words (agent/engine/runner.py):
"Please click “X” yourself", "Please type V into the field “F” yourself", "Please choose A
and B in “F” yourself", "Please enter these IP addresses yourself: ...", "Please click into
the field “F”; the agent types it for you", "Please set “X” on yourself". This client reads
the request and does it as a person would, by what they can see (replica/person.js): the
visible text, the box under a label, the list that opened; a click lands where the thing
shows (a layer over a select takes it, as it takes a person's). It never sees ARIA or class
names, so it works on every mutation the replica serves (replica/mutations.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PWError
from playwright.sync_api import Page

from replica.client import ScriptedClient

PERSON_JS = Path(__file__).with_name("person.js").read_text()

CLICK = re.compile(r"Please click “(.+?)” yourself")
TYPE = re.compile(r"Please type (.+?) into the field “(.+?)” yourself")
CHOOSE = re.compile(r"Please choose (.+?)(?: \(never (.+?)\))? in “(.+?)” yourself")
IPS = re.compile(r"Please enter these IP addresses yourself: (.+?)\.?$")
FOCUS = re.compile(r"Please click into the field “(.+?)”")
CHECK = re.compile(r"Please set “(.+?)” (on|off) yourself")


@dataclass
class GuidedClient(ScriptedClient):
    """ScriptedClient plus the handover requests; `handovers` lists what it was asked."""

    handovers: list[str] = field(default_factory=list)
    _last: dict[str, float] = field(default_factory=dict)
    _page: Page | None = None

    # -- the page, as a person sees it ------------------------------------------------
    def _js(self, page: Page, expr: str, arg: Any = None) -> Any:
        return page.evaluate(f"(arg) => {{ {PERSON_JS}; return ({expr}); }}", arg)

    def _click_at(self, page: Page, handle_expr: str, arg: Any) -> bool:
        """Click where the element shows (its centre), as a person's mouse does."""
        at = self._js(
            page,
            f"(() => {{ const e = {handle_expr}; return e ? __person.centre(e) : null }})()",
            arg,
        )
        if not at:
            return False
        page.mouse.click(at["x"], at["y"])
        return True

    def _button(self, page: Page, text: str) -> Any:
        """A visible button by its text: a real one, or anything shown as one (a div)."""
        real = super()._button(page, text)
        if real.count():
            return real
        return page.get_by_text(
            re.compile(r"^\s*" + r"\s+".join(map(re.escape, text.split())) + r"\s*$", re.I)
        ).filter(visible=True)

    def _error_shown(self, page: Page) -> bool:
        hint = "[class*='toast'], [class*='form-item-explain'], [role=alert]"
        return page.locator(hint).filter(visible=True).count() > 0

    # -- the requests -----------------------------------------------------------------------
    def act(self, page: Page, need: Any) -> None:
        self._page = page
        say = str(need.say)
        try:
            # Whatever was asked, a banner or an announcement in the way goes first.
            if need.kind != "login" and self._clear_seen(page):
                return
            if need.kind != "act":
                super().act(page, need)
                return
            if say.startswith("Please") and say not in self.handovers:
                self.handovers.append(say)
            self._handover(page, say)
        except PWError as exc:  # the page changed under us; the next tick tries again
            self.actions.append(f"retry: {type(exc).__name__}")

    def paste(self, prompt: str) -> str:
        """The terminal asks for a value it could not read ("paste the secret"): the person
        reads it off the "API key created" window and types it in."""
        label = {"api key": "API key", "secret": "Secret key"}.get(
            prompt.removeprefix("paste the ").strip(), ""
        )
        if not label or self._page is None:
            return ""
        expr = """(() => {
          const inDialog = e => { for (let a = e; a; a = a.parentElement)
            if (getComputedStyle(a).position === 'fixed') return true; return false; };
          const l = __person.byText(arg).find(inDialog); if (!l) return '';
          const all = [...document.body.querySelectorAll('*')].filter(e => e.children.length === 0
            && __person.seen(e) && (l.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)
            && !l.contains(e) && e.innerText.trim());
          return all.length ? all[0].innerText.trim() : '' })()"""
        value = str(self._js(self._page, expr, label) or "")
        self.actions.append(f"pasted the {label}")
        return value

    def _clear_seen(self, page: Page) -> bool:
        """Banners and announcements first, as a person does (any way the buttons look)."""
        for name in ("Got it", "Accept All"):
            if self._click_at(page, "__person.clickable(arg)", name):
                self.actions.append(f"clicked {name}")
                return True
        if page.evaluate("document.documentElement.lang") not in ("en", ""):
            self._clear(page)
            return True
        return False

    def _once(self, key: str, every: float = 3.0) -> bool:
        """Whether to act now: a click is not repeated while its effect may still come."""
        now = time.monotonic()
        if now - self._last.get(key, -1e9) < every:
            return False
        self._last[key] = now
        return True

    def _handover(self, page: Page, say: str) -> None:
        if m := CLICK.search(say):
            if self._once(say) and self._click_at(page, "__person.clickable(arg)", m.group(1)):
                self.actions.append(f"clicked {m.group(1)}")
        elif m := TYPE.search(say):
            self._type_into(page, m.group(2), m.group(1))
        elif m := CHOOSE.search(say):
            want = [w.strip() for w in m.group(1).split(" and ")]
            never = [w.strip() for w in (m.group(2) or "").split(",") if w.strip()]
            self._choose(page, m.group(3), want, never)
        elif m := IPS.search(say):
            self._ips(page, [ip.strip() for ip in m.group(1).split(",")])
        elif m := FOCUS.search(say):
            if self._once(say, 1.0) and self._click_at(page, "__person.fieldFor(arg)", m.group(1)):
                self.actions.append(f"clicked into {m.group(1)}")
        elif m := CHECK.search(say):
            self._check(page, m.group(1), m.group(2) == "on")

    def _type_into(self, page: Page, label: str, value: str) -> None:
        got = self._js(
            page, "(() => { const f = __person.fieldFor(arg); return f ? f.value : null })()", label
        )
        if got is None or got == value:
            return
        if not self._click_at(page, "__person.fieldFor(arg)", label):
            return
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.type(value, delay=self.typing_delay_ms)
        self.actions.append(f"typed into {label}")

    def _shows(self, page: Page, label: str) -> list[str]:
        got = self._js(
            page,
            "(() => { const b = __person.boxFor(arg); return b ? __person.shows(b) : [] })()",
            label,
        )
        return [str(x) for x in got or []]

    def _choose(self, page: Page, label: str, want: list[str], never: list[str]) -> None:
        """Open the box under the label, click each option that differs, close it."""

        def on(name: str) -> bool:
            return any(
                re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", p)
                for p in self._shows(page, label)
            )

        todo = [w for w in want if not on(w)] + [n for n in never if on(n)]
        if not todo or not self._once(f"choose {label}", 1.5):
            return
        self._js(page, "__person.before(arg)", todo)  # the list that opens is what is new
        if not self._click_at(page, "__person.boxFor(arg)", label):
            return
        for name in todo:
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:  # the list may fill a moment late
                expr = "(() => { const b = __person.boxFor(arg[0]); return b ? __person.option(b, arg[1]) : null })()"
                if self._click_at(page, expr, [label, name]):
                    self.actions.append(f"chose {name} in {label}")
                    break
                page.wait_for_timeout(150)
        page.keyboard.press("Escape")

    def _ips(self, page: Page, ips: list[str]) -> None:
        shown = set(self._js(page, "__person.chips()") or [])
        todo = [ip for ip in ips if ip.lower() not in shown]
        if not todo or not self._once("ips", 1.5):
            return
        field_expr = (
            "[...document.querySelectorAll('input')].find(i => !i.disabled && __person.seen(i) "
            "&& /enter ip address/i.test(i.placeholder || '')) || __person.fieldFor(arg)"
        )
        if not self._click_at(page, field_expr, "IP address allowlist (optional)"):
            return
        for ip in todo:
            page.keyboard.type(ip, delay=self.typing_delay_ms)
            page.keyboard.press("Enter")
        self.actions.append("entered the IP addresses")

    def _check(self, page: Page, label: str, on: bool) -> None:
        expr = """(() => { const l = __person.label(arg); if (!l) return null;
          const w = l.closest('label') || l.parentElement;
          const t = w && w.querySelector('input[type=checkbox], input[type=radio]');
          return t ? {checked: t.checked} : null })()"""
        state = self._js(page, expr, label)
        if state is None or bool(state["checked"]) == on or not self._once(f"check {label}", 1.5):
            return
        if self._click_at(page, "__person.label(arg)", label):
            self.actions.append(f"set {label} {'on' if on else 'off'}")
