"""The embedded vault: one age-encrypted file per key, written atomically and fsync'ed.

The firm's recipients (public keys) come from config; with none configured, a
local identity is generated on first use (file mode 0600) so the demo and
single-machine ops work. With recipients configured the machine needs no
identity at all (and none is created): it can store but not read back.

A record is one unit: its metadata and its ciphertext are both written to
temporaries and fsync'ed before either becomes `<id>.json` / `<id>.age` (by link,
so never over an existing file). The ciphertext's temporary is named after its
SHA-256, so recovery can prove it whole without decrypting it: a store killed after
that commit point is completed by `recover` (run by `vault list`, `show`, `verify`,
`onboard runs`, a rerun's duplicate check), one killed before it is reported with
its files kept. Writers hold the vault directory's lock shared and recovery holds
it exclusively, so a store in progress is never taken for a leftover.

A record is never overwritten; `rekey` is the one place a record's `.age` file
is replaced (new ciphertext fsync'ed first, then an atomic rename). A damaged
file is reported by name and never hides the other records.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyrage

from agent import faults
from agent.config import Settings, private_dir
from agent.custody import listing
from agent.custody.age import check_age_file as check_age_file
from agent.custody.age import parse_recipients as parse_recipients
from agent.custody.age import read_identities as read_identities
from agent.custody.credential import Credential as Credential
from agent.custody.errors import CorruptRecord as CorruptRecord
from agent.custody.errors import NoIdentity as NoIdentity
from agent.custody.errors import NotARecipient as NotARecipient
from agent.custody.errors import RecordUnreadable as RecordUnreadable
from agent.custody.errors import UnknownRecord as UnknownRecord
from agent.custody.errors import VaultBusy as VaultBusy
from agent.custody.errors import VaultError as VaultError
from agent.custody.files import digest, fill, fsync_dir, replace_atomic, write_atomic
from agent.custody.listing import held_message as held_message
from agent.custody.recovery import Leftover as Leftover

# what a record id may look like: no path separators, no leading dot
_RID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

# annotation aliases: inside `Vault`, `list` is the method of that name
_Records = list[dict[str, Any]]
_Found = list[Leftover]


class Vault:
    def __init__(
        self, settings: Settings | None = None, recipients: list[str] | None = None
    ) -> None:
        self.settings = settings or Settings()
        self.dir = self.settings.vault_dir
        self._recipients = recipients if recipients is not None else list(self.settings.recipients)

    def recipients(self) -> list[Any]:
        """The configured recipients; with none, the local identity (generated on first use)."""
        keys = list(self._recipients)
        if not keys:
            keys = [self.local_identity().to_public()]
        return parse_recipients(keys)

    def local_identity(self, create: bool = True) -> Any:
        path = self.settings.identity_file
        if path.exists():
            return read_identities(path)[0]
        if not create:
            raise NoIdentity(
                f"no identity to decrypt with: {path} does not exist "
                "(pass --identity FILE with the firm's age identity file)"
            )
        private_dir(path.parent)
        ident = pyrage.x25519.Identity.generate()
        write_atomic(path, (str(ident) + "\n").encode(), 0o600)
        return ident

    def store(self, cred: Credential, run_id: str = "", extra: dict[str, Any] | None = None) -> str:
        """Encrypt and make durable; returns the record id. Raises VaultError on any failure.

        `run_id` (the journal's run) goes into the clear metadata, so that after a crash
        `onboard runs` can tell which run's credentials are in the vault. `extra` is more
        clear metadata written in the same commit (never a secret): a sub-account key made
        over REST carries the main key's record (`from_id`) and the client's consent, so a
        record is never on disk without them.
        """
        try:
            private_dir(self.dir)
            rid = (
                time.strftime("%Y%m%dT%H%M%S", time.gmtime(cred.created_at))
                + "-"
                + secrets.token_hex(3)
            )
            blob = pyrage.encrypt(json.dumps(asdict(cred)).encode(), self.recipients())
            meta = {"id": rid, **(extra or {}), **cred.meta(), "verification": "pending"}
            if run_id:
                meta["run_id"] = run_id
            with self._lock(exclusive=False):
                self._commit(rid, json.dumps(meta, indent=2).encode(), blob)
            return rid
        except VaultError:
            raise
        except OSError as exc:
            raise VaultError(
                f"cannot write the vault at {self.dir}: {exc.strerror or exc}"
            ) from None

    def _commit(self, rid: str, meta: bytes, blob: bytes) -> None:
        """Both temporaries durable (the commit point), then published by link.

        Order: metadata temporary (so no ciphertext is ever on disk without it), ciphertext
        temporary named after its digest, fsync of the directory: from here recovery can
        prove the record whole and complete it. Then `<id>.age`, then `<id>.json` (links:
        never over an existing file), fsync, temporaries removed. A write error removes
        what this store created (the caller tells the human to copy the key); any other
        interruption leaves the files for recovery.
        """
        meta_tmp = self.dir / f".{rid}.json.{secrets.token_hex(4)}.tmp"
        age_tmp = self.dir / f".{rid}.age.{digest(blob)}.tmp"
        created: list[Path] = []
        try:
            for tmp, data, torn in ((meta_tmp, meta, None), (age_tmp, blob, "store:before-commit")):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                created.append(tmp)
                fill(fd, data, torn)
            fsync_dir(self.dir)
            faults.point("store:during")  # committed, not yet published
            os.link(age_tmp, self.dir / f"{rid}.age")
            created.append(self.dir / f"{rid}.age")
            faults.point("store:between")  # `<id>.age` published, `<id>.json` not yet
            os.link(meta_tmp, self.dir / f"{rid}.json")
            created.append(self.dir / f"{rid}.json")
            fsync_dir(self.dir)
        except OSError:
            for path in created:
                path.unlink(missing_ok=True)
            raise
        meta_tmp.unlink()
        age_tmp.unlink()

    @contextlib.contextmanager
    def _lock(self, exclusive: bool, wait: float = 10.0) -> Iterator[None]:
        """The vault directory's flock: shared for writers, exclusive for recovery (which
        gives up with VaultBusy after `wait` seconds). The kernel drops it when a process
        dies, so a killed store never holds it."""
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            if not exclusive:
                fcntl.flock(fd, fcntl.LOCK_SH)
            else:
                deadline = time.monotonic() + wait
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise VaultBusy(
                                f"the vault at {self.dir} is busy (a store in progress); "
                                "leftovers not examined this time"
                            ) from None
                        time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def update_meta(self, rid: str, **fields: Any) -> dict[str, Any]:
        """Rewrite a record's clear metadata (e.g. verification status); never the record itself.

        UnknownRecord / CorruptRecord (naming the file) when it is missing or unreadable:
        a damaged metadata file is reported, never replaced by a guess.
        """
        meta = self.meta(rid)
        meta.update(fields)
        try:
            with self._lock(exclusive=False):
                replace_atomic(self.path(rid, "json"), json.dumps(meta, indent=2).encode())
        except OSError as exc:
            raise VaultError(
                f"cannot write {rid}.json in the vault at {self.dir}: {exc.strerror or exc}"
            ) from None
        return meta

    def mark_unusable(self, rid: str, reason: str) -> None:
        """The key was made with more than was asked (more than Read + Trade): it must be deleted on
        the exchange; export and verify refuse the record from now on."""
        self.update_meta(rid, unusable=reason, unusable_at=time.time())

    def unusable(self, rid: str) -> str | None:
        try:
            reason = json.loads((self.dir / f"{rid}.json").read_text()).get("unusable")
        except (OSError, ValueError):
            return None
        return str(reason) if reason else None

    # -- reading -------------------------------------------------------------------------

    def identities(self, identity_file: Path | None = None) -> list[Any]:
        """Identities to decrypt with: that file, else the local one. Never creates one."""
        return read_identities(identity_file or self.settings.identity_file)

    def path(self, rid: str, ext: str = "age") -> Path:
        if not _RID.fullmatch(rid or ""):
            raise UnknownRecord(f"no record {rid!r} in the vault at {self.dir}")
        return self.dir / f"{rid}.{ext}"

    def ids(self) -> list[str]:
        """Every record id with an `.age` or `.json` file, oldest first (ids start with the time)."""
        if not self.dir.is_dir():
            return []
        stems = {
            p.stem
            for p in self.dir.iterdir()
            if p.suffix in (".age", ".json") and not p.name.startswith(".")
        }
        return sorted(stems)

    def exists(self, rid: str) -> bool:
        try:
            return self.path(rid, "age").exists() or self.path(rid, "json").exists()
        except UnknownRecord:
            return False

    def meta(self, rid: str) -> dict[str, Any]:
        """A record's clear metadata; UnknownRecord / CorruptRecord when missing / damaged."""
        path = self.path(rid, "json")
        if not path.exists():
            if self.path(rid, "age").exists():
                raise CorruptRecord(
                    f"metadata file {path.name} missing ({rid}.age is present; "
                    "`onboard vault list --identity FILE` rebuilds it from the record)",
                    path,
                )
            raise UnknownRecord(f"no record {rid!r} in the vault at {self.dir}")
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
            raise CorruptRecord(f"unreadable metadata file {path.name}: {why}", path) from None
        if not isinstance(meta, dict):
            raise CorruptRecord(f"unreadable metadata file {path.name}: not a JSON object", path)
        meta.setdefault("id", rid)
        return meta

    def _decrypt(self, rid: str, identities: Sequence[Any]) -> bytes:
        path = self.path(rid, "age")
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            if self.path(rid, "json").exists():
                raise CorruptRecord(
                    f"encrypted record {path.name} missing ({rid}.json is present)", path
                ) from None
            raise UnknownRecord(f"no record {rid!r} in the vault at {self.dir}") from None
        except OSError as exc:
            raise CorruptRecord(f"cannot read {path.name}: {exc.strerror or exc}", path) from None
        try:
            clear: bytes = pyrage.decrypt(blob, list(identities))
            return clear
        except pyrage.DecryptError as exc:
            if "no matching keys" in str(exc).lower():
                raise NotARecipient(
                    f"{path.name}: this identity cannot decrypt it (not one of its recipients)",
                    path,
                ) from None
            why = check_age_file(path) or f"damaged ({exc})"
            raise CorruptRecord(f"{path.name}: {why}", path) from None

    def load(self, rid: str, identity: Any | None = None) -> Credential:
        """Decrypt a record with `identity` (one or a list; default the local identity).

        Raises UnknownRecord, NoIdentity, NotARecipient (also a pyrage.DecryptError)
        or CorruptRecord, each naming the file.
        """
        if identity is None:
            idents = [self.local_identity(create=False)]
        elif isinstance(identity, list | tuple):
            idents = list(identity)
        else:
            idents = [identity]
        data = self._decrypt(rid, idents)
        try:
            return Credential(**json.loads(data))
        except (ValueError, TypeError):
            raise CorruptRecord(
                f"{rid}.age: decrypts, but is not a credential record", self.path(rid)
            ) from None

    # -- what it holds (agent.custody.listing) ------------------------------------------------

    def list(
        self,
        identities: Sequence[Any] | None = None,
        leftovers: Sequence[Leftover] | None = None,
    ) -> _Records:
        """Every record's clear metadata, oldest first (damaged ones last); never a secret
        (agent.custody.listing.entries)."""
        return listing.entries(self, identities, leftovers)

    def by_run(self, leftovers: Sequence[Leftover] | None = None) -> dict[str, _Records]:
        """The vault's entries (`list`) of each run id (agent.custody.listing.by_run)."""
        return listing.by_run(self, leftovers)

    def holding(
        self, exchange: str, site: str, base_url: str | None, account: str, label: str
    ) -> _Records:
        """The intact records of a key with this label on this account of this exchange,
        newest first (agent.custody.listing.holding)."""
        return listing.holding(self, exchange, site, base_url, account, label)

    # -- recovery (agent.custody.recovery) ---------------------------------------------------

    def recover(self, identities: Sequence[Any] | None = None, wait: float = 10.0) -> _Found:
        """Complete what interrupted stores left, report what cannot be completed
        (agent.custody.recovery.recover). Idempotent; VaultBusy if a writer keeps the lock
        past `wait`."""
        from agent.custody.recovery import recover

        return recover(self, identities, wait)

    # -- re-encryption ----------------------------------------------------------------------

    def rekey(self, rid: str, recipients: Sequence[Any], identities: Sequence[Any]) -> None:
        """Re-encrypt one record to `recipients` (decrypted with `identities`).

        The one place a record file is replaced: the new ciphertext is written to a temp
        file and fsync'ed while the old one is still in place, then renamed over it and
        the directory fsync'ed. The metadata file is not touched.
        """
        if not recipients:
            raise VaultError("rekey needs at least one recipient")
        new = parse_recipients(recipients)
        cred = self.load(rid, list(identities))
        blob = pyrage.encrypt(json.dumps(asdict(cred)).encode(), new)
        try:
            with self._lock(exclusive=False):
                replace_atomic(self.path(rid, "age"), blob)
        except OSError as exc:
            raise VaultError(
                f"cannot write the vault at {self.dir}: {exc.strerror or exc}"
            ) from None
