"""Renders every replica screen at 1920x1080 (compare with ../shared/okx-ui).

`make screenshots` writes them into docs/replica/ (ONBOARD_SCREENSHOTS=docs/replica);
in plain test runs they go to a temporary directory so the tree stays clean.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.replica.test_ui_common import (
    CLIENT,
    api_login,
    dialog,
    dialog_titled,
    enter_code,
    fill_form,
    outbox_code,
    totp_now,
)

OUT = Path(os.environ.get("ONBOARD_SCREENSHOTS") or tempfile.mkdtemp(prefix="replica-screens-"))
NAMES = [
    "01-profile-menu.png",
    "02-api-keys-empty.png",
    "02b-api-keys-list.png",
    "03-create-form.png",
    "04-verify-authenticator.png",
    "04-verify-phone.png",
    "05-verify-email.png",
    "06-key-created.png",
    "07-login.png",
]


def shot(page: Page, name: str) -> None:
    if name != "01-profile-menu.png":
        page.mouse.move(0, 600)
    page.screenshot(path=str(OUT / name))


def test_render_all_screens(page: Page, replica) -> None:
    base = replica.base_url
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(base + "/account/login?forward=%2Faccount%2Fmy-api")
    expect(page.get_by_placeholder("Email")).to_be_visible()
    shot(page, "07-login.png")
    api_login(page, base)
    page.goto(base + "/account/my-api")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    shot(page, "02-api-keys-empty.png")
    page.locator("header a[href$='/account/users']").filter(visible=True).hover()
    expect(page.get_by_role("link", name="API", exact=True)).to_be_visible()
    shot(page, "01-profile-menu.png")
    page.goto(base + "/account/my-api/create")
    fill_form(page, "ICG-MM", ["11.111.111.111"])
    page.get_by_role("heading", name="Create API keys").click()
    shot(page, "03-create-form.png")
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("Verify with authenticator app")).to_be_visible()
    shot(page, "04-verify-authenticator.png")
    enter_code(page, totp_now(CLIENT[2]))
    dlg.get_by_role("button", name="Continue").click()
    expect(dlg.get_by_text("Verify with phone number")).to_be_visible()
    shot(page, "04-verify-phone.png")
    enter_code(page, outbox_code(base, "sms"))
    dlg.get_by_role("button", name="Continue").click()
    expect(dlg.get_by_text("Verify with email")).to_be_visible()
    shot(page, "05-verify-email.png")
    enter_code(page, outbox_code(base, "email"))
    dlg.get_by_role("button", name="Confirm").click()
    expect(dialog_titled(page, "API key created")).to_be_visible()
    shot(page, "06-key-created.png")
    page.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api")  # the list, not the dialog still closing
    expect(page.get_by_text("ICG-MM", exact=True)).to_be_visible()
    shot(page, "02b-api-keys-list.png")
    for name in NAMES:
        f = OUT / name
        assert f.exists() and f.stat().st_size > 20_000, name
