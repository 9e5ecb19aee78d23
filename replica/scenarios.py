"""Named fault and variant knobs for the replica, combinable per run.

Each scenario is a small function that adjusts a `Knobs`; adding one is a
docstring and three lines. `combine` applies them in the order given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# `marked` (test-only): the one colour every secret-bearing value is drawn in. Pure blue:
# nothing else on the replica's pages, nor the agent's overlay or masks, has a blue cast,
# so a pixel whose blue stands well above its red and green can only come from a mark.
MARK_COLOR = "#0000FF"


@dataclass
class Knobs:
    delay: float = 0.0  # seconds added to every response
    session_expires: bool = False
    submit_errors: int = 0  # how many Submit all attempts fail with a server error
    key_limit: bool = False
    sub_key_limit: bool = False  # each account's first sub-account already holds 50 keys
    rest_label_race: bool = False  # test-only: a same-named key appears just before a REST create
    withdraw_preselected: bool = False
    duplicate_label: str | None = None
    factors: list[str] | None = None  # overrides every account's factors
    phishing_redirect: bool = False
    secret_masked: bool = False  # the created dialog masks the secret (copy buttons still work)
    drop_ip_on_perms: bool = False  # a re-render bug: opening Permissions drops the last IP chip
    api_moved: bool = False  # API keys live elsewhere; the menu says "API and connections"
    perm_checkboxes: bool = False  # permissions as checkboxes instead of a multi-select
    field_order: list[str] | None = None  # create form items in another order
    interruptions: bool = False  # cookie banner + announcement dialog on arrival
    lang_fr: bool = False  # the site shows in French until switched to English
    renamed: bool = False  # "Create API key" -> "New API key", "API key name" -> "Key name"
    css_salt: str = ""  # changes every hashed CSS-module class name (UI-drift variants)
    logged_in: bool = False  # a browser without the session cookie is the first account's
    # How the DOM is written: "known" (okx.com as public scripts show it: okui-* classes,
    # no ARIA roles/states/labels), "aria" (the same plus rich ARIA), "prefixed" (every
    # okui-* class carries a CSS-module prefix, balance_okui-*), "covered" (a transparent
    # layer over every select box takes the pointer).
    dom: str = "known"
    codes_autosubmit: bool = False  # the code boxes submit by themselves after the 6th digit
    account_selectable: bool = False  # the create form's Account select is enabled per draft
    grants_withdraw: bool = False  # the exchange adds Withdraw to every key it creates (a fault)
    redirect_mid_codes: bool = False  # after the first code the page goes to another origin
    marked: bool = False  # test-only: secret-bearing values drawn in MARK_COLOR (see `marked`)
    # `mutate:SEED` (replica/mutations.py): the seed's page mutations, kind -> parameters.
    mutate_seed: int | None = None
    mutations: dict[str, dict[str, Any]] = field(default_factory=dict)


SCENARIOS: dict[str, Callable[[Knobs], None]] = {}
# Accepted by name like the others but never listed (`--list-scenarios`, an unknown name's
# message): they change how a test sees the pages, nothing a person would try on the replica.
TEST_ONLY: dict[str, Callable[[Knobs], None]] = {}


def scenario(fn: Callable[[Knobs], None]) -> Callable[[Knobs], None]:
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


def unlisted(fn: Callable[[Knobs], None]) -> Callable[[Knobs], None]:
    TEST_ONLY[fn.__name__.replace("_", "-")] = fn
    return fn


@scenario
def totp_only(k: Knobs) -> None:
    """Every account verifies with the authenticator app only (1 step)."""
    k.factors = ["totp"]


@scenario
def all_factors(k: Knobs) -> None:
    """Every account verifies with authenticator, SMS and email (3 steps)."""
    k.factors = ["totp", "sms", "email"]


@scenario
def slow(k: Knobs) -> None:
    """Every response is delayed by about 1.5 s."""
    k.delay = 1.5


@scenario
def session_expires(k: Knobs) -> None:
    """The session ends once, just after the create page loads: the user must log in again."""
    k.session_expires = True


@scenario
def submit_error(k: Knobs) -> None:
    """The first Submit all fails with a server error; the next one works."""
    k.submit_errors = 1


@scenario
def key_limit(k: Knobs) -> None:
    """The main account already holds 50 keys: creating another is refused."""
    k.key_limit = True


@scenario
def sub_key_limit(k: Knobs) -> None:
    """Each account's first sub-account (icg-mm-sub1) already holds 50 keys."""
    k.sub_key_limit = True


@scenario
def withdraw_preselected(k: Knobs) -> None:
    """The create form opens with Withdraw already selected."""
    k.withdraw_preselected = True


@scenario
def duplicate_label(k: Knobs) -> None:
    """A key named ICG-MM already exists on the main account."""
    k.duplicate_label = "ICG-MM"


@scenario
def phishing_redirect(k: Knobs) -> None:
    """The create page redirects to a look-alike on another origin (localhost vs 127.0.0.1)."""
    k.phishing_redirect = True


@scenario
def secret_masked(k: Knobs) -> None:
    """The created dialog shows the secret masked; only its copy buttons give it."""
    k.secret_masked = True


@scenario
def ip_chip_dropped(k: Knobs) -> None:
    """A re-render bug: opening the Permissions dropdown silently drops the last IP chip."""
    k.drop_ip_on_perms = True


@scenario
def api_moved(k: Knobs) -> None:
    """/account/my-api redirects to Overview; the menu entry is "API and connections"."""
    k.api_moved = True


@scenario
def perm_checkboxes(k: Knobs) -> None:
    """Permissions are three checkboxes (Read fixed) instead of a multi-select."""
    k.perm_checkboxes = True


@scenario
def reordered(k: Knobs) -> None:
    """The create form's fields come in another order, with new hashed class names."""
    k.field_order = ["passphrase", "perms", "label", "ips", "usedFor", "account"]
    k.css_salt = "deploy-2"


@scenario
def interruptions(k: Knobs) -> None:
    """A cookie-consent banner and an announcement dialog cover the page on arrival."""
    k.interruptions = True


@scenario
def lang_fr(k: Knobs) -> None:
    """The site shows in French until the language is switched to English (footer selector)."""
    k.lang_fr = True


@scenario
def renamed(k: Knobs) -> None:
    """An OKX redesign the flow does not know: "New API key" button, "Key name" field."""
    k.renamed = True


@scenario
def logged_in(k: Knobs) -> None:
    """Every browser is already logged in as the seed's first account (client@replica.test)."""
    k.logged_in = True


@scenario
def aria(k: Knobs) -> None:
    """The same DOM with rich ARIA: role=option/listbox/dialog/alert, aria-selected, aria-labelledby..."""
    k.dom = "aria"


@scenario
def prefixed(k: Knobs) -> None:
    """Every okui-* class carries a CSS-module prefix (balance_okui-select-item, balance_okui-popup...)."""
    k.dom = "prefixed"


@scenario
def covered(k: Knobs) -> None:
    """A transparent layer over every select box takes the pointer (scripts click it with force)."""
    k.dom = "covered"


@scenario
def codes_autosubmit(k: Knobs) -> None:
    """The verification boxes submit by themselves right after the sixth digit."""
    k.codes_autosubmit = True


@scenario
def account_selectable(k: Knobs) -> None:
    """The create form's Account select is enabled (Main account + sub-accounts), one per draft."""
    k.account_selectable = True


@scenario
def redirect_mid_codes(k: Knobs) -> None:
    """After the first verification code the page moves to another origin (`localhost`)."""
    k.redirect_mid_codes = True
    k.factors = k.factors or ["totp", "sms", "email"]


@scenario
def grants_withdraw(k: Knobs) -> None:
    """A fault: the exchange creates every key with Withdraw too, whatever was submitted."""
    k.grants_withdraw = True


@unlisted
def marked(k: Knobs) -> None:
    """Test-only: every secret-bearing value in the marker colour, so a test can count its pixels.

    The secret and API key in the created dialog, every API key in the key list, the QR code,
    and the text of the passphrase, password and one-time-code fields are drawn in
    MARK_COLOR; nothing else on any page is (tests/custody/test_no_secret_pixels.py checks
    both). Off unless a test names it: without it every page's HTML is byte for byte what it
    was, and the scripts draw nothing differently.
    """
    k.marked = True


@unlisted
def rest_label_race(k: Knobs) -> None:
    """Test-only: another session creates a key with the same label on the sub-account between
    the agent's key list and its REST create, so OKX refuses the create with 59502 (label
    taken). A race a person cannot arrange on purpose; the only way to see that refusal after
    the agent has read the list."""
    k.rest_label_race = True


def describe() -> dict[str, str]:
    return {name: (fn.__doc__ or "").strip() for name, fn in SCENARIOS.items()}


MUTATE = "mutate:"


def combine(names: list[str]) -> Knobs:
    """The knobs of these scenarios, in order; `mutate:SEED[:kind,...]` adds a seed's page
    mutations (applied after every named scenario, wherever it is in the list)."""
    knobs = Knobs()
    specs = [n[len(MUTATE) :] for n in names if n.startswith(MUTATE)]
    for name in names:
        if name.startswith(MUTATE):
            continue
        fn = SCENARIOS.get(name) or TEST_ONLY.get(name)
        if fn is None:
            known = ", ".join(sorted(SCENARIOS))
            raise ValueError(f"unknown scenario {name!r} (known: {known})")
        fn(knobs)
    if len(specs) > 1:
        raise ValueError("only one mutate:SEED per reset")
    if specs:
        from replica.mutations import draw, parse_spec

        seed, only = parse_spec(specs[0])
        muts = draw(seed, only)
        knobs.mutate_seed = seed
        knobs.mutations = muts.as_params()
        muts.apply_knobs(knobs)
    return knobs
