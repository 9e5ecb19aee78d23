"""`onboard verify`: prove stored keys with a signed REST call; table or JSON out.

Imported by the `verify` command's body only; ccxt comes in with agent.custody.verify
when the command runs. Every string printed passes the redaction layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.custody.redact import redact
from agent.exitcodes import Exit

if TYPE_CHECKING:
    from agent.custody.vault import Vault
    from agent.custody.verify import VerifyResult

STYLE = {"ok": "green", "failed": "bold red", "pending": "yellow", "error": "red"}


def _say(err: Console, text: str) -> None:
    err.print(escape(redact(text)), soft_wrap=True)


def run_verify(
    ids: list[str],
    all_: bool,
    proxy: str | None,
    demo: bool,
    base_url: str | None,
    as_json: bool,
) -> int:
    from agent.cli_vault import recover
    from agent.config import Settings
    from agent.console import consoles
    from agent.custody.vault import Vault
    from agent.custody.verify import (
        VerifyInputError,
        check_proxy,
        overall_exit,
        record_ids,
    )

    out, err = consoles()
    if bool(ids) == bool(all_):
        _say(err, "error: give record id(s) or --all (not both); `onboard vault` lists records")
        return int(Exit.BAD_INPUT)
    if proxy:
        try:
            check_proxy(proxy)
        except VerifyInputError as exc:
            _say(err, f"error: {exc}")
            return int(Exit.BAD_INPUT)
    if base_url:
        from agent import urls

        try:  # before any connection: the request carries the key and its passphrase
            urls.check(base_url, "--base-url", ("http", "https"))
            urls.check_clear(base_url, "--base-url", "http", "the API key and passphrase")
        except urls.URLError as exc:
            _say(err, f"error: {exc}")
            return int(Exit.BAD_INPUT)
    vault = Vault(Settings())
    recover(vault)  # a store killed between its two files is completed before it is read
    known = record_ids(vault)
    if all_:
        ids = known
        if not ids:
            _say(err, f"no stored keys in {vault.dir}: nothing to verify")
            if as_json:
                out.print("[]", soft_wrap=True)
            return int(Exit.OK)
    missing = [i for i in ids if i not in known]
    if missing:
        _say(err, f"error: no record {missing[0]!r} in the vault at {vault.dir}")
        return int(Exit.BAD_INPUT)

    results: list[VerifyResult] = []
    for rid in ids:
        res = _verify_one(vault, rid, base_url, proxy, demo, lambda m: _say(err, f"  {m}"))
        results.append(res)
        if res.status == "error":
            _say(err, f"error: {rid}: {res.detail}")
        if res.critical:
            err.rule(style="bold red")
            _say(err, f"{res.id} key {res.api_key_masked}: {res.detail}")
            err.rule(style="bold red")

    if as_json:
        out.print(
            escape(redact(json.dumps([r.as_dict() for r in results], indent=2))), soft_wrap=True
        )
    else:
        table = Table(title="signed REST verification (GET /api/v5/account/config)")
        for col in ("id", "label", "key", "result", "detail"):
            table.add_column(col, overflow="fold")
        for r in results:
            result = "CRITICAL" if r.critical else r.status
            table.add_row(
                *(escape(redact(x)) for x in (r.id, r.label, r.api_key_masked)),
                f"[{STYLE.get(r.status, '')}]{escape(result)}[/]",
                escape(redact(r.detail)),
            )
        out.print(table)

    code = overall_exit(results)
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "failed", "pending", "error")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if counts["pending"]:
        pend = " ".join(r.id for r in results if r.status == "pending")
        _say(
            err,
            f"{summary}. pending: this machine is not on the key's IP allowlist; run "
            f"`onboard verify {pend}` from a whitelisted host, or add --proxy URL",
        )
    else:
        _say(err, summary)
    return int(code)


def _verify_one(
    vault: Vault,
    rid: str,
    base_url: str | None,
    proxy: str | None,
    demo: bool,
    log: Callable[[str], None],
) -> VerifyResult:
    """One record, whatever is wrong with it: a bad record is an `error` result (one line,
    exit code 1), and `--all` goes on with the next."""
    from agent.custody.verify import VerifyResult, verify_record

    try:
        return verify_record(vault, rid, base_url=base_url, proxy=proxy, demo=demo, log=log)
    except Exception as exc:
        detail = f"could not be verified ({type(exc).__name__}: {' '.join(str(exc).split())})"
        return VerifyResult(
            id=rid, label="", api_key_masked="", status="error", detail=redact(detail)
        )
