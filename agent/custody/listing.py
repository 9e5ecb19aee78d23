"""What the vault holds, as people and reruns ask: every record's clear metadata with damage
and interrupted stores flagged (`vault list`), the records of each run (`onboard runs`' verdicts),
the records of one key name (a rerun's duplicate-name refusal) and that refusal's words. Never a
secret: only the clear metadata is read, and a record is decrypted only to check it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent.custody.age import check_age_file
from agent.custody.errors import NotARecipient, VaultError
from agent.custody.recovery import Leftover

if TYPE_CHECKING:
    from agent.custody.vault import Vault

_Records = list[dict[str, Any]]


def entries(
    vault: Vault,
    identities: Sequence[Any] | None = None,
    leftovers: Sequence[Leftover] | None = None,
) -> _Records:
    """Every record's clear metadata, oldest first (damaged ones last); never a secret.

    A damaged or missing `.json`/`.age` gives an entry with `id` and `error` naming the
    file, and the other records are still listed. With `identities`, every record is
    also decrypted (nothing is returned from it) and `check` says "ok" or why not.

    Leftovers of interrupted stores are recovered first (`recover`; pass `leftovers`
    when the caller already did): a recovered record carries `recovered` (what was
    done), and a store that stopped before its commit point is an entry of its own
    with `interrupted` and `error`, so it is never silently dropped.
    """
    if leftovers is None:
        try:
            leftovers = vault.recover(identities)
        except VaultError:
            leftovers = []  # busy: a live store's temporaries are not leftovers
    out: _Records = []
    for rid in vault.ids():
        errors: list[str] = []
        try:
            entry = vault.meta(rid)
        except VaultError as exc:
            entry = {"id": rid}
            errors.append(str(exc))
        age = vault.dir / f"{rid}.age"
        if not age.exists():
            if (vault.dir / f"{rid}.json").exists():
                errors.append(f"encrypted record {age.name} missing")
        else:
            problem = check_age_file(age)
            if problem:
                errors.append(f"{age.name}: {problem}")
            elif identities is not None:
                try:
                    vault.load(rid, list(identities))
                    entry["check"] = "ok"
                except NotARecipient:
                    entry["check"] = "not a recipient of this identity"
                except VaultError as exc:
                    entry["check"] = "damaged"
                    errors.append(str(exc))
        if errors:
            entry["error"] = "; ".join(errors)
        out.append(entry)
    notes = {lo.rid: lo for lo in leftovers}
    for entry in out:
        if entry["id"] in notes and notes[entry["id"]].state == "recovered":
            entry["recovered"] = notes[entry["id"]].detail
    for lo in leftovers:
        if lo.state == "interrupted":
            meta = {k: v for k, v in lo.meta.items() if k != "verification"}
            out.append({**meta, "id": lo.rid, "interrupted": True, "error": lo.detail})

    def when(e: dict[str, Any]) -> tuple[float, str]:
        ts = e.get("created_at")
        return (ts if isinstance(ts, int | float) else float("inf"), str(e.get("id")))

    return sorted(out, key=when)


def by_run(vault: Vault, leftovers: Sequence[Leftover] | None = None) -> dict[str, _Records]:
    """The vault's entries (`list`) of each run id: what a run's journal verdict needs
    (`agent.journal.verdict(row, vault.by_run().get(row["id"], []))`)."""
    out: dict[str, _Records] = {}
    for entry in entries(vault, leftovers=leftovers):
        if entry.get("run_id"):
            out.setdefault(str(entry["run_id"]), []).append(entry)
    return out


def holding(
    vault: Vault, exchange: str, site: str, base_url: str | None, account: str, label: str
) -> _Records:
    """The intact records of a key with this label on this account of this exchange
    (same site, or same base URL), newest first: what a duplicate-name refusal means
    when a rerun follows a kill."""

    def place(e: dict[str, Any]) -> bool:
        if base_url:
            return str(e.get("base_url") or "").rstrip("/") == base_url.rstrip("/")
        return not e.get("base_url") and e.get("site") == site

    found = [
        e
        for e in entries(vault)
        if not e.get("error")
        and e.get("exchange") == exchange
        and e.get("account") == account
        and e.get("label") == label
        and place(e)
    ]
    return sorted(found, key=lambda e: (e.get("created_at") or 0, e["id"]), reverse=True)


def held_message(label: str, held: Sequence[dict[str, Any]]) -> str:
    """The one line for a duplicate-name refusal when the vault holds that key (`held`:
    `Vault.holding`, newest first): nothing to delete; verify it instead."""
    newest = held[0]
    account = str(newest.get("account") or "main")
    where = "the main account" if account == "main" else f"the sub-account {account}"
    named = f'A key named "{label}" already exists on {where}'
    key = f"key {newest.get('api_key_masked') or '…?'}"
    if newest.get("unusable"):
        return (
            f"{named}; the vault's record of it ({newest['id']}, {key}) is marked unusable "
            f"({newest['unusable']}): delete that key in OKX, then run again"
        )
    if len(held) == 1:
        return (
            f"{named}, and the vault holds its credentials (record {newest['id']}, {key}): "
            f"nothing to do; verify it with `onboard verify {newest['id']}`"
        )
    ids = " ".join(str(h["id"]) for h in held)
    return (
        f"{named}, and the vault holds credentials for a key of that name (records "
        f"{', '.join(str(h['id']) for h in held)}; newest {newest['id']}, {key}): nothing to "
        f"do; verify them with `onboard verify {ids}` (only one can be the key on the exchange)"
    )
