"""Replica DOM modes: known (no ARIA at all), aria, prefixed (balance_okui-*), covered."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from replica.client import ScriptedClient
from tests.replica.test_ui_common import (
    CLIENT,
    FIRM,
    api_login,
    code_boxes,
    dialog,
    dialog_titled,
    field,
    fill_form,
    issued,
    okui,
    open_create,
    option,
    popup,
    toast,
    totp_now,
    verify_all,
)

ARIA_ATTRS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name === 'role' || a.name.startsWith('aria-')) {
        out.push(el.tagName.toLowerCase() + '[' + a.name + '="' + a.value + '"]');
      }
    }
  }
  return out;
}"""

CLASS_TOKENS = """() => {
  const out = new Set();
  for (const el of document.querySelectorAll('*')) {
    for (const c of el.classList) out.add(c);
  }
  return [...out];
}"""


def no_aria(page: Page, where: str) -> None:
    found = page.evaluate(ARIA_ATTRS)
    assert found == [], f"{where}: {found}"


# -- known (default) ---------------------------------------------------------------------


def test_known_dom_has_no_role_or_aria_anywhere(page: Page, replica) -> None:
    """List (with popup, toast, delete dialog), create (popup, errors), verification, created."""
    base = replica.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    open_create(page, base)
    page.get_by_role("button", name="Submit all").click()  # field errors
    expect(field(page, "API key name").locator(okui("form-item-explain"))).to_be_visible()
    field(page, "Permissions").locator(okui("select")).click()
    expect(option(page, "Trade")).to_be_visible()
    field(page, "IP address allowlist (optional)").locator(okui("tooltip")).hover()
    no_aria(page, "create form, permissions open, errors shown")
    page.keyboard.press("Escape")
    fill_form(page, "known", ["1.2.3.4"])
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("Verify with authenticator app", exact=True)).to_be_visible()
    code_boxes(page).first.click()
    page.keyboard.type("000000")
    dlg.get_by_role("button", name="Continue").click()
    expect(dlg.get_by_text("Incorrect verification code. Try again.")).to_be_visible()
    no_aria(page, "verification dialog with its error")
    # the title is a div with text, not a heading; the window is in the overlay at the end of body
    expect(dlg.get_by_role("heading")).to_have_count(0)
    overlay = page.locator("body > div.okui-transition-fade.okui-dialog.okui-dialog-float")
    expect(overlay).to_have_count(1)
    expect(overlay.locator("> div.okui-dialog-window.okui-dialog-window-float")).to_have_count(1)
    expect(overlay.locator("div.okui-dialog-top-r")).to_have_count(1)
    btn = overlay.locator(
        "div.okui-dialog-footer-box > div.okui-dialog-btn-box > button.okui-btn.btn-sm.btn-fill-primary"
    )
    expect(btn).to_have_text("Continue")
    verify_all(page, base, 3)
    created = dialog_titled(page, "API key created")
    created.get_by_role("button", name="Copy API key info").click()
    expect(toast(page, "Copied")).to_be_visible()
    no_aria(page, "created dialog with a toast")
    created.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api")
    expect(page.get_by_text("known", exact=True)).to_be_visible()
    page.get_by_text("Account:").click()
    expect(option(page, "icg-mm-sub1")).to_be_visible()
    no_aria(page, "key list with the account popup")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Edit").click()
    page.get_by_role("button", name="Delete").click()
    expect(dialog_titled(page, "Delete API key?")).to_be_visible()
    expect(toast(page, "Editing is not available in the replica")).to_be_visible()
    no_aria(page, "delete dialog and toast")
    # nothing that only ARIA would give: no listbox, option, dialog or alert roles
    for role in ("dialog", "alert", "listbox", "option", "tooltip"):
        expect(page.get_by_role(role)).to_have_count(0)


def test_known_dom_login_and_empty_list(page: Page, replica) -> None:
    base = replica.base_url
    page.goto(base + "/account/login")
    page.get_by_placeholder("Email").fill(CLIENT[0])
    page.get_by_placeholder("Password").fill("nope")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_text("Incorrect email or password")).to_be_visible()
    no_aria(page, "login page with its error")
    api_login(page, base, FIRM)
    page.goto(base + "/account/my-api")
    expect(page.get_by_text("legacy-reader", exact=True)).to_be_visible()
    no_aria(page, "key list with a key card")


@pytest.mark.scenarios("interruptions")
def test_known_dom_interruptions(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    announcement = dialog_titled(page, "Announcement")
    expect(announcement).to_be_visible()
    expect(page.get_by_text("We use cookies", exact=False)).to_be_visible()
    no_aria(page, "cookie banner and announcement")
    announcement.get_by_role("button", name="Got it").click()
    expect(announcement).to_have_count(0)
    page.get_by_role("button", name="Accept All").click()
    expect(page.get_by_text("We use cookies", exact=False)).to_have_count(0)
    page.reload()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    expect(dialog(page)).to_have_count(0)


# -- aria ------------------------------------------------------------------------------


@pytest.mark.scenarios("aria")
def test_aria_dom_has_rich_aria(page: Page, replica) -> None:
    base = replica.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    api_login(page, base)
    page.goto(base + "/account/my-api")
    expect(page.locator("[aria-current=page]")).to_have_text("API keys")
    pill = page.locator(".okui-select[aria-haspopup=listbox]")
    expect(pill).to_have_attribute("aria-expanded", "false")
    page.get_by_text("Account:").click()
    expect(pill).to_have_attribute("aria-expanded", "true")
    lb = page.get_by_role("listbox")
    expect(lb).to_have_class(re.compile("okui-popup"))
    expect(lb.get_by_role("option")).to_have_text(
        ["Main account", "icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
    )
    expect(lb.get_by_role("option", name="Main account")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    page.goto(base + "/account/my-api/create")
    perms = field(page, "Permissions").locator(".okui-select")
    perms.click()
    lb = page.get_by_role("listbox")
    expect(lb).to_have_attribute("aria-multiselectable", "true")
    read = lb.get_by_role("option", name="Read")
    expect(read).to_have_attribute("aria-disabled", "true")
    expect(read).to_have_attribute("aria-selected", "true")
    lb.get_by_role("option", name="Trade").click()
    expect(lb.get_by_role("option", name="Trade")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    field(page, "IP address allowlist (optional)").locator(".okui-tooltip").hover()
    expect(page.get_by_role("tooltip").filter(visible=True)).to_contain_text("IP addresses")
    page.get_by_role("button", name="Show passphrase").click()
    expect(page.get_by_role("button", name="Hide passphrase")).to_be_visible()
    expect(field(page, "Passphrase").locator("li").first).to_have_attribute("aria-checked", "false")
    page.get_by_role("button", name="Submit all").click()
    expect(page.get_by_role("alert").filter(has_text="Enter an API key name")).to_be_visible()
    field(page, "API key name").locator("input").fill("aria")
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    expect(field(page, "Passphrase").locator("li").first).to_have_attribute("aria-checked", "true")
    page.get_by_role("button", name="Submit all").click()
    dlg = page.get_by_role("dialog", name="Verify with authenticator app")
    expect(dlg).to_be_visible()
    expect(dlg).to_have_attribute("aria-modal", "true")
    label_id = dlg.get_attribute("aria-labelledby")
    assert label_id and page.locator(f"#{label_id}").inner_text() == "Verify with authenticator app"
    verify_all(page, base, 3)
    created = page.get_by_role("dialog", name="API key created")
    expect(created).to_be_visible()
    created.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_role("alert").filter(has_text="Copied")).to_be_visible()


# -- prefixed --------------------------------------------------------------------------


@pytest.mark.scenarios("prefixed")
def test_prefixed_dom_and_the_flow_by_hand(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    field(page, "Permissions").locator(okui("select")).click()
    expect(option(page, "Trade")).to_be_visible()
    tokens = page.evaluate(CLASS_TOKENS)
    assert [c for c in tokens if c.startswith("okui-")] == []
    for c in (
        "balance_okui-select",
        "balance_okui-select-multiple",
        "balance_okui-select-value-box",
        "balance_okui-select-inner-box",
        "balance_okui-input-box",
        "balance_okui-input-input",
        "balance_okui-form-item",
        "balance_okui-btn",
        "balance_okui-popup",
        "balance_okui-select-item",
        "balance_okui-select-item-selected",
    ):
        assert c in tokens, c
    # the prefixed CSS applies: the popup is styled and placed like in the known mode
    pop = page.locator(".balance_okui-popup")
    expect(pop).to_have_css("position", "absolute")
    expect(pop).to_have_css("background-color", "rgb(255, 255, 255)")
    page.keyboard.press("Escape")
    expect(pop).to_have_count(0)
    fill_form(page, "prefixed", ["1.2.3.4"])
    page.get_by_role("button", name="Submit all").click()
    expect(page.locator("body > .balance_okui-dialog")).to_have_css("position", "fixed")
    verify_all(page, base, 3)
    assert [c for c in page.evaluate(CLASS_TOKENS) if c.startswith("okui-")] == []
    dialog_titled(page, "API key created").get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api")
    expect(page.get_by_text("prefixed", exact=True)).to_be_visible()
    assert issued(base)[0]["perms"] == ["read_only", "trade"]


# -- covered ---------------------------------------------------------------------------


@pytest.mark.scenarios("covered")
def test_covered_select_takes_the_pointer(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    perms = field(page, "Permissions").locator(okui("select"))
    inner = perms.locator(okui("select-inner-box"))
    expect(perms.locator("> .okui-select-value-box > .okui-select-cover")).to_have_count(1)
    with pytest.raises(PlaywrightError) as err:
        inner.click(timeout=1000)
    assert "intercepts pointer events" in str(err.value)
    expect(popup(page)).to_have_count(0)
    box = inner.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(popup(page)).to_have_count(1)
    option(page, "Trade").click()  # the popup itself is not covered
    tags = perms.locator(".okui-select-selection-item")
    expect(tags).to_have_text(["Read", "Trade"])
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(popup(page)).to_have_count(0)
    inner.click(force=True)  # what the public scripts do
    expect(popup(page)).to_have_count(1)
    page.keyboard.press("Escape")
    tags.nth(1).locator(".okui-select-selection-item-remove").click()  # the tag's x stays usable
    expect(tags).to_have_text(["Read"])
    # the key list's switcher is covered as well
    page.goto(base + "/account/my-api")
    pill_inner = page.locator(okui("select-inner-box")).filter(has_text="Account:")
    with pytest.raises(PlaywrightError, match="intercepts pointer events"):
        page.get_by_text("Account:").click(timeout=1000)
    b = pill_inner.bounding_box()
    assert b
    page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    option(page, "icg-mm-sub2").click()
    expect(page).to_have_url(base + "/account/my-api?account=icg-mm-sub2")


# -- the stand-in human on every mode ----------------------------------------------------


@dataclass
class Need:
    kind: str
    factor: str | None = None
    say: str = ""


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("known"),
        pytest.param("aria", marks=pytest.mark.scenarios("aria")),
        pytest.param("prefixed", marks=pytest.mark.scenarios("prefixed")),
        pytest.param("covered", marks=pytest.mark.scenarios("covered")),
        pytest.param("autosubmit", marks=pytest.mark.scenarios("codes-autosubmit")),
        pytest.param("fr", marks=pytest.mark.scenarios("lang-fr", "prefixed", "interruptions")),
    ],
)
def test_scripted_client_on_every_dom(page: Page, replica, mode: str) -> None:
    base = replica.base_url
    acct = replica.world.accounts[CLIENT[0]]
    client = ScriptedClient.for_seed(base, acct, typing_delay_ms=0)
    page.goto(base + "/account/my-api/create")
    expect(page).to_have_url(re.compile(r"/account/login\?forward="))
    client.act(page, Need("login"))
    expect(
        page.get_by_placeholder(re.compile("Authenticator app code|Code de l'application"))
    ).to_be_visible()
    client.act(page, Need("login"))
    expect(page).to_have_url(base + "/account/my-api/create")
    if mode == "fr":
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        for _ in range(3):  # announcement, cookie banner, language: one thing per request
            client.act(page, Need("act"))
            page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert client.actions[-3:] == [
            "clicked Got it",
            "clicked Accept All",
            "switched the site to English",
        ]
    fill_form(page, f"client-{mode}", ["1.2.3.4"])
    client.act(page, Need("submit"))
    dlg = dialog(page)
    for i, factor in enumerate(["totp", "sms", "email"]):
        expect(dlg.get_by_text(f"{i + 1} / 3", exact=True)).to_be_visible()
        client.act(page, Need("code", factor))
    expect(dialog_titled(page, "API key created")).to_be_visible()
    assert not [a for a in client.actions if a.startswith("retry")], client.actions
    assert [k["label"] for k in issued(base)] == [f"client-{mode}"]


@pytest.mark.scenarios("submit-error")
def test_scripted_client_submits_again_after_an_error_toast(page: Page, replica) -> None:
    base = replica.base_url
    client = ScriptedClient.for_seed(base, replica.world.accounts[CLIENT[0]], typing_delay_ms=0)
    open_create(page, base)
    fill_form(page, "again", [])
    client.act(page, Need("submit"))
    expect(toast(page, "System error")).to_be_visible()
    client.act(page, Need("submit"))
    expect(dialog(page).get_by_text("1 / 3", exact=True)).to_be_visible()
    client.act(page, Need("submit"))  # nothing new to react to
    assert client.actions.count("clicked Submit all") == 2
    code_boxes(page).first.click()
    page.keyboard.type(totp_now(CLIENT[2]))
    expect(dialog(page).get_by_role("button", name="Continue")).to_be_enabled()
