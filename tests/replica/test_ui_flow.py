"""Replica UI: Submit all -> security verification -> "API key created" -> list (real server)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.replica.test_ui_common import (
    CLIENT,
    code_boxes,
    dialog,
    dialog_titled,
    enter_code,
    field,
    fill_form,
    fill_login,
    issued,
    login,
    okui,
    open_create,
    option,
    outbox_code,
    toast,
    totp_now,
    verify_all,
)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SECRET = re.compile(r"^[0-9A-F]{32}$")


def test_full_flow_three_factors(page: Page, replica) -> None:
    base = replica.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    open_create(page, base)
    fill_form(page, "ICG-MM", ["11.111.111.111", "22.22.22.22"])
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    # step 1: authenticator
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    expect(dlg.get_by_text("Verify with authenticator app")).to_be_visible()
    expect(dlg.get_by_text("Enter the 6-digit code from your authenticator app.")).to_be_visible()
    expect(dlg.get_by_text(re.compile("Resend"))).to_have_count(0)
    b = code_boxes(page)
    expect(b).to_have_count(6)
    for i in range(6):
        expect(b.nth(i)).to_have_attribute("maxlength", "1")
        expect(b.nth(i)).to_have_attribute("inputmode", "numeric")
        expect(b.nth(i)).to_have_class(re.compile(r"pin-inner-input"))
    cont = dlg.get_by_role("button", name="Continue", exact=True)
    expect(cont).to_be_disabled()
    expect(b.first).to_be_focused()
    page.keyboard.type("12a3")  # non-digits ignored, digits auto-advance
    expect(b.nth(3)).to_be_focused()
    expect(b.nth(2)).to_have_value("3")
    page.keyboard.press("Backspace")  # empty box: back one and clear it
    expect(b.nth(2)).to_have_value("")
    expect(b.nth(2)).to_be_focused()
    page.keyboard.type("000000")
    expect(cont).to_be_enabled()
    page.keyboard.press("Backspace")
    expect(cont).to_be_disabled()
    page.keyboard.type("0")
    cont.click()  # 120000 is wrong
    expect(dlg.get_by_text("Incorrect verification code. Try again.")).to_be_visible()
    for i in range(6):
        expect(b.nth(i)).to_have_value("")
    expect(b.first).to_be_focused()
    expect(cont).to_be_disabled()
    # no auto-submit after the sixth digit
    page.keyboard.type(totp_now(CLIENT[2]))
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    cont.click()
    # step 2: SMS, paste six digits into a middle box
    expect(dlg.get_by_text("2 / 3", exact=True)).to_be_visible()
    expect(dlg.get_by_text("Verify with phone number")).to_be_visible()
    expect(dlg.get_by_text("Check the text we've sent to +44****0123")).to_be_visible()
    expect(dlg.get_by_text(re.compile(r"^Resend \(\d+s\)$"))).to_be_visible()
    code = outbox_code(base, "sms")
    b.nth(3).evaluate(
        """(el, code) => { const dt = new DataTransfer(); dt.setData('text/plain', code);
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        code,
    )
    for i in range(6):
        expect(b.nth(i)).to_have_value(code[i])
    cont.click()
    # step 3: email, last step says Confirm
    expect(dlg.get_by_text("3 / 3", exact=True)).to_be_visible()
    expect(dlg.get_by_text("Verify with email")).to_be_visible()
    expect(
        dlg.get_by_text(
            "We've sent a 6-digit code to cl***@re***st. It's valid for 10 minutes and may be in your spam folder."
        )
    ).to_be_visible()
    confirm = dlg.get_by_role("button", name="Confirm", exact=True)
    expect(confirm).to_be_disabled()
    enter_code(page, outbox_code(base, "email"))
    confirm.click()
    # created
    created = dialog_titled(page, "API key created")
    expect(created).to_be_visible()
    keys = issued(base)
    assert len(keys) == 1
    k = keys[0]
    assert UUID4.match(k["apiKey"]) and SECRET.match(k["secretKey"])
    expect(created.get_by_text(k["apiKey"], exact=True)).to_be_visible()
    expect(created.get_by_text(k["secretKey"], exact=True)).to_be_visible()
    expect(created.get_by_text("API trading", exact=True)).to_be_visible()
    expect(created.get_by_text("Read, Trade", exact=True)).to_be_visible()
    expect(created.get_by_text("11.111.111.111, 22.22.22.22", exact=True)).to_be_visible()
    expect(created.locator("svg").first).to_be_visible()
    expect(created.locator(okui("dialog-top-r"))).to_have_count(0)
    qr = created.locator("svg").first
    assert qr.get_attribute("viewBox") and qr.get_attribute("width") is None
    box = qr.bounding_box()
    assert box and box["width"] == box["height"] == 108
    page.keyboard.press("Escape")
    expect(created).to_be_visible()
    created.get_by_role("button", name="Copy API key info").click()
    expect(toast(page, "Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == (
        f"API key name: ICG-MM\nAPI key: {k['apiKey']}\nSecret key: {k['secretKey']}\n"
        "Permissions: Read, Trade\nIP address allowlist: 11.111.111.111, 22.22.22.22"
    )
    # the copy icon right of the secret (no name, no role: an icon a person sees)
    created.get_by_text(k["secretKey"], exact=True).locator("xpath=following-sibling::*").click()
    page.wait_for_function("async () => (await navigator.clipboard.readText()).length === 32")
    assert page.evaluate("navigator.clipboard.readText()") == k["secretKey"]
    assert [k["completeClicks"] for k in issued(base)] == [0]  # copying is not completing
    created.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api")
    assert [k["completeClicks"] for k in issued(base)] == [1]  # recorded before the list opened
    expect(page.get_by_text("ICG-MM", exact=True)).to_be_visible()
    expect(page.get_by_text("Read, Trade", exact=True)).to_be_visible()
    expect(page.get_by_text(k["apiKey"], exact=True)).to_be_visible()
    assert k["passphrase"] == "Strong-Pass-1!" and k["perms"] == ["read_only", "trade"]


def test_resend_countdown(page: Page, replica) -> None:
    base = replica.base_url
    page.clock.install()
    open_create(page, base)
    fill_form(page, "resend-bot", [])
    page.get_by_role("button", name="Submit all").click()
    enter_code(page, totp_now(CLIENT[2]))
    page.get_by_role("button", name="Continue").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("Resend (60s)", exact=True)).to_be_visible()
    page.clock.run_for(1000)
    expect(dlg.get_by_text("Resend (59s)", exact=True)).to_be_visible()
    page.clock.run_for(60_000)
    resend = dlg.get_by_text("Resend", exact=True)
    expect(resend).to_be_visible()
    before = len(httpx.get(base + "/replica/outbox", params={"channel": "sms"}).json()["messages"])
    resend.click()
    expect(dlg.get_by_text("Resend (60s)", exact=True)).to_be_visible()
    msgs = httpx.get(base + "/replica/outbox", params={"channel": "sms"}).json()["messages"]
    assert len(msgs) == before + 1
    enter_code(page, msgs[-1]["code"])
    dlg.get_by_role("button", name="Continue").click()
    expect(dlg.get_by_text("3 / 3", exact=True)).to_be_visible()


@pytest.mark.scenarios("account-selectable")
def test_two_drafts_one_verification_two_keys(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "alpha", ["1.2.3.4"])
    page.get_by_role("button", name="Add another").click()
    fill_form(page, "beta", ["5.6.7.8"], trade=False)
    acct = field(page, "Account").locator(okui("select"))
    acct.click()
    option(page, "icg-mm-sub2").click()
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)
    created = dialog_titled(page, "API key created")
    expect(created.get_by_text("alpha", exact=True)).to_be_visible()
    expect(created.get_by_text("beta", exact=True)).to_be_visible()
    expect(created.get_by_role("button", name="Copy API key info")).to_have_count(2)
    keys = {k["label"]: k for k in issued(base)}
    assert keys["alpha"]["account"] == "main" and keys["alpha"]["perms"] == ["read_only", "trade"]
    assert keys["beta"]["account"] == "icg-mm-sub2" and keys["beta"]["perms"] == ["read_only"]
    assert [k["completeClicks"] for k in keys.values()] == [0, 0]
    created.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api")
    expect(page.get_by_text("alpha", exact=True)).to_be_visible()
    assert [k["completeClicks"] for k in issued(base)] == [1, 1]  # one dialog, both keys
    page.get_by_text("Account:").click()
    option(page, "icg-mm-sub2").click()
    expect(page.get_by_text("beta", exact=True)).to_be_visible()


def test_close_cancels_and_keeps_drafts(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "closer", ["1.2.3.4"])
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    dlg.locator(okui("dialog-top-r")).click()
    expect(dialog(page)).to_have_count(0)
    expect(field(page, "API key name").locator("input")).to_have_value("closer")
    assert issued(base) == []
    # submitting again starts a fresh verification that works
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)
    assert [k["label"] for k in issued(base)] == ["closer"]


@pytest.mark.scenarios("totp-only")
def test_totp_only_one_step(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "solo", [])
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("1 / 1", exact=True)).to_be_visible()
    expect(dlg.get_by_role("button", name="Continue")).to_have_count(0)
    verify_all(page, base, 1)


@pytest.mark.scenarios("submit-error")
def test_submit_error_toast_then_retry(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "retry", ["1.2.3.4"])
    page.get_by_role("button", name="Submit all").click()
    expect(page.locator(okui("toast"))).to_have_text("System error. Please try again later.")
    expect(dialog(page)).to_have_count(0)
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)


@pytest.mark.scenarios("key-limit")
def test_key_limit_refused(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "one-too-many", [])
    page.get_by_role("button", name="Submit all").click()
    expect(toast(page, "already has 50 API keys")).to_be_visible()
    expect(dialog(page)).to_have_count(0)


@pytest.mark.scenarios("duplicate-label")
def test_duplicate_label_refused(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "first-ok", [])
    page.get_by_role("button", name="Add another").click()
    fill_form(page, "ICG-MM", [])
    page.get_by_text("first-ok", exact=True).click()
    page.get_by_role("button", name="Submit all").click()
    expect(field(page, "API key name").locator(".okui-form-item-explain")).to_have_text(
        'An API key named "ICG-MM" already exists'
    )
    expect(field(page, "API key name").locator("input")).to_have_value("ICG-MM")


@pytest.mark.scenarios("session-expires")
def test_session_expires_back_to_create(page: Page, replica) -> None:
    base = replica.base_url
    login(page, base, "/account/my-api/create")
    fill_form(page, "late", [])
    page.get_by_role("button", name="Submit all").click()
    expect(page).to_have_url(re.compile(r"/account/login\?forward=%2Faccount%2Fmy-api%2Fcreate"))
    fill_login(page)
    expect(page).to_have_url(base + "/account/my-api/create")
    fill_form(page, "late", [])
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)


@pytest.mark.headed
def test_headed_menu_to_created_key(page: Page, replica) -> None:
    """The path a client takes: home -> profile menu -> API -> create -> verify -> list."""
    base = replica.base_url
    page.goto(base + "/")
    page.locator("header").get_by_role("link", name="Log in").click()
    fill_login(page)
    expect(page).to_have_url(base + "/")
    page.locator("header a[href$='/account/users']").filter(visible=True).hover()
    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    page.get_by_role("button", name="Create API key").click()
    fill_form(page, "ICG-MM", ["11.111.111.111"])
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_text("ICG-MM", exact=True)).to_be_visible()


@pytest.mark.headed
@pytest.mark.scenarios("totp-only")
def test_headed_widgets_and_one_step(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    ip = page.get_by_placeholder("Enter IP address")
    ip.press_sequentially("1.2.3.4, 5.6.7.8 ")
    expect(field(page, "IP address allowlist (optional)").locator(".okui-tag")).to_have_count(2)
    field(page, "Permissions").locator(okui("select")).click()
    option(page, "Trade").click()
    expect(option(page, "Trade")).to_have_class(re.compile(r"okui-select-item-selected"))
    page.get_by_role("heading", name="Create API keys").click()
    field(page, "API key name").locator("input").fill("headed")
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    page.get_by_role("button", name="Submit all").click()
    expect(dialog(page).get_by_text("1 / 1", exact=True)).to_be_visible()
    verify_all(page, base, 1)
    assert issued(base)[0]["ips"] == ["1.2.3.4", "5.6.7.8"]


def test_a_complete_click_counts_only_for_a_verification_that_created_keys(replica) -> None:
    """/replica/complete (the dialog's report): an unknown or unfinished challenge is refused."""
    r = httpx.post(f"{replica.base_url}/replica/complete", json={"challengeId": "nope"})
    assert (r.status_code, r.json()["msg"]) == (404, "No keys were created by this verification")
    assert issued(replica.base_url) == []
