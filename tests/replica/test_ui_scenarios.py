"""Replica scenarios on the create page: the page's account, codes-autosubmit, lang-fr."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from replica.i18n import FR
from tests.replica.test_ui_common import (
    CLIENT,
    api_login,
    code_boxes,
    dialog,
    dialog_title,
    dialog_titled,
    field,
    fill_form,
    issued,
    okui,
    open_create,
    option,
    outbox_code,
    totp_now,
    verify_all,
)


def test_every_draft_gets_the_account_chosen_on_the_list(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    page.get_by_text("Account:").click()
    option(page, "icg-mm-sub2").click()
    page.get_by_role("button", name="Create API key").click()
    expect(page).to_have_url(base + "/account/my-api/create?account=icg-mm-sub2")
    acct = field(page, "Account").locator(okui("select"))
    expect(acct).to_have_text("icg-mm-sub2")
    expect(acct).to_have_class(re.compile(r"okui-select-disabled"))
    fill_form(page, "sub-one", ["1.2.3.4"])
    page.get_by_role("button", name="Add another").click()
    expect(acct).to_have_text("icg-mm-sub2")
    fill_form(page, "sub-two", [], trade=False)
    tags = page.locator("span", has_text=re.compile("^icg-mm-sub2$"))
    expect(tags).to_have_count(2)  # both draft tiles
    acct.click()  # disabled: nothing opens
    expect(page.locator(okui("popup"))).to_have_count(0)
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)
    assert {k["label"]: k["account"] for k in issued(base)} == {
        "sub-one": "icg-mm-sub2",
        "sub-two": "icg-mm-sub2",
    }
    dialog_titled(page, "API key created").get_by_role("button", name="Complete").click()
    expect(page).to_have_url(base + "/account/my-api?account=icg-mm-sub2")
    expect(page.get_by_text("sub-one", exact=True)).to_be_visible()


def test_unknown_account_in_the_url_falls_back_to_main(page: Page, replica) -> None:
    open_create(page, replica.base_url, query="?account=not-mine")
    expect(field(page, "Account").locator(okui("select"))).to_have_text("Main account")


@pytest.mark.scenarios("codes-autosubmit")
def test_codes_autosubmit_creates_the_key_without_a_click(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    fill_form(page, "auto", ["1.2.3.4"])
    page.get_by_role("button", name="Submit all").click()
    dlg = dialog(page)
    cont = dlg.get_by_role("button", name="Continue", exact=True)
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    # a wrong code submits by itself too, and is refused
    code_boxes(page).first.click()
    page.keyboard.type("000000")
    expect(dlg.get_by_text("Incorrect verification code. Try again.")).to_be_visible()
    expect(code_boxes(page).first).to_have_value("")
    expect(cont).to_be_disabled()
    # hold the request: while it is in flight the button is disabled and stays in the dialog
    held: list[Route] = []
    page.route("**/api-keys/verify", lambda route: held.append(route))
    page.keyboard.type(totp_now(CLIENT[2]))
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(20)
    assert len(held) == 1
    expect(cont).to_be_disabled()
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    page.keyboard.press("Enter")  # no second submission while one is in flight
    page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api-keys/verify")
    expect(dlg.get_by_text("2 / 3", exact=True)).to_be_visible()
    expect(dlg.get_by_role("button", name="Continue", exact=True)).to_be_disabled()
    page.keyboard.type(outbox_code(base, "sms"))  # the boxes have the focus
    expect(dlg.get_by_text("3 / 3", exact=True)).to_be_visible()
    page.keyboard.type(outbox_code(base, "email"))
    expect(dialog_titled(page, "API key created")).to_be_visible()
    assert [k["label"] for k in issued(base)] == ["auto"]


# -- lang-fr --------------------------------------------------------------------------

VISIBLE_TEXTS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement, t = n.textContent.trim();
    if (t && el && el.checkVisibility() && !['SCRIPT', 'STYLE', 'TEMPLATE'].includes(el.tagName)) out.push(t);
  }
  for (const i of document.querySelectorAll('input[placeholder]')) {
    if (i.checkVisibility()) out.push(i.placeholder);
  }
  out.push(document.title.replace(/ \\| OKX$/, ''));
  return out;
}"""

# English strings of the table that read differently in French.
ENGLISH = {en for en, fr in FR.items() if en != fr and "{0}" not in en}


def english_left(page: Page) -> list[str]:
    return [t for t in page.evaluate(VISIBLE_TEXTS) if t in ENGLISH]


@pytest.mark.scenarios("lang-fr")
def test_lang_fr_translates_the_pages_until_switched(page: Page, replica) -> None:
    base = replica.base_url
    api_login(page, base)
    page.goto(base + "/account/my-api")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_text("Aucune clé API", exact=True)).to_be_visible()
    for text in ["Clés API", "Compte :", "Compte principal", "Lire le guide de l'API", "Aperçu"]:
        expect(page.get_by_text(text, exact=True).filter(visible=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Créer une clé API")).to_be_visible()
    assert english_left(page) == []
    page.get_by_text("Compte :").click()
    expect(option(page, "Compte principal")).to_be_visible()
    assert english_left(page) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Créer une clé API").click()
    expect(page.get_by_role("heading", name="Créer des clés API")).to_be_visible()
    for text in ["Rappel", "Brouillons de clés API", "Sans titre", "Nom de la clé API", "Compte"]:
        expect(page.get_by_text(text, exact=True).filter(visible=True).first).to_be_visible()
    expect(page.get_by_placeholder("Saisissez une adresse IP")).to_be_visible()
    assert english_left(page) == []
    # errors, the permissions popup, the verification and created dialogs
    page.get_by_role("button", name="Tout soumettre").click()
    expect(page.get_by_text("Saisissez un nom de clé API", exact=True)).to_be_visible()
    ip = page.get_by_placeholder("Saisissez une adresse IP")
    ip.fill("300.1.1.1")
    ip.press("Enter")
    expect(page.get_by_text("Adresse IP non valide : 300.1.1.1", exact=True)).to_be_visible()
    ip.fill("1.2.3.4")
    ip.press("Enter")
    field(page, "Autorisations").locator(okui("select")).click()
    option(page, "Trading").click()
    expect(option(page, "Lecture")).to_be_visible()
    assert english_left(page) == []
    page.keyboard.press("Escape")
    field(page, "Nom de la clé API").locator("input").fill("fr-key")
    field(page, "Phrase secrète").locator("input").fill("Strong-Pass-1!")
    page.get_by_role("button", name="Tout soumettre").click()
    dlg = dialog(page)
    expect(dlg.get_by_text("1 / 3", exact=True)).to_be_visible()
    assert dialog_title(page) == "Vérifier avec l'application d'authentification"
    code_boxes(page).first.click()
    page.keyboard.type("000000")
    dlg.get_by_role("button", name="Continuer").click()
    expect(dlg.get_by_text("Code de vérification incorrect. Réessayez.")).to_be_visible()
    assert english_left(page) == []
    page.keyboard.type(totp_now(CLIENT[2]))
    dlg.get_by_role("button", name="Continuer").click()
    expect(dlg.get_by_text(re.compile(r"^Renvoyer \(\d+ s\)$"))).to_be_visible()
    assert dialog_title(page) == "Vérifier avec le numéro de téléphone"
    assert english_left(page) == []
    code_boxes(page).first.click()
    page.keyboard.type(outbox_code(base, "sms"))
    dlg.get_by_role("button", name="Continuer").click()
    expect(dlg.get_by_text("3 / 3", exact=True)).to_be_visible()
    code_boxes(page).first.click()
    page.keyboard.type(outbox_code(base, "email"))
    dlg.get_by_role("button", name="Confirmer").click()
    created = dialog_titled(page, "Clé API créée")
    expect(created).to_be_visible()
    expect(created.get_by_text("Lecture, Trading", exact=True)).to_be_visible()
    assert english_left(page) == []
    created.get_by_role("button", name="Terminer").click()
    expect(page.get_by_text("fr-key", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Supprimer")).to_be_visible()
    assert english_left(page) == []
    # the footer's language selector switches the site to English
    page.get_by_text("Français/EUR", exact=True).click()
    page.get_by_text("English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(page.get_by_text("English/EUR", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Create API key")).to_be_visible()


# -- other create-page variants still work on the new widgets ---------------------------


@pytest.mark.scenarios("perm-checkboxes")
def test_perm_checkboxes(page: Page, replica) -> None:
    base = replica.base_url
    open_create(page, base)
    read = page.get_by_role("checkbox", name="Read")
    expect(read).to_be_checked()
    expect(read).to_be_disabled()
    page.get_by_role("checkbox", name="Trade").check()
    field(page, "API key name").locator("input").fill("boxes")
    field(page, "Passphrase").locator("input").fill("Strong-Pass-1!")
    page.get_by_role("button", name="Submit all").click()
    verify_all(page, base, 3)
    assert issued(base)[0]["perms"] == ["read_only", "trade"]


@pytest.mark.scenarios("ip-chip-dropped")
def test_ip_chip_dropped_when_permissions_open(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    ip = page.get_by_placeholder("Enter IP address")
    ip.press_sequentially("1.1.1.1 2.2.2.2 ")
    chips = field(page, "IP address allowlist (optional)").locator(okui("tag"))
    expect(chips).to_have_count(2)
    field(page, "Permissions").locator(okui("select")).click()
    expect(option(page, "Trade")).to_be_visible()
    expect(chips).to_have_text(["1.1.1.1"])


@pytest.mark.scenarios("reordered", "withdraw-preselected")
def test_reordered_fields_and_withdraw_preselected(page: Page, replica) -> None:
    open_create(page, replica.base_url)
    labels = page.locator(okui("form-item-label"))
    expect(labels.first).to_have_text(re.compile("^Passphrase"))
    tags = field(page, "Permissions").locator(".okui-select-selection-item")
    expect(tags).to_have_text(["Read", "Withdraw"])
