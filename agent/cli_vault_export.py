"""`onboard vault export` and `onboard vault rekey`: records out of the vault (to the formats
trading systems read, or a file) and re-encrypted to new recipients. Registered on
agent.cli_vault's `vault_app`, whose helpers (one-line errors, loading with an identity) they
share. Heavy modules are imported inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.choices import ExportFormat
from agent.cli_vault import (
    BAD_INPUT,
    FAILED,
    UNUSABLE,
    IdentityOpt,
    _exit_for,
    _fail,
    _identities,
    _load,
    _one_line,
    _require,
    _vault,
    recover,
    vault_app,
)

if TYPE_CHECKING:
    from agent.custody.vault import Credential, Vault


@vault_app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard vault export ID -f okx-toml --profile acme   (~/.okx/config.toml: OKX's CLI)\n\n"
        "  onboard vault export ID -f ccxt -o acme.json         (ccxt.okx(json.load(f)))\n\n"
        "  onboard vault export ID -f env -o acme.env           (OKX_API_KEY, OKX_SECRET_KEY, "
        "OKX_PASSPHRASE)\n\n"
        "  onboard vault export --label ICG-MM -f okx-toml      (one profile per account)\n\n"
        "--out writes a new file with mode 0600, atomically, and never replaces an existing "
        "one. okx-toml merges into OKX's profile file (the okx_config setting, or --out): other "
        "profiles and default_profile are kept, the file stays 0600, and an existing profile is "
        "replaced only with --force. A record marked unusable (more than Read + Trade) is never "
        "exported: named ids exit 9, --all and --label leave it out with a note."
    )
)
def export(
    record_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID]...", help="Record id(s) (onboard vault list).", show_default=False
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every usable record.")] = False,
    label: Annotated[
        str | None, typer.Option(help="Every usable record with this label (all its accounts).")
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="json: the whole record; env: OKX_API_KEY/OKX_SECRET_KEY/OKX_PASSPHRASE; ccxt: "
            "ccxt.okx's config (apiKey/secret/password); okx-toml: a profile in OKX's "
            "~/.okx/config.toml.",
        ),
    ] = ExportFormat.JSON,
    profile: Annotated[
        str | None,
        typer.Option(
            help="okx-toml and ccxt: the profile name (default: the label); several records "
            "become NAME-<account>."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write to this new file (0600) instead of stdout; okx-toml: the profile file "
            "to merge into instead of the okx_config setting.",
            dir_okay=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="okx-toml: replace a profile of the same name.")
    ] = False,
    identity: IdentityOpt = None,
) -> None:
    """Export records, secrets included, in the shapes trading systems read.

    Without --out, json, env and ccxt are printed on stdout: that is this command's purpose.
    Every check (selection, format, profile names, the target file) is made before anything
    is decrypted or written.
    """
    from agent.choices import check_profile
    from agent.custody import formats

    ids = list(record_ids or [])
    given = sum((bool(ids), all_, label is not None))
    if given == 0:
        _fail("which records? give record ids, --all or --label")
    if given > 1:
        _fail("give record ids, --all or --label, only one of them")
    toml = fmt is ExportFormat.OKX_TOML
    if profile is not None:
        if fmt not in (ExportFormat.OKX_TOML, ExportFormat.CCXT):
            _fail(f"--profile names an okx-toml or ccxt profile; --format {fmt} has none")
        try:
            check_profile(profile)
        except ValueError as exc:
            _fail(f"--profile {exc}".replace("--profile profile ", "--profile "))
    if force and not toml:
        _fail("--force replaces an okx-toml profile; other formats never replace a file")
    if not toml and out is not None and (out.exists() or out.is_symlink()):
        _fail(f"{out} already exists; refusing to overwrite (remove it or pick another --out)")
    vault = _vault()
    chosen = _select(vault, ids, label)
    if fmt is ExportFormat.ENV and len(chosen) > 1:
        _fail(
            f"an env file holds one key and {len(chosen)} records are selected: export each "
            "with its own --out (or use --format okx-toml or ccxt)"
        )
    names: dict[str, str] = {}
    target = out
    if fmt in (ExportFormat.OKX_TOML, ExportFormat.CCXT):
        try:
            names = formats.profile_names(
                [(rid, m["label"], m["account"]) for rid, m in chosen], profile
            )
        except formats.ExportError as exc:
            _fail(str(exc))
    if toml:
        from agent.config import Settings

        target = out or Settings().okx_config
        try:
            formats.check_okx_file(target, list(names.values()), force)
        except formats.ProfileExists as exc:
            _fail(
                f"{exc}; refusing to overwrite it (add --force to replace it, or pick another --profile)"
            )
        except formats.ExportError as exc:
            _fail(str(exc))
    records = [(rid, _load(vault, rid, identity)) for rid, _meta in chosen]
    if toml:
        assert target is not None
        try:
            merged = formats.merge_okx_profiles(
                target, {names[rid]: (rid, cred) for rid, cred in records}, force
            )
        except formats.ProfileExists as exc:  # made by another writer since the check
            _fail(f"{exc}; refusing to overwrite it (add --force to replace it)")
        except formats.ExportError as exc:
            _fail(str(exc), FAILED)
        done = ", ".join(merged.added + [f"{n} (replaced)" for n in merged.replaced])
        default = merged.default_profile or "none (OKX's tools then use 'default')"
        typer.echo(
            f"wrote profile {done} to {merged.path} (mode 0600): it holds the secret; "
            f"default_profile: {default}",
            err=True,
        )
        return
    text = _render(records, fmt, names)
    _write_out(text, out, fmt)


def _select(vault: Vault, ids: list[str], label: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(record id, clear metadata) of the records to export. Named ids must each exist and be
    usable (exit 9 for one marked unusable: nothing is written). `--all`/`--label` take intact
    records, leaving out unusable and damaged ones with one stderr line each."""
    from agent.custody.vault import VaultError

    if ids:
        chosen = []
        for rid in ids:
            _require(vault, rid)
            reason = vault.unusable(rid)
            if reason:
                _fail(
                    f"record {rid} is marked unusable ({_one_line(reason)}): delete that key "
                    "on the exchange; it is not exported",
                    UNUSABLE,
                )
            try:
                chosen.append((rid, vault.meta(rid)))
            except VaultError as exc:
                _fail(str(exc), _exit_for(exc))
        return chosen
    entries = [
        e for e in vault.list(leftovers=[]) if not e.get("interrupted") and "created_at" in e
    ]
    if label is not None:
        entries = [e for e in entries if e.get("label") == label]
        if not entries:
            _fail(
                f"no record labelled {label!r} in the vault at {vault.dir} (see: onboard vault list)"
            )
    if not entries:
        typer.echo(f"no records in {vault.dir}", err=True)
        raise typer.Exit(0)
    chosen, left_out = [], 0
    for e in entries:
        rid = str(e["id"])
        if e.get("error"):
            typer.echo(f"left out {rid}: {_one_line(e['error'])}", err=True)
            left_out += 1
        elif e.get("unusable"):
            typer.echo(
                f"left out {rid}: marked unusable ({_one_line(e['unusable'])}); delete that "
                "key on the exchange",
                err=True,
            )
            left_out += 1
        else:
            chosen.append((rid, e))
    if not chosen:
        _fail(f"nothing to export: all {left_out} record(s) were left out", UNUSABLE)
    return chosen


def _render(records: list[tuple[str, Credential]], fmt: ExportFormat, names: dict[str, str]) -> str:
    """The text of a stdout/--out format; a note on stderr when an env value reads differently
    in python-dotenv than in sh (never the value)."""
    from agent.custody import formats

    if fmt is ExportFormat.JSON:
        return formats.json_text(records)
    if fmt is ExportFormat.CCXT:
        return formats.ccxt_text(records, names)
    ((rid, cred),) = records
    try:
        env = formats.env_text(rid, cred)
    except formats.ExportError as exc:
        _fail(f"record {rid}: {exc}", FAILED)
    for name in env.sh_only:
        typer.echo(
            f"note: {name}'s value holds quotes or backslashes and $ or `: it is quoted for sh "
            "(set -a; . FILE); python-dotenv would read it differently",
            err=True,
        )
    return env.text


def _write_out(text: str, out: Path | None, fmt: ExportFormat) -> None:
    """stdout (the command's purpose), or a new file: 0600, atomic, never over another."""
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from agent.custody.files import write_atomic

    try:
        write_atomic(out, text.encode(), 0o600)
    except FileExistsError:
        _fail(f"{out} already exists; refusing to overwrite (remove it or pick another --out)")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}", FAILED)
    typer.echo(f"wrote {out} (mode 0600, {fmt}): it holds the secret", err=True)


@vault_app.command(
    epilog=(
        "Example: onboard vault rekey --all --recipient age1... --recipient age1... "
        "--identity old-firm-key.txt\n\n"
        "The metadata (.json) is not changed. The old ciphertext is replaced only once the "
        "new one is fsync'ed; it is not kept (so a retired identity loses access)."
    )
)
def rekey(
    record_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="ID", help="Records to re-encrypt.", show_default=False),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Re-encrypt every record.")] = False,
    recipient: Annotated[
        list[str] | None,
        typer.Option(
            "--recipient",
            "-r",
            help="New age recipient (age1...), repeatable; default: ONBOARD_RECIPIENTS.",
        ),
    ] = None,
    identity: IdentityOpt = None,
) -> None:
    """Re-encrypt records to a new set of recipients (decrypting with the identity)."""
    from agent.config import Settings
    from agent.custody.vault import NotARecipient, Vault, VaultError, parse_recipients

    ids = list(record_ids or [])
    if all_ and ids:
        _fail("give record ids or --all, not both")
    if not all_ and not ids:
        _fail("which records? give record ids or --all")
    settings = Settings()
    keys = list(recipient or []) or list(settings.recipients)
    if not keys:
        _fail("no recipients to re-encrypt to: pass --recipient age1... or set ONBOARD_RECIPIENTS")
    try:
        parse_recipients(keys)
    except VaultError as exc:
        _fail(str(exc))
    vault = Vault(settings)
    recover(vault)
    if all_:
        ids = [rid for rid in vault.ids() if vault.path(rid, "age").exists()]
        if not ids:
            typer.echo(f"no records in {vault.dir}")
            return
    for rid in ids:
        _require(vault, rid)
    idents = _identities(vault, identity)
    failures: list[VaultError] = []
    for rid in ids:
        try:
            vault.rekey(rid, keys, idents)
        except VaultError as exc:
            failures.append(exc)
            from agent.custody.redact import redact

            typer.echo(f"error: {rid}: {redact(_one_line(str(exc)))}", err=True)
            continue
        typer.echo(f"rekeyed {rid} -> {len(keys)} recipient(s)")
    if failures:
        typer.echo(f"{len(failures)} of {len(ids)} record(s) not rekeyed", err=True)
        # a wrong identity for every record is bad input (2); any damage or write error is 1
        wrong_identity = all(isinstance(e, NotARecipient) for e in failures)
        raise typer.Exit(BAD_INPUT if wrong_identity else FAILED)
