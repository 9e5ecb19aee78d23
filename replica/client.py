"""A scripted client: plays the human's part against the replica (demo, tests, bench).

It does only what a person at the keyboard would: types their own email,
password and authenticator code on the login page, clicks Submit all when
asked, and types each verification code it "receives" (the replica's outbox
stands in for the phone and mailbox). The agent never calls any of this
directly; it only sees a human who acts while it waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyotp
from playwright.sync_api import Page

from replica.outbox import latest


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

    @classmethod
    def for_seed(cls, base_url: str, account: Any, **kw: Any) -> ScriptedClient:
        return cls(base_url, account.email, account.password, account.totp_secret, **kw)

    def act(self, page: Page, need: Any) -> None:
        try:
            if need.kind == "login":
                self._login(page)
            elif need.kind == "submit":
                self._submit(page)
            elif need.kind == "code":
                self._code(page, need.factor)
            elif need.kind == "act":
                self._clear(page)
        except Exception as exc:  # the page changed under us; the next tick tries again
            self.actions.append(f"retry: {type(exc).__name__}")

    def _type(self, page: Page, placeholder: str, text: str) -> bool:
        box = page.get_by_placeholder(placeholder, exact=True)
        if box.count() != 1 or not box.is_visible() or box.input_value():
            return False
        box.click()
        box.press_sequentially(text, delay=self.typing_delay_ms)
        return True

    def _login(self, page: Page) -> None:
        if self._type(page, "Email", self.email):
            self._type(page, "Password", self.password)
            page.get_by_role("button", name="Log in", exact=True).click()
            self.actions.append("login: email+password")
            return
        if self.totp_secret and self._type(
            page, "Authenticator app code", pyotp.TOTP(self.totp_secret).now()
        ):
            page.get_by_role("button", name="Confirm", exact=True).click()
            self.actions.append("login: totp")

    def _clear(self, page: Page) -> None:
        """What a person does about banners, announcements and a foreign-language page."""
        for name in ("Got it", "Accept All"):  # the topmost first, as a person would
            button = page.get_by_role("button", name=name, exact=True).filter(visible=True)
            if button.count() == 1:
                button.click()
                self.actions.append(f"clicked {name}")
                return
        if page.evaluate("document.documentElement.lang") != "en":
            page.get_by_text("Français/EUR").click()
            page.get_by_role("option", name="English", exact=True).click()
            self.actions.append("switched the site to English")

    def _submit(self, page: Page) -> None:
        alert = page.get_by_role("alert").filter(visible=True).count() > 0
        if self._submits == 0 or (alert and not self._alert_seen):
            page.get_by_role("button", name="Submit all", exact=True).click()
            self._submits += 1
            self.actions.append("clicked Submit all")
        self._alert_seen = alert

    def outbox_code(self, channel: str) -> str | None:
        return latest(self.base_url, channel, self.email if channel == "email" else None)

    def _code(self, page: Page, factor: str | None) -> None:
        dialog = page.get_by_role("dialog").filter(visible=True)
        boxes = dialog.locator("input[autocomplete='one-time-code']")
        if boxes.count() != 6 or any(boxes.nth(i).input_value() for i in range(6)):
            return
        if factor == "totp":
            code = pyotp.TOTP(self.totp_secret or "").now()
        else:
            code = self.outbox_code(factor or "")
        if not code:
            return
        boxes.first.click()
        page.keyboard.type(code, delay=self.typing_delay_ms)
        dialog.get_by_role("button", name="Continue", exact=True).or_(
            dialog.get_by_role("button", name="Confirm", exact=True)
        ).click()
        self.actions.append(f"typed {factor} code")
