"""`onboard vault ...`: list, show, export and re-encrypt stored credentials.

Only typer is imported at module level (so `onboard --help` stays instant);
the vault, pyrage and rich are imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from agent.custody.vault import Credential, Leftover, Vault

vault_app = typer.Typer(
    help=(
        "Stored credentials: list (no secrets), show, export, rekey.\n\n"
        "Records live in <data dir>/vault/ ($ONBOARD_HOME): <id>.age (age-encrypted) and "
        "<id>.json (metadata, no secret). Decrypting needs an identity: the local one "
        "(<data dir>/identity.age.txt) or the firm's key file with --identity.\n\n"
        "Exit codes: 0 ok, 1 a record is damaged or could not be written, 9 a record marked "
        "unusable (its key has more than Read + Trade: delete it on the exchange), "
        "2 bad input (unknown id, missing identity, bad recipient)."
    ),
    no_args_is_help=True,
)

IdentityOpt = Annotated[
    Path | None,
    typer.Option(
        "--identity",
        "-i",
        help="age identity file to decrypt with (default: the local identity in the data dir).",
        dir_okay=False,
    ),
]

BAD_INPUT = 2
FAILED = 1
UNUSABLE = 9  # Exit.VERIFY_FAILED: the key must be deleted on the exchange


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    from agent.custody.redact import redact

    typer.echo(f"error: {redact(_one_line(message))}", err=True)
    raise typer.Exit(code)


def _vault() -> Vault:
    from agent.config import Settings
    from agent.custody.vault import Vault

    vault = Vault(Settings())
    recover(vault)
    return vault


def recover(vault: Vault, identities: list[Any] | None = None) -> list[Leftover]:
    """Complete interrupted stores before anything reads the vault, one stderr line for each
    thing found (recovered, interrupted, unrecovered, stale). Used by every command that
    reads records: `vault ...`, `verify`, `runs`."""
    from agent.custody.redact import redact
    from agent.custody.vault import VaultError

    try:
        found = vault.recover(identities)
    except VaultError as exc:  # busy (a store in progress), or the directory unreadable
        typer.echo(f"vault: {redact(_one_line(str(exc)))}", err=True)
        return []
    for lo in found:
        typer.echo(f"vault: {redact(_one_line(lo.detail))}", err=True)
    return found


def _exit_for(exc: Exception) -> int:
    from agent.custody.vault import CorruptRecord

    return FAILED if isinstance(exc, CorruptRecord) else BAD_INPUT


def _identities(vault: Vault, identity: Path | None) -> list[Any]:
    from agent.custody.vault import VaultError

    try:
        return vault.identities(identity)
    except VaultError as exc:
        _fail(str(exc), BAD_INPUT)


def _require(vault: Vault, rid: str) -> None:
    if not vault.exists(rid):
        _fail(f"no record {rid!r} in the vault at {vault.dir} (see: onboard vault list)")


def _load(vault: Vault, rid: str, identity: Path | None) -> Credential:
    from agent.custody import redact
    from agent.custody.vault import NotARecipient, VaultError

    _require(vault, rid)
    idents = _identities(vault, identity)
    try:
        cred = vault.load(rid, idents)
    except VaultError as exc:
        hint = ""
        if isinstance(exc, NotARecipient):
            hint = " (pass --identity with the firm's age identity file)"
        _fail(f"{exc}{hint}", _exit_for(exc))
    redact.register_secret(cred.secret)
    redact.register_secret(cred.passphrase)
    redact.register_key(cred.api_key)
    return cred


def _when(ts: Any) -> str:
    import datetime as dt

    try:
        return (
            dt.datetime.fromtimestamp(float(ts), tz=dt.UTC)
            .astimezone()
            .strftime("%Y-%m-%d %H:%M:%S %Z")
        )
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def _joined(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


@vault_app.command("list")
def list_(
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON array on stdout (metadata only).")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also decrypt every record with the identity to prove it is intact "
            "(nothing secret is shown).",
        ),
    ] = False,
    identity: IdentityOpt = None,
) -> None:
    """List stored keys without any secret: id, exchange, account, label, key last 4,
    permissions, IPs, created, verification.

    A damaged or missing .age/.json file is shown as a row naming the file; the other
    records are still listed, and the exit code is 1. Interrupted stores are dealt with
    first (one stderr line each): one killed after its commit point is completed and
    listed; one killed before it is a row of its own (its files kept), exit 1.
    """
    import json

    from agent.config import Settings
    from agent.custody.vault import Vault

    vault = Vault(Settings())
    idents = _identities(vault, identity) if check or identity else None
    found = recover(vault, idents)  # --identity alone: to rebuild lost metadata with it
    entries = vault.list(idents if check else None, leftovers=found)
    bad = sum(1 for e in entries if e.get("error"))
    if json_out:
        typer.echo(json.dumps(entries, indent=2))
        raise typer.Exit(FAILED if bad else 0)
    if not entries:
        typer.echo(f"no records in {vault.dir}")
        raise typer.Exit(0)

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"vault: {vault.dir}", title_justify="left")
    for col in ("id", "exchange", "account", "label", "key", "permissions", "IPs", "created"):
        table.add_column(col, no_wrap=col in ("id", "key", "created"))
    table.add_column("verification")
    if check:
        table.add_column("check")
    if bad:
        table.add_column("problem", style="red")
    for e in entries:
        last4 = e.get("api_key_last4")
        row = [
            e.get("id", "?"),
            e.get("exchange", ""),
            e.get("account", ""),
            e.get("label", ""),
            f"…{last4}" if last4 else "",
            _joined(e.get("permissions")),
            _joined(e.get("ips")),
            _when(e["created_at"]) if "created_at" in e else "",
            "not stored"
            if e.get("interrupted")
            else e.get("verification", "pending")
            if "created_at" in e
            else "",
        ]
        if check:
            row.append(e.get("check", ""))
        if bad:
            row.append(e.get("error", ""))
        table.add_row(*(Text(str(c)) for c in row))
    # a pipe gets a wide table so ids and file names are never folded
    console = Console(width=None if _stdout_is_tty() else 400, soft_wrap=False)
    console.print(table)
    if bad:
        typer.echo(
            f"{bad} damaged record(s) or interrupted store(s); the others are listed above",
            err=True,
        )
        raise typer.Exit(FAILED)


@vault_app.command(
    epilog=(
        "Revealing into a pipe or a file is how secrets leak (shell history, logs, CI "
        "output), so --reveal refuses when stdout is not a terminal unless --force-pipe is "
        "also given. To hand a key to a trading system, prefer `onboard vault export --out`."
    )
)
def show(
    record_id: Annotated[str, typer.Argument(metavar="ID", help="Record id (onboard vault list).")],
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal", help="Decrypt and print the API key, secret and passphrase (terminal only)."
        ),
    ] = False,
    force_pipe: Annotated[
        bool,
        typer.Option(
            "--force-pipe",
            help="With --reveal: allow stdout to be a pipe or file (it will hold secrets).",
        ),
    ] = False,
    identity: IdentityOpt = None,
) -> None:
    """Show one record: metadata by default; the full record with --reveal."""
    vault = _vault()
    _require(vault, record_id)
    if not reveal:
        from agent.custody.vault import VaultError

        try:
            meta = vault.meta(record_id)
        except VaultError as exc:
            _fail(str(exc), _exit_for(exc))
        for k, v in meta.items():
            if k == "created_at":
                typer.echo(f"{'created':15} {_when(v)}")
            else:
                typer.echo(f"{k:15} {_joined(v) or '-'}")
        if "verification" not in meta:
            typer.echo(f"{'verification':15} pending")
        age = vault.path(record_id, "age")
        size = f"{age.stat().st_size} bytes" if age.exists() else "MISSING"
        typer.echo(f"{'record':15} {age} (encrypted, {size})")
        typer.echo(
            f"secrets hidden: `onboard vault show {record_id} --reveal [--identity FILE]` "
            "prints them (terminal only)",
            err=True,
        )
        return
    if force_pipe is False and not _stdout_is_tty():
        _fail(
            "--reveal refuses to print secrets into a pipe or file; add --force-pipe if that "
            "is really intended, or use `onboard vault export --out FILE`"
        )
    cred = _load(vault, record_id, identity)
    try:
        verification = vault.meta(record_id).get("verification", "pending")
    except Exception:
        verification = "?"
    lines = [
        ("id", record_id),
        ("exchange", cred.exchange),
        ("site", cred.site),
        ("base_url", cred.base_url or "-"),
        ("demo", "yes (demo trading)" if cred.demo else "no"),
        ("account", cred.account),
        ("label", cred.label),
        ("api_key", cred.api_key),
        ("secret", cred.secret),
        ("passphrase", cred.passphrase),
        ("permissions", _joined(cred.permissions)),
        ("ips", _joined(cred.ips)),
        ("created", _when(cred.created_at)),
        ("verification", verification),
    ]
    for k, v in lines:  # deliberately not redacted: this is the reveal
        typer.echo(f"{k:15} {v}")
    if _stdout_is_tty():
        typer.echo("secrets shown above: clear the terminal's scrollback when done", err=True)


# `export` and `rekey` are declared in their own module, after `list` and `show` (help's order).
from agent import cli_vault_export as _export_commands  # noqa: E402,F401
