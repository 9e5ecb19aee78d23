"""Replica UI: the "Create API keys" form widgets (IP chips, permissions, passphrase, validation)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.replica.test_ui_common import field, open_create

DONE = re.compile(r"okui-checklist-item-done")


def chips(page: Page):
    return field(page, "IP address allowlist (optional)").locator(".okui-tag")


def ip_error(page: Page):
    return field(page, "IP address allowlist (optional)").locator(".okui-form-item-explain")


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
    field(page, "IP address allowlist (optional)").locator(".okui-tooltip").hover()
    expect(page.get_by_role("tooltip").filter(visible=True)).to_contain_text("IP addresses")
    # account select: Main account + sub-accounts
    acct = field(page, "Account").locator(".okui-select")
    expect(acct).to_have_text("Main account")
    acct.click()
    expect(page.get_by_role("option")).to_have_text(
        ["Main account", "icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
    )
    page.get_by_role("option", name="icg-mm-sub1").click()
    expect(acct).to_have_text("icg-mm-sub1")
    expect(page.locator("span", has_text=re.compile("^icg-mm-sub1$"))).to_have_count(2)


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
    expect(box).to_have_text("Read")
    expect(page.get_by_role("listbox")).to_have_count(0)
    box.click()
    lb = page.get_by_role("listbox")
    expect(lb).to_have_attribute("aria-multiselectable", "true")
    expect(lb.get_by_role("option")).to_have_text(["Read", "Trade", "Withdraw"])
    read = lb.get_by_role("option", name="Read")
    expect(read).to_have_attribute("aria-disabled", "true")
    expect(read).to_have_attribute("aria-selected", "true")
    read.click(force=True)  # aria-disabled: Playwright refuses a plain click
    expect(read).to_have_attribute("aria-selected", "true")
    trade = lb.get_by_role("option", name="Trade")
    withdraw = lb.get_by_role("option", name="Withdraw")
    trade.click()
    expect(trade).to_have_attribute("aria-selected", "true")
    withdraw.click()
    expect(withdraw).to_have_attribute("aria-selected", "true")
    expect(box.locator(".okui-select-selection-item")).to_have_text(["Read", "Trade", "Withdraw"])
    withdraw.click()
    expect(withdraw).to_have_attribute("aria-selected", "false")
    # click outside closes
    page.get_by_role("heading", name="Create API keys").click()
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(box.locator(".okui-select-selection-item")).to_have_text(["Read", "Trade"])
    # Read is fixed (no x); Trade has an x that removes it
    items = box.locator(".okui-select-selection-item")
    expect(items.first.locator(".okui-select-selection-item-remove")).to_have_count(0)
    items.nth(1).locator(".okui-select-selection-item-remove").click()
    expect(items).to_have_text(["Read"])
    expect(page.get_by_role("listbox")).to_have_count(0)


@pytest.mark.scenarios("withdraw-preselected")
def test_withdraw_preselected_scenario(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    box = field(page, "Permissions").locator(".okui-select-multiple")
    expect(box.locator(".okui-select-selection-item")).to_have_text(["Read", "Withdraw"])
    box.click()
    expect(page.get_by_role("option", name="Withdraw")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("option", name="Trade")).to_have_attribute("aria-selected", "false")


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
        expect(items.nth(i)).to_have_attribute("aria-checked", "false")
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
            expect(items.nth(i)).to_have_attribute("aria-checked", "true" if on else "false")
            if on:
                expect(items.nth(i)).to_have_class(DONE)
            else:
                expect(items.nth(i)).not_to_have_class(DONE)
    pp.fill("x" * 33 + "A1!")
    expect(items.nth(0)).to_have_attribute("aria-checked", "false")
    eye = page.get_by_role("button", name="Show passphrase")
    eye.click()
    expect(pp).to_have_attribute("type", "text")
    page.get_by_role("button", name="Hide passphrase").click()
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
    expect(page.get_by_role("dialog")).to_have_count(0)
    # leftover valid text becomes a chip on submit
    ip.fill("1.2.3.4")
    page.get_by_role("button", name="Submit all").click()
    expect(page.get_by_role("dialog")).to_be_visible()
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
