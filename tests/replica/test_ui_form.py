"""Replica UI: the "Create API keys" form widgets (IP chips, permissions, passphrase, validation)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.replica.test_ui_common import field, okui, open_create, option, options, popup

DONE = re.compile(r"okui-checklist-item-done")


SELECTED = re.compile(r"okui-select-item-selected")


def chips(page: Page):
    return field(page, "IP address allowlist (optional)").locator(okui("tag"))


def ip_error(page: Page):
    return field(page, "IP address allowlist (optional)").locator(okui("form-item-explain"))


def test_form_structure_matches_okx(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    expect(page.get_by_role("link", name="API key", exact=True)).to_have_attribute(
        "href", "/account/my-api"
    )
    for bullet in [
        "Main accounts and sub-accounts can each hold up to 50 active API keys.",
        "Linking trusted IP addresses helps secure your API key. Never share your API keys with any third party.",
        "API keys with trade or withdraw permissions can be exposed when used on third-party platforms. Proceed with caution.",
        "API keys with trade or withdraw permissions will expire after 14 days of inactivity if they're not linked to IP addresses. Keys that are linked don't expire.",
    ]:
        expect(page.get_by_text(bullet, exact=True)).to_be_visible()
    expect(page.get_by_text("Reminder", exact=True)).to_be_visible()
    # labels are not tied to inputs: a sloppy get_by_label finds nothing
    expect(page.get_by_label("API key name")).to_have_count(0)
    assert page.locator("label[for]").count() == 0
    assert page.locator("[data-testid]").count() == 0
    name = field(page, "API key name").locator("input.okui-input-input")
    expect(name).not_to_have_attribute("placeholder", re.compile(".*"))
    expect(page.get_by_role("radio", name="API trading")).to_be_checked()
    page.get_by_text("Linking third-party app").click()
    expect(page.get_by_role("radio", name="Linking third-party app")).to_be_checked()
    expect(page.get_by_text("Untitled", exact=True)).to_be_visible()
    name.fill("ICG-MM")
    tile = page.get_by_text("ICG-MM", exact=True)
    expect(tile).to_be_visible()
    expect(
        page.get_by_text(
            "Enter up to 20 IPv4 or IPv6 addresses. Use comma or space to separate each address."
        )
    ).to_be_visible()
    # the (?) tooltip of the IP allowlist
    field(page, "IP address allowlist (optional)").locator(okui("tooltip")).hover()
    expect(page.locator(okui("tooltip-inner")).filter(visible=True)).to_contain_text("IP addresses")
    # the account is shown, greyed out, not chosen here (screenshot 03)
    acct = field(page, "Account").locator(okui("select"))
    expect(acct).to_have_text("Main account")
    expect(acct).to_have_class(re.compile(r"okui-select-disabled"))
    expect(acct.locator(okui("select-inner-box"))).to_have_css("cursor", "not-allowed")
    acct.click()
    expect(popup(page)).to_have_count(0)


@pytest.mark.scenarios("account-selectable")
def test_account_selectable_per_draft(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    acct = field(page, "Account").locator(okui("select"))
    expect(acct).not_to_have_class(re.compile(r"okui-select-disabled"))
    expect(acct).to_have_text("Main account")
    acct.click()
    expect(options(page)).to_have_text(
        ["Main account", "icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
    )
    expect(option(page, "Main account")).to_have_class(SELECTED)
    option(page, "icg-mm-sub1").click()
    expect(popup(page)).to_have_count(0)  # a single select closes on choosing
    expect(acct).to_have_text("icg-mm-sub1")
    expect(page.locator("span", has_text=re.compile("^icg-mm-sub1$"))).to_have_count(1)  # tile tag
    page.get_by_role("button", name="Add another").click()
    expect(acct).to_have_text("Main account")  # a new draft starts on the page's account
    acct.click()
    option(page, "icg-mm-sub3").click()
    tags = page.locator("span", has_text=re.compile("^icg-mm-sub[13]$"))
    expect(tags).to_have_text(["icg-mm-sub1", "icg-mm-sub3"])


def test_ip_chips_by_comma_space_enter_confirm_and_paste(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    ip = page.get_by_placeholder("Enter IP address")
    ip.press_sequentially("1.1.1.1,")
    expect(chips(page)).to_have_text(["1.1.1.1"])
    expect(ip).to_have_value("")
    ip.press_sequentially("2.2.2.2 ")
    ip.press_sequentially("2001:db8::1")
    ip.press("Enter")
    ip.fill("3.3.3.3")
    page.get_by_text("Confirm", exact=True).click()
    expect(chips(page)).to_have_text(["1.1.1.1", "2.2.2.2", "2001:db8::1", "3.3.3.3"])
    # paste several at once, then Enter for the last one
    ip.click()
    page.keyboard.insert_text("4.4.4.4, 5.5.5.5 6.6.6.6")
    expect(chips(page)).to_have_count(6)
    expect(ip).to_have_value("6.6.6.6")
    ip.press("Enter")
    expect(chips(page)).to_have_text(
        ["1.1.1.1", "2.2.2.2", "2001:db8::1", "3.3.3.3", "4.4.4.4", "5.5.5.5", "6.6.6.6"]
    )
    # remove a chip with its x (no accessible name, like OKX)
    chips(page).filter(has_text="2.2.2.2").locator(".okui-tag-close").click()
    expect(chips(page)).to_have_count(6)
    expect(chips(page).filter(has_text="2.2.2.2")).to_have_count(0)


def test_ip_refusals_invalid_duplicate_and_limit(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    ip = page.get_by_placeholder("Enter IP address")
    for bad in ["300.1.1.1", "10.0.0.0/24", "abc", "01.2.3.4", "1::2::3"]:
        ip.fill(bad)
        ip.press("Enter")
        expect(ip_error(page)).to_have_text(f"Invalid IP address: {bad}")
        expect(ip).to_have_value(bad)
    expect(chips(page)).to_have_count(0)
    ip.fill("9.9.9.9")
    ip.press("Enter")
    expect(ip_error(page)).to_have_count(0)
    ip.fill("9.9.9.9")
    ip.press("Enter")
    expect(ip_error(page)).to_have_text("This IP address has already been added")
    expect(ip).to_have_value("9.9.9.9")
    ip.fill("2001:DB8:0::5")
    ip.press("Enter")
    ip.fill("2001:db8::5")
    ip.press("Enter")
    expect(ip_error(page)).to_have_text("This IP address has already been added")
    ip.fill(" ".join(f"10.0.0.{i}" for i in range(1, 19)) + " ")
    expect(chips(page)).to_have_count(20)
    ip.fill("10.0.1.1")
    ip.press("Enter")
    expect(ip_error(page)).to_have_text("You can add up to 20 IP addresses")
    expect(ip).to_have_value("10.0.1.1")
    expect(chips(page)).to_have_count(20)


def test_permissions_dropdown(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    box = field(page, "Permissions").locator("div.okui-select.okui-select-multiple")
    inner = box.locator(
        "> div.okui-select-value-box > div.okui-input-box.auto-size.okui-select-inner-box"
    )
    expect(inner).to_have_text("Read")
    expect(inner.locator("input")).to_have_count(0)  # not searchable
    expect(popup(page)).to_have_count(0)
    inner.locator(".okui-select-arrow").click()  # any part of the box opens it
    pop = page.locator("body > div.okui-popup.select-popup-reference")
    expect(pop).to_have_count(1)
    assert page.evaluate("document.body.lastElementChild.classList.contains('okui-popup')")
    # positioned just under the box
    b, p = box.bounding_box(), pop.bounding_box()
    assert b and p and abs(p["x"] - b["x"]) < 1 and 0 <= p["y"] - (b["y"] + b["height"]) <= 8
    items = pop.locator("div.okui-select-item.okui-select-item-border-box")
    expect(items).to_have_text(["Read", "Trade", "Withdraw"])
    read, trade, withdraw = (option(page, t) for t in ("Read", "Trade", "Withdraw"))
    expect(read).to_have_class(re.compile(r"okui-select-item-disabled"))
    expect(read).to_have_class(SELECTED)
    expect(read.locator("svg")).to_be_visible()  # the check
    expect(trade.locator("svg")).to_have_count(0)
    read.click()  # fixed: nothing happens
    expect(read).to_have_class(SELECTED)
    trade.click()
    expect(trade).to_have_class(SELECTED)
    expect(trade.locator("svg")).to_be_visible()
    withdraw.click()  # a multi-select stays open
    expect(withdraw).to_have_class(SELECTED)
    tags = box.locator(".okui-select-selection-item")
    expect(tags).to_have_text(["Read", "Trade", "Withdraw"])
    withdraw.click()
    expect(withdraw).not_to_have_class(SELECTED)
    # click outside closes
    page.get_by_role("heading", name="Create API keys").click()
    expect(popup(page)).to_have_count(0)
    expect(tags).to_have_text(["Read", "Trade"])
    # Read is fixed (no x); Trade has an x that removes it
    expect(tags.first.locator(".okui-select-selection-item-remove")).to_have_count(0)
    tags.nth(1).locator(".okui-select-selection-item-remove").click()
    expect(tags).to_have_text(["Read"])
    expect(popup(page)).to_have_count(0)
    # a click on the box toggles; Escape closes
    inner.click()
    expect(popup(page)).to_have_count(1)
    inner.click()
    expect(popup(page)).to_have_count(0)
    box.click()
    page.keyboard.press("Escape")
    expect(popup(page)).to_have_count(0)


@pytest.mark.scenarios("withdraw-preselected")
def test_withdraw_preselected_scenario(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    box = field(page, "Permissions").locator(".okui-select-multiple")
    expect(box.locator(".okui-select-selection-item")).to_have_text(["Read", "Withdraw"])
    box.click()
    expect(option(page, "Withdraw")).to_have_class(SELECTED)
    expect(option(page, "Trade")).not_to_have_class(SELECTED)


def test_passphrase_checklist_and_eye(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    pp = field(page, "Passphrase").locator("input")
    expect(pp).to_have_attribute("type", "password")
    expect(page.get_by_text("Your passphrase must contain:")).to_be_visible()
    items = field(page, "Passphrase").locator("li")
    expect(items).to_have_text(
        [
            "8-32 characters",
            "At least 1 lowercase character (a-z)",
            "At least 1 uppercase character (A-Z)",
            "At least 1 number",
            "At least 1 special character e.g. ! @ # $ %",
        ]
    )
    for i in range(5):
        expect(items.nth(i)).not_to_have_class(DONE)
    steps = [
        ("a", [0, 1, 0, 0, 0]),
        ("A", [0, 1, 1, 0, 0]),
        ("1", [0, 1, 1, 1, 0]),
        ("!", [0, 1, 1, 1, 1]),
        ("bcde", [1, 1, 1, 1, 1]),
    ]
    for chunk, want in steps:
        pp.press_sequentially(chunk)
        for i, on in enumerate(want):
            if on:
                expect(items.nth(i)).to_have_class(DONE)
            else:
                expect(items.nth(i)).not_to_have_class(DONE)
    pp.fill("x" * 33 + "A1!")
    expect(items.nth(0)).not_to_have_class(DONE)
    # the eye: an icon right of the input (no role, no name)
    eye = field(page, "Passphrase").locator(okui("input-box") + " svg")
    eye.click()
    expect(pp).to_have_attribute("type", "text")
    eye.click()
    expect(pp).to_have_attribute("type", "password")


def test_submit_validation_messages(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    page.get_by_role("button", name="Submit all").click()
    expect(field(page, "API key name").locator(".okui-form-item-explain")).to_have_text(
        "Enter an API key name"
    )
    expect(field(page, "Passphrase").locator(".okui-form-item-explain")).to_have_text(
        "Your passphrase doesn't meet the requirements"
    )
    field(page, "API key name").locator("input").fill("bot")
    expect(field(page, "API key name").locator(".okui-form-item-explain")).to_have_count(0)
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    ip = page.get_by_placeholder("Enter IP address")
    ip.fill("1.2.3.999")
    page.get_by_role("button", name="Submit all").click()
    expect(ip_error(page)).to_have_text("Invalid IP address: 1.2.3.999")
    expect(page.locator(okui("dialog-window"))).to_have_count(0)
    # leftover valid text becomes a chip on submit
    ip.fill("1.2.3.4")
    page.get_by_role("button", name="Submit all").click()
    expect(page.locator(okui("dialog-window"))).to_be_visible()
    expect(chips(page)).to_have_text(["1.2.3.4"])


def test_invalid_other_draft_gets_selected(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    field(page, "API key name").locator("input").fill("first")
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    page.get_by_role("button", name="Add another").click()
    expect(page.get_by_text("Untitled", exact=True)).to_be_visible()
    expect(field(page, "API key name").locator("input")).to_have_value("")
    field(page, "API key name").locator("input").fill("second")
    page.get_by_text("first", exact=True).click()
    expect(field(page, "API key name").locator("input")).to_have_value("first")
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    page.get_by_text("second", exact=True).click()
    page.get_by_text("first", exact=True).click()
    page.get_by_role("button", name="Submit all").click()
    expect(field(page, "API key name").locator("input")).to_have_value("second")
    expect(field(page, "Passphrase").locator(".okui-form-item-explain")).to_have_text(
        "Your passphrase doesn't meet the requirements"
    )
    # remove the second draft with the tile's x
    tile = page.locator("div", has=page.get_by_text("second", exact=True)).filter(
        has_text="Main account"
    )
    tile.last.locator("svg").click()
    expect(page.get_by_text("second", exact=True)).to_have_count(0)
    expect(field(page, "API key name").locator("input")).to_have_value("first")
