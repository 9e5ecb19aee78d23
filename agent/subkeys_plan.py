"""`onboard subkeys` before anything is sent: the plan (checked with the request's own rules
and words, shared with a roster's `sub_accounts_via: rest` entry), the main key it signs with,
the client's consent and the statement it agrees to, and the browser path for the same keys.
agent.subkeys then talks to the exchange."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from agent.custody import redact
from agent.custody.vault import Credential, Vault, VaultError
from agent.engine.flow import Rules
from agent.exchanges.okx import NAME
from agent.exitcodes import Exit


class InputError(ValueError):
    """Bad input, one line; nothing was sent."""


class SubkeysError(Exception):
    """A stop before any key was created, phrased for one line, with its exit code."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Plan:
    """What the operator asked for; validated by the CLI before anything is sent."""

    from_id: str
    label: str
    ips: list[str]
    sub_accounts: list[str] = field(default_factory=list)  # empty: every sub-account
    base_url: str | None = None
    demo: bool = False

    @property
    def every(self) -> bool:
        return not self.sub_accounts


@dataclass
class Outcome:
    """One sub-account's key: what happened, in words fit to print."""

    sub_account: str
    status: str  # created | exists | refused | failed | flagged | skipped
    detail: str
    record_id: str = ""
    api_key_masked: str = ""
    code: str | None = None  # OKX's code when it refused
    verification: str = ""  # ok | failed: ... | pending: ... | error: ...
    critical: bool = False
    seconds: float = 0.0
    exit: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Consent:
    """The client's agreement, as recorded in every record this run stores."""

    how: str  # "--yes" or "confirmed at the prompt"
    agreed_at: float
    statement: str

    def meta(self) -> dict[str, Any]:
        return {"how": self.how, "agreed_at": self.agreed_at, "statement": self.statement}


# -- the plan, the main key and the consent, before anything is sent ----------------------
def check_input(
    from_id: str,
    label: str,
    ips: list[str],
    sub_accounts: list[str],
    all_sub_accounts: bool,
    allow_private_ip: bool,
    base_url: str | None,
    rules: Rules | None = None,
) -> Plan:
    """The plan, or InputError naming the first problem (before any network call).

    `onboard subkeys` and a roster's `sub_accounts_via: rest` entry both build their plan
    here, so both take the same labels, IPs and sub-account names with the same words.
    """
    from agent.request import RequestError, check_ips, check_sub_accounts, label_problem

    if rules is None:
        from agent.exchanges import bundled_flow

        rules = bundled_flow().rules
    if bool(sub_accounts) == bool(all_sub_accounts):
        raise InputError(
            "give the sub-accounts: --sub-account NAME (repeatable) or --all-sub-accounts "
            "(not both)"
        )
    try:
        seen = check_sub_accounts(sub_accounts)
        problem = label_problem(label.strip(), rules)
        if problem:
            raise InputError(problem)
        if not ips:
            raise InputError("give at least one --ip: the new keys are bound to the firm's IPs")
        clean = check_ips(ips, allow_private_ip, rules)
    except RequestError as exc:
        raise InputError(str(exc)) from None
    if base_url:
        from agent import urls

        try:
            urls.check(base_url, "--base-url", ("http", "https"))
            urls.check_clear(base_url, "--base-url", "http", "the main key and the new secrets")
        except urls.URLError as exc:
            raise InputError(str(exc)) from None
        base_url = base_url.rstrip("/")
    return Plan(
        from_id=from_id.strip(),
        label=label.strip(),
        ips=clean,
        sub_accounts=seen,
        base_url=base_url,
    )


def load_main(vault: Vault, rid: str) -> Credential:
    """The main key's credentials from the vault, or InputError (nothing sent)."""
    try:
        meta = vault.meta(rid)
    except VaultError as exc:
        raise InputError(f"--from {rid}: {exc}") from None
    if meta.get("unusable"):
        raise InputError(
            f"--from {rid}: that record is marked unusable ({meta['unusable']}); its key must "
            "be deleted, not used"
        )
    if meta.get("exchange") not in (None, NAME):
        raise InputError(f"--from {rid}: a {meta.get('exchange')} key, not an OKX key")
    try:
        identity = vault.local_identity(create=False)
        return vault.load(rid, identity)
    except (VaultError, OSError) as exc:
        raise InputError(f"--from {rid}: cannot read the main key here ({exc})") from None


def statement(plan: Plan, main: Credential, subs: list[str], vault: Vault) -> str:
    """What will be created, with whose key: said before the client agrees, and kept in
    every record the run stores (Consent.statement)."""
    where = main.base_url or f"OKX {main.site}"
    return (
        f"This creates {len(subs)} OKX API key(s) over OKX's REST API, signed with the "
        f"client's main-account key (record {plan.from_id}, key {redact.mask_key(main.api_key)}, "
        f"label {main.label}, {where}): one per sub-account ({', '.join(subs)}), each named "
        f"{plan.label}, with Read + Trade only (never a withdrawal right), bound to "
        f"{', '.join(plan.ips)}. Each key's secret and passphrase are stored encrypted in "
        f"the vault ({vault.dir}) before anything else."
    )


def log_consent(vault: Vault, plan: Plan, consent: Consent, subs: list[str]) -> str | None:
    """Append the consent to the main record's `subkeys_consent` log, so the main key's
    record tells every time it was used to make keys, with whose agreement and when.
    A problem is returned as a note, not raised: each new record carries the consent too."""
    try:
        vault.update_meta(
            plan.from_id,
            subkeys_consent=[
                *vault.meta(plan.from_id).get("subkeys_consent", []),
                {"agreed_at": consent.agreed_at, "how": consent.how, "label": plan.label,
                 "sub_accounts": subs},
            ],
        )  # fmt: skip
    except Exception as exc:
        return f"the main record's consent log was not updated ({exc})"
    return None


def browser_fallback(plan: Plan, subs: list[str]) -> str:
    """The browser path for the same keys: drafts of up to 10, one verification each."""
    ips = " ".join(f"--ip {ip}" for ip in plan.ips)
    accounts = " ".join(f"--sub-account {s}" for s in subs[:10])
    more = f" (then the next {len(subs) - 10})" if len(subs) > 10 else ""
    return f"onboard run --label {plan.label} {ips} {accounts}{more}"
