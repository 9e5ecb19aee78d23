"""`onboard subkeys`: many sub-account keys over REST from an onboarded main key.

Imported by the command's body only. Everything that can be checked without the network
is checked first (exit 2, one line); then the consent; then the keys, one progress line
each. Every string printed passes the redaction layer.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from agent.custody.redact import redact
from agent.exitcodes import Exit

if TYPE_CHECKING:
    from agent.subkeys import Outcome

STYLE = {
    "created": "green",
    "exists": "green",
    "refused": "bold red",
    "failed": "bold red",
    "flagged": "bold red",
    "skipped": "yellow",
}


def _say(err: Console, text: str, style: str = "") -> None:
    err.print(escape(redact(text)), soft_wrap=True, style=style or None)


@dataclass
class SubkeysArgs:
    """`onboard subkeys`' options, by name (agent.cli.subkeys fills it)."""

    from_id: str
    label: str
    ips: list[str]
    sub_accounts: list[str] = field(default_factory=list)
    all_sub_accounts: bool = False
    allow_private_ip: bool = False
    base_url: str | None = None
    demo: bool = False
    yes: bool = False
    as_json: bool = False


def run_subkeys(args: SubkeysArgs) -> int:
    """Check, ask (or take --yes), then make each sub-account's key; one line per key."""
    import ccxt
    import click

    from agent.cli_vault import recover
    from agent.config import Settings
    from agent.console import consoles
    from agent.custody.vault import Vault
    from agent.exchanges.okx import okx_code, refusal_line
    from agent.journal import Journal
    from agent.subkeys import (
        Consent,
        Engine,
        InputError,
        browser_fallback,
        check_input,
        exit_code,
        load_main,
        log_consent,
        statement,
    )
    from agent.subkeys import run as run_all

    out, err = consoles()
    settings = Settings()
    vault = Vault(settings)
    try:
        plan = check_input(
            args.from_id,
            args.label,
            args.ips,
            args.sub_accounts,
            args.all_sub_accounts,
            args.allow_private_ip,
            args.base_url,
        )
        plan.demo = args.demo
        if not args.yes and not sys.stdin.isatty():
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
        if args.yes:
            how = "--yes"
        else:
            if not click.confirm("Has the client agreed to this?", default=False, err=True):
                _say(err, "not confirmed: nothing was sent")
                return int(Exit.BAD_INPUT)
            how = "confirmed at the prompt"
        consent = Consent(how=how, agreed_at=time.time(), statement=text)
        note = log_consent(vault, plan, consent, subs)
        if note:  # the consent is in each new record anyway
            _say(err, f"note: {note}")
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
    if args.as_json:
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
