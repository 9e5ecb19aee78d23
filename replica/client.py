"""A scripted client: plays the human's part against the replica (demo, tests, bench).

It does only what a person at the keyboard would: types their own email,
password and authenticator code on the login page, clicks Submit all when
asked, and types each verification code it "receives" (the replica's outbox
stands in for the phone and mailbox). The agent never calls any of this
directly; it only sees a human who acts while it waits.

Like a person, it goes by what the page shows, never by ARIA (okx.com's markup
has none): buttons by their text, the six code boxes, error toasts by sight, the
language menu by its text. It reads English and the replica's French (lang-fr).
It works on every DOM mode of the replica (known, aria, prefixed, covered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyotp
from playwright.sync_api import Locator, Page

from replica.i18n import FR
from replica.outbox import latest

# What a person recognises as "something went wrong": a toast or a red line under a field.
# The class names, with and without the CSS-module prefix of the `prefixed` mode.
_ERROR_CSS = ", ".join(
    f".{p}okui-{c}" for p in ("", "balance_") for c in ("toast", "form-item-explain")
)


def _either(text: str) -> re.Pattern[str]:
    """The English text or its French translation, whole."""
    options = {text, FR.get(text, text)}
    return re.compile("^(" + "|".join(re.escape(o) for o in options) + ")$")


@dataclass
class ScriptedClient:
    base_url: str
    email: str
    password: str
    totp_secret: str | None
    typing_delay_ms: float = 35  # a person types; it also shows in a headed demo
    actions: list[str] = field(default_factory=list)
    _alert_seen: bool = False
    _submits: int = 0
    _asked: Any = None  # the submit request being answered (a new one is a new submission)

    @classmethod
    def for_seed(cls, base_url: str, account: Any, **kw: Any) -> ScriptedClient:
        return cls(base_url, account.email, account.password, account.totp_secret, **kw)

    def act(self, page: Page, need: Any) -> None:
        try:
            if need.kind == "login":
                self._login(page)
            elif need.kind == "submit":
                if need is not self._asked:  # asked again: the next key's own submission
                    self._asked, self._submits, self._alert_seen = need, 0, False
                self._submit(page)
            elif need.kind == "code":
                self._code(page, need.factor)
            elif need.kind == "act":
                self._clear(page)
        except Exception as exc:  # the page changed under us; the next tick tries again
            self.actions.append(f"retry: {type(exc).__name__}")

    def _button(self, page: Page, text: str) -> Locator:
        """A visible button by its text (a native <button> is a button on every DOM mode)."""
        return page.get_by_role("button", name=_either(text)).filter(visible=True)

    def _type(self, page: Page, placeholder: str, text: str) -> bool:
        box = page.get_by_placeholder(_either(placeholder))
        if box.count() != 1 or not box.is_visible() or box.input_value():
            return False
        box.click()
        box.press_sequentially(text, delay=self.typing_delay_ms)
        return True

    def _login(self, page: Page) -> None:
        if self._type(page, "Email", self.email):
            self._type(page, "Password", self.password)
            self._button(page, "Log in").click()
            self.actions.append("login: email+password")
            return
        if self.totp_secret and self._type(
            page, "Authenticator app code", pyotp.TOTP(self.totp_secret).now()
        ):
            self._button(page, "Confirm").click()
            self.actions.append("login: totp")

    def _clear(self, page: Page) -> None:
        """What a person does about banners, announcements and a foreign-language page."""
        for name in ("Got it", "Accept All"):  # the topmost first, as a person would
            button = self._button(page, name)
            if button.count() == 1:
                button.click()
                self.actions.append(f"clicked {name}")
                return
        if page.evaluate("document.documentElement.lang") != "en":
            page.get_by_text(FR["English/EUR"], exact=True).click()
            page.get_by_text("English", exact=True).filter(visible=True).click()
            self.actions.append("switched the site to English")

    def _error_shown(self, page: Page) -> bool:
        return page.locator(_ERROR_CSS).filter(visible=True).count() > 0

    def _submit(self, page: Page) -> None:
        alert = self._error_shown(page)
        if self._submits == 0 or (alert and not self._alert_seen):
            self._button(page, "Submit all").click()
            self._submits += 1
            self.actions.append("clicked Submit all")
        self._alert_seen = alert

    def outbox_code(self, channel: str) -> str | None:
        return latest(self.base_url, channel, self.email if channel == "email" else None)

    def _code(self, page: Page, factor: str | None) -> None:
        """The six boxes in front of them: click the first, type the code, press Enter.

        Enter does what Continue/Confirm does; where the boxes submit by themselves
        (codes-autosubmit) the button is disabled by then and Enter does nothing.
        """
        boxes = page.locator("input[autocomplete='one-time-code']").filter(visible=True)
        if boxes.count() != 6 or any(boxes.nth(i).input_value() for i in range(6)):
            return
        code: str | None
        if factor == "totp":
            code = pyotp.TOTP(self.totp_secret or "").now()
        else:
            code = self.outbox_code(factor or "")
        if not code:
            return
        boxes.first.click()
        page.keyboard.type(code, delay=self.typing_delay_ms)
        page.keyboard.press("Enter")
        self.actions.append(f"typed {factor} code")
