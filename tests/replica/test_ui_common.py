"""Helpers shared by the replica UI tests (no tests here): log in through the UI, read codes.

They find things the way the replica's default DOM ("as known" of okx.com) allows: no
ARIA roles, states or labels; okui classes (with or without the `prefixed` mode's
CSS-module prefix), visible text, native elements.
"""

from __future__ import annotations

import re

import httpx
import pyotp
from playwright.sync_api import Page, expect

CLIENT = ("client@replica.test", "Replica-Pass-1", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
FIRM = ("firm@replica.test", "Replica-Pass-2", "KRSXG5CTMVRXEZLUKN2XAZLSKRSXG5CT")
PASSPHRASE = "Strong-Pass-1!"


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def fill_login(page: Page, who: tuple[str, str, str] = CLIENT) -> None:
    """On the login page: email, password, then the authenticator stage."""
    email, password, secret = who
    page.get_by_placeholder("Email").fill(email)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_text("Enter the 6-digit code from your authenticator app")).to_be_visible()
    page.get_by_placeholder("Authenticator app code").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm", exact=True).click()


def login(page: Page, base: str, path: str = "/account/my-api", who=CLIENT) -> None:
    """Open `path` logged out, get sent to login, log in, land back on `path`."""
    page.goto(base + path)
    expect(page).to_have_url(re.compile(r"/account/login\?forward="))
    fill_login(page, who)
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))


def outbox_code(base: str, channel: str, skip: int = 0) -> str:
    """The latest SMS/email code the replica 'sent' (its outbox stands in for phone and mailbox)."""
    msgs = httpx.get(f"{base}/replica/outbox", params={"channel": channel}).json()["messages"]
    assert msgs, f"no {channel} message in the outbox"
    return msgs[-1 - skip]["code"]


def issued(base: str) -> list[dict]:
    return httpx.get(f"{base}/replica/issued").json()["keys"]


def okui(name: str) -> str:
    """CSS for the okui class `okui-<name>`, also under the `prefixed` mode's `balance_` prefix."""
    return f":is(.okui-{name}, .balance_okui-{name})"


def dialog(page: Page):
    """The visible dialog window (there is at most one)."""
    return page.locator(okui("dialog-window")).filter(visible=True)


def dialog_titled(page: Page, title: str):
    """The dialog window whose title reads `title` (okx.com's dialogs have no role or name)."""
    return page.locator(okui("dialog-window")).filter(
        has=page.locator(okui("dialog-title")).get_by_text(title, exact=True)
    )


def dialog_title(page: Page) -> str:
    return dialog(page).locator(okui("dialog-title")).inner_text()


def popup(page: Page):
    """The open select's popup (appended at the end of <body>)."""
    return page.locator(okui("popup"))


def options(page: Page):
    return popup(page).locator(okui("select-item"))


def option(page: Page, text: str):
    """An option of the open popup, by its text."""
    return options(page).filter(has_text=re.compile("^" + re.escape(text) + "$"))


def toast(page: Page, text: str):
    return page.locator(okui("toast")).filter(has_text=text)


def field(page: Page, label: str):
    """The form item whose label text is `label` (labels are not tied to inputs)."""
    return page.locator(okui("form-item")).filter(
        has=page.locator(okui("form-item-label"), has_text=re.compile("^" + re.escape(label)))
    )


def fill_form(
    page: Page, name: str, ips: list[str], passphrase: str = PASSPHRASE, trade=True
) -> None:
    field(page, "API key name").locator("input").fill(name)
    ip = page.get_by_placeholder("Enter IP address")
    for addr in ips:
        ip.fill(addr)
        ip.press("Enter")
    if trade:
        field(page, "Permissions").locator(okui("select")).click()
        option(page, "Trade").click()
        page.get_by_role("heading", name="Create API keys").click()
        expect(popup(page)).to_have_count(0)
    field(page, "Passphrase").locator("input").fill(passphrase)


def code_boxes(page: Page):
    return dialog(page).locator("input[autocomplete='one-time-code']")


def enter_code(page: Page, code: str) -> None:
    code_boxes(page).first.click()
    page.keyboard.type(code)


def api_login(page: Page, base: str, who: tuple[str, str, str] = CLIENT) -> None:
    """Log in through the page's API and hand the session cookie to the browser (fast path)."""
    email, password, secret = who
    r = httpx.post(
        f"{base}/priapi/v1/user/login",
        json={"email": email, "password": password, "totp": totp_now(secret)},
    )
    r.raise_for_status()
    page.context.add_cookies([{"name": "token", "value": r.cookies["token"], "url": base}])


def open_create(page: Page, base: str, who: tuple[str, str, str] = CLIENT, query: str = "") -> None:
    api_login(page, base, who)
    page.goto(f"{base}/account/my-api/create{query}")
    expect(page.get_by_role("heading", name="Create API keys", exact=True)).to_be_visible()


def verify_all(page: Page, base: str, steps: int = 3) -> None:
    """Pass every verification step shown (authenticator, then SMS, then email)."""
    dlg = dialog(page)
    for i in range(steps):
        expect(dlg.get_by_text(f"{i + 1} / {steps}", exact=True)).to_be_visible()
        title = dialog_title(page)
        if "authenticator" in title:
            code = totp_now(CLIENT[2])
        elif "phone" in title:
            code = outbox_code(base, "sms")
        else:
            code = outbox_code(base, "email")
        enter_code(page, code)
        last = i == steps - 1
        dlg.get_by_role("button", name="Confirm" if last else "Continue", exact=True).click()
    expect(dialog_titled(page, "API key created")).to_be_visible()
