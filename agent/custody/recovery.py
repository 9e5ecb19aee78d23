"""Recovery: what interrupted stores left in the vault, completed or reported (`Vault.recover`,
run by `vault list`, `show`, `verify`, `onboard runs` and a rerun's duplicate check).

A store killed after its commit point (both temporaries durable, the ciphertext matching the
digest in its name) is published; one killed before it is reported with its files kept; a
record that lost its metadata gets it restored from the store's temporary or rebuilt from the
decrypted record. Runs under the vault's exclusive lock, so a store in progress is never
taken for a leftover.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyrage

from agent.custody.credential import Credential
from agent.custody.errors import VaultError
from agent.custody.files import TEMP, fsync_dir, temp_ext, temp_metas, whole, write_atomic

if TYPE_CHECKING:
    from agent.custody.vault import Vault

_Paths = list[Path]


@dataclass(frozen=True)
class Leftover:
    """What recovery found of one record outside its two files, and what it did.

    state: `recovered` (the record is complete now), `interrupted` (a store stopped before
    its commit point: its credentials are not in the vault; files kept), `unrecovered` (a
    record's metadata is missing and no identity here can rebuild it), `stale` (a
    temporary of an interrupted metadata update or rekey, removed; the record is intact).
    """

    rid: str
    state: str
    detail: str
    meta: dict[str, Any] = field(default_factory=dict)


_Found = list[Leftover]


def recover(vault: Vault, identities: Sequence[Any] | None = None, wait: float = 10.0) -> _Found:
    """Complete what interrupted stores left, report what cannot be completed.

    A store killed after its commit point (both temporaries durable, the ciphertext
    matching its digest) is published as `<id>.age` + `<id>.json`; one killed before
    it is reported (`interrupted`) and its files kept. A record without its metadata
    and nothing to restore it from (an earlier version's crash) gets it rebuilt from
    the decrypted record when `identities` (default: the local identity, if there is
    one) can decrypt it. Idempotent; VaultBusy if a writer keeps the lock past `wait`.
    """
    try:
        if not _needs_recovery(
            vault,
        ):
            return []
        with vault._lock(exclusive=True, wait=wait):
            return _recover_all(vault, _Identities(vault, identities))
    except OSError as exc:
        raise VaultError(
            f"cannot recover leftovers in the vault at {vault.dir}: {exc.strerror or exc}"
        ) from None


def _recover_all(vault: Vault, idents: _Identities) -> _Found:
    temps = _temporaries(
        vault,
    )
    orphans = {
        rid
        for rid in vault.ids()
        if (vault.dir / f"{rid}.age").exists() and not (vault.dir / f"{rid}.json").exists()
    }
    found: _Found = []
    for rid in sorted(set(temps) | orphans):
        found += _recover_one(vault, rid, temps.get(rid, []), idents)
    fsync_dir(vault.dir)
    return found


def _temporaries(vault: Vault) -> dict[str, _Paths]:
    out: dict[str, _Paths] = {}
    for p in vault.dir.iterdir():
        m = TEMP.fullmatch(p.name)
        if m:
            out.setdefault(m["rid"], []).append(p)
    return {rid: sorted(ps) for rid, ps in out.items()}


def _needs_recovery(vault: Vault) -> bool:
    """Anything to look at (checked without the lock, so a clean vault costs one listing)."""
    if not vault.dir.is_dir():
        return False
    names = {p.name for p in vault.dir.iterdir()}
    return any(
        TEMP.fullmatch(n)
        or (n.endswith(".age") and not n.startswith(".") and f"{n[:-4]}.json" not in names)
        for n in names
    )


def _recover_one(vault: Vault, rid: str, temps: _Paths, idents: _Identities) -> _Found:
    """One record's leftovers (under the exclusive lock)."""
    age, js = vault.dir / f"{rid}.age", vault.dir / f"{rid}.json"
    for t in list(temps):  # killed after publishing, before removing: the same files
        final = age if temp_ext(t) == "age" else js
        if final.exists() and os.path.samefile(t, final):
            t.unlink()
            temps.remove(t)
    if not age.exists():
        out = _publish(vault, rid, temps, idents) if not js.exists() else []
    elif not js.exists():
        out = [_restore_meta(vault, rid, temps, idents)]
    else:
        out = []
    if age.exists() and js.exists():
        for t in temps:
            if t.exists():  # an interrupted metadata update or rekey: the record is intact
                t.unlink()
                out.append(Leftover(rid, "stale", f"{rid}: removed {t.name}, left by an "
                                    "interrupted update; the record is intact"))  # fmt: skip
    return out


def _publish(vault: Vault, rid: str, temps: _Paths, idents: _Identities) -> _Found:
    """A store that never linked `<id>.age`: complete it if it reached its commit point
    (or, for an earlier version's temporary, if it decrypts to a record); else report it."""
    metas = temp_metas(rid, temps)
    ciphers = [t for t in temps if temp_ext(t) == "age"]
    done = next((t for t in ciphers if whole(t)), None)
    if done is not None and metas:
        os.link(done, vault.dir / f"{rid}.age")
        os.link(metas[0][0], vault.dir / f"{rid}.json")
        for t in (done, metas[0][0]):
            t.unlink()
        return [_recovered(rid, "its store was killed after its commit point", metas[0][1])]
    for t in ciphers:  # no digest in its name: only decryption proves it whole
        cred = idents.decrypt(t)
        if cred is not None:
            os.link(t, vault.dir / f"{rid}.age")
            t.unlink()
            meta = _rebuild(vault, rid, cred, metas[0][1] if metas else None)
            for m, _ in metas:
                m.unlink()
            return [_recovered(rid, "its temporary decrypts to the record", meta)]
    meta = metas[0][1] if metas else {}
    what = "its ciphertext is incomplete" if ciphers else "no ciphertext was written"
    names = ", ".join(t.name for t in temps)
    return [
        Leftover(
            rid,
            "interrupted",
            f"interrupted store {rid}{_about(meta)}: it stopped before its commit point "
            f"({what}), so its credentials are not in the vault; its files are kept "
            f"({names}); the key must be deleted on the exchange and created again, then "
            "these files can be removed",
            meta,
        )
    ]


def _restore_meta(vault: Vault, rid: str, temps: _Paths, idents: _Identities) -> Leftover:
    """`<id>.age` without `<id>.json`: the store's metadata temporary when it is there,
    else rebuilt from the decrypted record, else reported."""
    metas = temp_metas(rid, temps)
    if metas:
        os.link(metas[0][0], vault.dir / f"{rid}.json")
        metas[0][0].unlink()
        how = "its metadata was restored from the store's temporary"
        return _recovered(rid, how, metas[0][1])
    cred = idents.decrypt(vault.dir / f"{rid}.age")
    if cred is not None:
        meta = _rebuild(vault, rid, cred, None)
        return _recovered(rid, "its metadata was rebuilt from the decrypted record", meta)
    return Leftover(
        rid,
        "unrecovered",
        f"{rid}: metadata file {rid}.json missing and no identity here decrypts {rid}.age; "
        "`onboard vault list --identity FILE` rebuilds it",
    )


def _rebuild(
    vault: Vault, rid: str, cred: Credential, meta: dict[str, Any] | None
) -> dict[str, Any]:
    """Metadata for a record that lost it: the store's own when it was kept, else
    derived from the decrypted record (no secret, key masked, as at store time)."""
    if meta is None:
        meta = {"id": rid, **cred.meta(), "verification": "pending", "rebuilt_at": time.time()}
    write_atomic(vault.dir / f"{rid}.json", json.dumps(meta, indent=2).encode())
    return meta


def _recovered(rid: str, how: str, meta: dict[str, Any]) -> Leftover:
    return Leftover(rid, "recovered", f"recovered {rid}{_about(meta)}: {how}", meta)


class _Identities:
    """The identities recovery may decrypt with, loaded only when a record needs them."""

    def __init__(self, vault: Vault, given: Sequence[Any] | None) -> None:
        self.vault = vault
        self.given = list(given) if given is not None else None

    def decrypt(self, path: Path) -> Credential | None:
        """The credential record in an age file, or None (no identity, damaged, not one)."""
        if self.given is None:
            try:
                self.given = self.vault.identities()
            except VaultError:
                self.given = []
        if not self.given:
            return None
        try:
            return Credential(**json.loads(pyrage.decrypt(path.read_bytes(), self.given)))
        except (OSError, ValueError, TypeError, pyrage.DecryptError):
            return None


def _about(meta: dict[str, Any]) -> str:
    """` (label, account, key …abcd, run R)` for a message, from whatever metadata is known."""
    parts = [str(meta[k]) for k in ("label", "account", "api_key_masked") if meta.get(k)]
    if meta.get("run_id"):
        parts.append(f"run {meta['run_id']}")
    return f" ({', '.join(parts)})" if parts else ""
