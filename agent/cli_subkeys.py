"""`onboard subkeys`: many sub-account keys over REST from an onboarded main key.

Imported by the command's body only. Everything that can be checked without the network
is checked first (exit 2, one line); then the consent; then the keys, one progress line
each. Every string printed passes the redaction layer.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from agent.custody.redact import mask_key, redact
from agent.exitcodes import Exit

if TYPE_CHECKING:
    from agent.custody.vault import Credential, Vault
    from agent.subkeys import Outcome, Plan

STYLE = {
    "created": "green",
    "exists": "green",
    "refused": "bold red",
    "failed": "bold red",
    "flagged": "bold red",
    "skipped": "yellow",
}


class InputError(ValueError):
    """Bad input, one line; nothing was sent."""


def _say(err: Console, text: str, style: str = "") -> None:
    err.print(escape(redact(text)), soft_wrap=True, style=style or None)


def check_input(
    from_id: str,
    label: str,
    ips: list[str],
    sub_accounts: list[str],
    all_sub_accounts: bool,
    allow_private_ip: bool,
    base_url: str | None,
) -> Plan:
    """The plan, or InputError naming the first problem (before any network call)."""
    from agent.engine.flow import load_named
    from agent.request import RequestError, check_ips, check_sub_accounts, label_problem
    from agent.subkeys import Plan

    rules = load_named("okx").rules
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
    from agent.custody.vault import VaultError

    try:
        meta = vault.meta(rid)
    except VaultError as exc:
        raise InputError(f"--from {rid}: {exc}") from None
    if meta.get("unusable"):
        raise InputError(
            f"--from {rid}: that record is marked unusable ({meta['unusable']}); its key must "
            "be deleted, not used"
        )
    if meta.get("exchange") not in (None, "okx"):
        raise InputError(f"--from {rid}: a {meta.get('exchange')} key, not an OKX key")
    try:
        identity = vault.local_identity(create=False)
        return vault.load(rid, identity)
    except (VaultError, OSError) as exc:
        raise InputError(f"--from {rid}: cannot read the main key here ({exc})") from None


def statement(plan: Plan, main: Credential, subs: list[str], vault: Vault) -> str:
    """What will be created, with whose key: said before the client agrees."""
    where = main.base_url or f"OKX {main.site}"
    return (
        f"This creates {len(subs)} OKX API key(s) over OKX's REST API, signed with the "
        f"client's main-account key (record {plan.from_id}, key {mask_key(main.api_key)}, "
        f"label {main.label}, {where}): one per sub-account ({', '.join(subs)}), each named "
        f"{plan.label}, with Read + Trade only (never a withdrawal right), bound to "
        f"{', '.join(plan.ips)}. Each key's secret and passphrase are stored encrypted in "
        f"the vault ({vault.dir}) before anything else."
    )


def run_subkeys(
    from_id: str,
    label: str,
    ips: list[str],
    sub_accounts: list[str],
    all_sub_accounts: bool,
    allow_private_ip: bool,
    base_url: str | None,
    demo: bool,
    yes: bool,
    as_json: bool,
) -> int:
    import ccxt
    import click

    from agent.cli_vault import recover
    from agent.config import Settings
    from agent.custody.vault import Vault
    from agent.custody.verify import okx_code
    from agent.journal import Journal
    from agent.subkeys import (
        Consent,
        Engine,
        browser_fallback,
        exit_code,
        refusal_line,
    )
    from agent.subkeys import run as run_all

    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    settings = Settings()
    vault = Vault(settings)
    try:
        plan = check_input(
            from_id, label, ips, sub_accounts, all_sub_accounts, allow_private_ip, base_url
        )
        plan.demo = demo
        if not yes and not sys.stdin.isatty():
            raise InputError(
                "the client's consent is needed: run in a terminal to confirm, or pass --yes "
                "once the client has agreed"
            )
        recover(vault)
        main = load_main(vault, plan.from_id)
    except InputError as exc:
        _say(err, f"error: {exc}")
        return int(Exit.BAD_INPUT)

    journal = Journal(settings.journal_file)
    try:
        engine = Engine(plan, vault, journal, main)
        subs = list(plan.sub_accounts)
        if plan.every:
            try:
                subs = engine.sub_accounts()
            except ccxt.BaseError as exc:
                okx, msg = okx_code(exc)
                line = (
                    refusal_line(okx, msg, "", plan.label, engine.main_masked)
                    if okx
                    else f"could not reach OKX at {engine.endpoint} ({type(exc).__name__})"
                )
                _say(err, f"error: listing the sub-accounts: {line}")
                return int(Exit.EXCHANGE_REFUSED if okx else Exit.FAILED)
            if not subs:
                _say(err, "OKX lists no sub-account for this main key: nothing to create")
                return int(Exit.OK)
        text = statement(plan, main, subs, vault)
        _say(err, text)
        if yes:
            how = "--yes"
        else:
            if not click.confirm("Has the client agreed to this?", default=False, err=True):
                _say(err, "not confirmed: nothing was sent")
                return int(Exit.BAD_INPUT)
            how = "confirmed at the prompt"
        consent = Consent(how=how, agreed_at=time.time(), statement=text)
        try:
            vault.update_meta(
                plan.from_id,
                subkeys_consent=[
                    *vault.meta(plan.from_id).get("subkeys_consent", []),
                    {"agreed_at": consent.agreed_at, "how": how, "label": plan.label,
                     "sub_accounts": subs},
                ],
            )  # fmt: skip
        except Exception as exc:  # the consent is in each new record anyway
            _say(err, f"note: the main record's consent log was not updated ({exc})")
        _say(
            err,
            f"creating {len(subs)} key(s): OKX takes 1 create per second, so about "
            f"{max(0, len(subs) - 1)} s of waiting",
        )
        started = time.monotonic()

        def progress(i: int, n: int, o: Outcome) -> None:
            _say(err, f"[{i}/{n}] {o.sub_account}: {o.status}: {o.detail} ({o.seconds:.2f} s)",
                 STYLE.get(o.status, ""))  # fmt: skip

        outcomes = run_all(engine, subs, consent, progress)
        wall = time.monotonic() - started
    finally:
        journal.close()

    code = exit_code(outcomes)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    _say(err, f"{summary} in {wall:.1f} s (batch {engine.batch_id})")
    todo = [o.sub_account for o in outcomes if o.status in ("refused", "skipped", "flagged")]
    if todo:
        _say(
            err,
            "fallback: the browser path drafts these keys with one verification: "
            + browser_fallback(plan, todo),
        )
    if as_json:
        result = {
            "from": plan.from_id,
            "label": plan.label,
            "batch_id": engine.batch_id,
            "seconds": round(wall, 2),
            "exit_code": code,
            "keys": [o.as_dict() for o in outcomes],
        }
        out.print(escape(redact(json.dumps(result, indent=2))), soft_wrap=True)
    return code
