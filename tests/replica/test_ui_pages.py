"""Replica UI: login, header profile menu, API keys list (through the real server)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.replica.test_ui_common import (
    CLIENT,
    FIRM,
    api_login,
    dialog_titled,
    field,
    fill_login,
    login,
    okui,
    option,
    options,
    popup,
    toast,
)


def test_logged_out_redirects_to_login_and_back_with_totp(page: Page, replica) -> None:
    base = replica.base_url
    page.goto(base + "/account/my-api/create?account=icg-mm-sub2")
    expect(page).to_have_url(re.compile(r"/account/login\?forward=%2Faccount%2Fmy-api%2Fcreate"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("[data-pane-id='email']")).to_have_text("Email / Phone")
    # wrong password: inline error from the API
    page.get_by_placeholder("Email").fill(CLIENT[0])
    page.get_by_placeholder("Password").fill("nope")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_text("Incorrect email or password")).to_be_visible()
    # wrong TOTP, then right
    page.get_by_placeholder("Password").fill(CLIENT[1])
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_placeholder("Authenticator app code").fill("000000")
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(page.get_by_text("Incorrect verification code")).to_be_visible()
    page.goto(page.url)
    fill_login(page)
    expect(page).to_have_url(base + "/account/my-api/create?account=icg-mm-sub2")
    expect(page.get_by_role("heading", name="Create API keys")).to_be_visible()
    acct = field(page, "Account").locator(okui("select"))
    expect(acct).to_have_text("icg-mm-sub2")


def test_header_logged_out_shows_login_signup(page: Page, replica) -> None:
    page.goto(replica.base_url + "/")
    header = page.locator("header")
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    expect(header.get_by_role("link", name="Sign up")).to_be_visible()
    expect(header.locator("a[href$='/account/users']")).to_have_count(0)


def test_profile_menu_hover_leads_to_api(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/")
    api_item = page.get_by_role("link", name="API", exact=True)
    expect(api_item).to_be_hidden()
    page.locator("header a[href$='/account/users']").filter(visible=True).hover()
    menu_texts = [
        "Overview",
        "Profile",
        "Security",
        "Verification",
        "Country/Region",
        "Preferences",
        "Sub-accounts",
        "API",
        "Third-party authorization",
        "Log out",
    ]
    for t in menu_texts:
        expect(page.locator("header").get_by_role("link", name=t, exact=True)).to_be_visible()
    expect(page.get_by_text("cl***@re***st")).to_be_visible()
    expect(page.get_by_text("UID: 628391047715821568")).to_be_visible()
    expect(page.get_by_role("button", name="Switch sub-account")).to_be_visible()
    api_item.click()
    expect(page).to_have_url(base + "/account/my-api")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    active = (
        page.locator("a[href='/account/my-api']").filter(visible=True).filter(has_text="API keys")
    )
    expect(active).to_have_class(re.compile(r"subnav-active"))
    expect(active).to_have_css("border-bottom-color", "rgb(0, 0, 0)")


def test_profile_icon_click_navigates_and_logout(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    page.locator("header a[href$='/account/users']").filter(visible=True).click()
    expect(page).to_have_url(base + "/account/users")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.locator("header a[href$='/account/users']").filter(visible=True).hover()
    page.get_by_role("link", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/account/login$"))
    page.goto(base + "/account/my-api")
    expect(page).to_have_url(re.compile(r"/account/login\?forward="))


def test_empty_state(page: Page, replica) -> None:
    base = replica.base_url
    login(page, base, "/account/my-api")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(
        page.get_by_text("Automate trades or connect to third-party tools using API keys.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Read API guide")).to_be_visible()
    expect(page.get_by_text("Account:")).to_be_visible()
    expect(page.get_by_text("Main account")).to_be_visible()
    expect(page.get_by_text("No API keys yet", exact=True)).to_be_visible()
    expect(
        page.get_by_text(
            "Create your first API key to automate trades, retrieve market data, and connect with "
            "third-party trading tools. Each main and sub-account can have up to 50 active keys.",
            exact=True,
        )
    ).to_be_visible()
    expect(page.get_by_text("©2017 - 2026 OKX.COM")).to_be_visible()
    expect(page.get_by_text("English/EUR")).to_be_visible()
    page.get_by_role("button", name="Create API key").click()
    expect(page).to_have_url(base + "/account/my-api/create")


def test_account_pill_switches_list_and_url(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    pill = page.locator(okui("select")).filter(has_text="Account:")
    expect(pill).to_have_text("Account:Main account")
    page.get_by_text("Account:").click()
    expect(options(page)).to_have_text(
        ["Main account", "icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
    )
    assert page.evaluate("document.body.lastElementChild.classList.contains('okui-popup')")
    option(page, "icg-mm-sub3").click()
    expect(page).to_have_url(base + "/account/my-api?account=icg-mm-sub3")
    expect(popup(page)).to_have_count(0)
    expect(pill).to_have_text("Account:icg-mm-sub3")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    page.get_by_role("button", name="Create API key").click()
    expect(page).to_have_url(base + "/account/my-api/create?account=icg-mm-sub3")
    # the create form shows that account, greyed out; the draft carries it
    acct = field(page, "Account").locator(okui("select"))
    expect(acct).to_have_text("icg-mm-sub3")
    expect(acct).to_have_class(re.compile(r"okui-select-disabled"))
    expect(page.locator("span", has_text=re.compile("^icg-mm-sub3$"))).to_have_count(1)
    page.get_by_role("link", name="API key", exact=True).click()
    expect(page).to_have_url(base + "/account/my-api")


def test_key_list_for_firm_and_delete(page: Page, replica) -> None:
    base = replica.base_url
    login(page, base, "/account/my-api", who=FIRM)
    card = (
        page.locator("div")
        .filter(has=page.get_by_text("legacy-reader", exact=True))
        .filter(has=page.get_by_role("button", name="Delete"))
        .filter(has=page.get_by_text("Created", exact=True))
        .last
    )
    expect(page.get_by_text("1/50")).to_be_visible()
    expect(card.get_by_text("legacy-reader", exact=True)).to_be_visible()
    expect(card.get_by_text("5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01")).to_be_visible()
    expect(card.get_by_text("Read", exact=True)).to_be_visible()
    expect(card.get_by_text("127.0.0.1", exact=True)).to_be_visible()
    expect(card.get_by_text("API trading", exact=True)).to_be_visible()
    for label in ["API key", "Permissions", "IP address allowlist", "Used for", "Created"]:
        expect(card.get_by_text(label, exact=True)).to_be_visible()
    assert page.locator("table").count() == 0
    # the firm has no sub-accounts: the pill only offers the main account
    page.get_by_text("Account:").click()
    expect(options(page)).to_have_text(["Main account"])
    page.keyboard.press("Escape")
    expect(popup(page)).to_have_count(0)
    page.get_by_role("heading", name="API keys", exact=True).click()
    card.get_by_role("button", name="Edit").click()
    expect(toast(page, "Editing is not available in the replica")).to_be_visible()
    card.get_by_role("button", name="Delete").click()
    dlg = dialog_titled(page, "Delete API key?")
    expect(dlg).to_be_visible()
    dlg.get_by_role("button", name="Cancel").click()
    expect(dlg).to_be_hidden()
    card.get_by_role("button", name="Delete").click()
    dlg.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    keys = httpx.get(base + "/replica/keys").json()
    assert keys["firm@replica.test"] == []


@pytest.mark.scenarios("key-limit")
def test_key_limit_disables_create(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    expect(page.get_by_text("50/50")).to_be_visible()
    expect(
        page.get_by_text("You've reached the limit of 50 API keys for this account.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Create API key")).to_be_disabled()
