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

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyrage

from agent import faults
from agent.config import Settings, private_dir
from agent.custody.redact import mask_key


@dataclass
class Credential:
    exchange: str
    site: str
    base_url: str | None
    account: str
    label: str
    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)
    permissions: list[str]
    ips: list[str]
    created_at: float = field(default_factory=time.time)
    # A demo-trading key (OKX's simulated trading): its REST calls need the
    # x-simulated-trading header. Records stored before demo support are live keys.
    demo: bool = False

    def meta(self) -> dict[str, Any]:
        """What may be shown and written in clear: no secret, no passphrase, key masked."""
        return {
            "exchange": self.exchange,
            "site": self.site,
            "base_url": self.base_url,
            "account": self.account,
            "label": self.label,
            "api_key_last4": self.api_key[-4:],
            "api_key_masked": mask_key(self.api_key),
            "permissions": self.permissions,
            "ips": self.ips,
            "created_at": self.created_at,
            "demo": self.demo,
        }


class VaultError(Exception):
    pass


class UnknownRecord(VaultError):
    """No record with that id in the vault."""


class NoIdentity(VaultError, pyrage.DecryptError):
    """No identity file to decrypt with (so, like a wrong identity, nothing decrypts)."""


class RecordUnreadable(VaultError):
    """A record that exists but cannot be read (damaged, or not for this identity)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotARecipient(RecordUnreadable, pyrage.DecryptError):
    """The identity given is not one of the record's recipients."""


class CorruptRecord(RecordUnreadable):
    """The file is damaged: truncated, garbage, or not a record."""


class VaultBusy(VaultError):
    """Another process kept the vault's lock (a store in progress) for longer than we wait."""


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


# annotation aliases: inside `Vault`, `list` is the method of that name
_Paths = list[Path]
_Records = list[dict[str, Any]]
_Found = list[Leftover]

AGE_MAGIC = b"age-encryption.org/v1\n"
# what a record id may look like: no path separators, no leading dot
_RID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# a temporary: `.<id>.<age|json>.<token>.tmp`; a store's ciphertext token is its digest
_TEMP = re.compile(
    r"\.(?P<rid>[A-Za-z0-9][A-Za-z0-9._-]{0,127})\.(?P<ext>age|json)\.(?P<token>[0-9a-f]+)\.tmp"
)
_DIGEST_LEN = 32  # hex characters of the ciphertext's SHA-256 in its temporary's name
_MAC_LEN = 43  # base64 (unpadded) of the 32-byte header MAC
_MIN_PAYLOAD = 16 + 16  # stream nonce + one chunk's Poly1305 tag


def parse_recipients(keys: Iterable[Any]) -> list[Any]:
    """age public keys (`age1...`, or `ssh-ed25519 ...`/`ssh-rsa ...`) -> pyrage recipients."""
    out = []
    for k in keys:
        if not isinstance(k, str):
            out.append(k)
            continue
        text = k.strip()
        try:
            if text.startswith(("ssh-ed25519 ", "ssh-rsa ")):
                out.append(pyrage.ssh.Recipient.from_str(text))
            else:
                out.append(pyrage.x25519.Recipient.from_str(text))
        except Exception:
            raise VaultError(f"not an age recipient: {k[:12]}…") from None
    return out


def read_identities(path: Path) -> list[Any]:
    """The identities in an age identity file (`age-keygen` output: comments allowed)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise NoIdentity(
            f"no identity to decrypt with: {path} does not exist "
            "(pass --identity FILE with the firm's age identity file)"
        ) from None
    except OSError as exc:
        raise NoIdentity(f"cannot read the identity file {path}: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            out.append(pyrage.x25519.Identity.from_str(line))
        except Exception:
            raise NoIdentity(
                f"{path}:{n}: not an age identity (expected AGE-SECRET-KEY-1...)"
            ) from None
    if not out:
        raise NoIdentity(f"{path} holds no age identity (expected AGE-SECRET-KEY-1...)")
    return out


def check_age_file(path: Path) -> str | None:
    """What is structurally wrong with an age file, or None. Needs no identity.

    Catches garbage, truncation inside the header and an empty/short payload; only
    decryption (with an identity) proves the payload itself is intact.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if not data:
        return "empty file"
    if not data.startswith(AGE_MAGIC):
        return "not an age file (bad header)"
    end = data.find(b"\n--- ")
    if end < 0:
        return "truncated (header has no MAC line)"
    nl = data.find(b"\n", end + 5)
    if nl < 0:
        return "truncated (inside the header MAC)"
    mac = data[end + 5 : nl]
    if len(mac) != _MAC_LEN:
        return "damaged header (bad MAC line)"
    try:
        base64.b64decode(mac + b"=", validate=True)
    except ValueError:
        return "damaged header (bad MAC line)"
    if b"\n-> " not in data[: end + 1] and not data[len(AGE_MAGIC) :].startswith(b"-> "):
        return "damaged header (no recipient stanza)"
    if len(data) - (nl + 1) < _MIN_PAYLOAD:
        return "truncated (payload too short)"
    return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _durable_write(
    path: Path, data: bytes, mode: int = 0o600, replace: bool = False, fault: str | None = None
) -> None:
    """temp file + fsync, then link (never overwrites) or rename (replaces), then fsync(dir).

    The old content, if any, stays until the new one is durable; the swap is atomic.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if fault:
            faults.point(fault)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # atomic, and refuses to replace an existing record
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:_DIGEST_LEN]


def _fill(fd: int, data: bytes, torn: str | None = None) -> None:
    """Write all of `data` to a new temporary and fsync it. `torn` names the fault point
    that kills the process halfway through the write (tests: a store that never reached
    its commit point)."""
    with os.fdopen(fd, "wb") as fh:
        if torn:
            fh.write(data[: len(data) // 2])
            fh.flush()
            faults.point(torn)
        fh.write(data[len(data) // 2 :] if torn else data)
        fh.flush()
        os.fsync(fh.fileno())


def _ext(temp: Path) -> str:
    """`age` or `json`: which of a record's files a temporary is for."""
    m = _TEMP.fullmatch(temp.name)
    return m["ext"] if m else ""


def _metas(rid: str, temps: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The complete metadata temporaries of `rid` among `temps`, with their content."""
    out = []
    for t in temps:
        meta = _read_meta(t, rid) if _ext(t) == "json" else None
        if meta is not None:
            out.append((t, meta))
    return out


def _read_meta(path: Path, rid: str) -> dict[str, Any] | None:
    """A metadata temporary's content when it is complete and belongs to `rid`."""
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("id") == rid else None


def _whole(path: Path) -> bool:
    """A store's ciphertext temporary holds exactly what was encrypted (its name's digest)."""
    m = _TEMP.fullmatch(path.name)
    if not m or len(m["token"]) != _DIGEST_LEN:
        return False
    try:
        return _digest(path.read_bytes()) == m["token"]
    except OSError:
        return False


def _write_atomic(path: Path, data: bytes, mode: int = 0o600, fault: str | None = None) -> None:
    _durable_write(path, data, mode, replace=False, fault=fault)


def _replace_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Only `Vault.rekey` (records) and `update_meta` (clear metadata) replace a file."""
    _durable_write(path, data, mode, replace=True)


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
        _write_atomic(path, (str(ident) + "\n").encode(), 0o600)
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
        age_tmp = self.dir / f".{rid}.age.{_digest(blob)}.tmp"
        created: list[Path] = []
        try:
            for tmp, data, torn in ((meta_tmp, meta, None), (age_tmp, blob, "store:before-commit")):
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                created.append(tmp)
                _fill(fd, data, torn)
            _fsync_dir(self.dir)
            faults.point("store:during")  # committed, not yet published
            os.link(age_tmp, self.dir / f"{rid}.age")
            created.append(self.dir / f"{rid}.age")
            faults.point("store:between")  # `<id>.age` published, `<id>.json` not yet
            os.link(meta_tmp, self.dir / f"{rid}.json")
            created.append(self.dir / f"{rid}.json")
            _fsync_dir(self.dir)
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
                _replace_atomic(self.path(rid, "json"), json.dumps(meta, indent=2).encode())
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
            return pyrage.decrypt(blob, list(identities))
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

    def list(
        self,
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
                leftovers = self.recover(identities)
            except VaultError:
                leftovers = []  # busy: a live store's temporaries are not leftovers
        out: _Records = []
        for rid in self.ids():
            errors: list[str] = []
            try:
                entry = self.meta(rid)
            except VaultError as exc:
                entry = {"id": rid}
                errors.append(str(exc))
            age = self.dir / f"{rid}.age"
            if not age.exists():
                if (self.dir / f"{rid}.json").exists():
                    errors.append(f"encrypted record {age.name} missing")
            else:
                problem = check_age_file(age)
                if problem:
                    errors.append(f"{age.name}: {problem}")
                elif identities is not None:
                    try:
                        self.load(rid, list(identities))
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

    def by_run(self, leftovers: Sequence[Leftover] | None = None) -> dict[str, _Records]:
        """The vault's entries (`list`) of each run id: what a run's journal verdict needs
        (`agent.journal.verdict(row, vault.by_run().get(row["id"], []))`)."""
        out: dict[str, _Records] = {}
        for entry in self.list(leftovers=leftovers):
            if entry.get("run_id"):
                out.setdefault(str(entry["run_id"]), []).append(entry)
        return out

    def holding(
        self, exchange: str, site: str, base_url: str | None, account: str, label: str
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
            for e in self.list()
            if not e.get("error")
            and e.get("exchange") == exchange
            and e.get("account") == account
            and e.get("label") == label
            and place(e)
        ]
        return sorted(found, key=lambda e: (e.get("created_at") or 0, e["id"]), reverse=True)

    # -- recovery ---------------------------------------------------------------------------

    def recover(self, identities: Sequence[Any] | None = None, wait: float = 10.0) -> _Found:
        """Complete what interrupted stores left, report what cannot be completed.

        A store killed after its commit point (both temporaries durable, the ciphertext
        matching its digest) is published as `<id>.age` + `<id>.json`; one killed before
        it is reported (`interrupted`) and its files kept. A record without its metadata
        and nothing to restore it from (an earlier version's crash) gets it rebuilt from
        the decrypted record when `identities` (default: the local identity, if there is
        one) can decrypt it. Idempotent; VaultBusy if a writer keeps the lock past `wait`.
        """
        try:
            if not self._needs_recovery():
                return []
            with self._lock(exclusive=True, wait=wait):
                return self._recover_all(_Identities(self, identities))
        except OSError as exc:
            raise VaultError(
                f"cannot recover leftovers in the vault at {self.dir}: {exc.strerror or exc}"
            ) from None

    def _recover_all(self, idents: _Identities) -> _Found:
        temps = self._temporaries()
        orphans = {
            rid
            for rid in self.ids()
            if (self.dir / f"{rid}.age").exists() and not (self.dir / f"{rid}.json").exists()
        }
        found: _Found = []
        for rid in sorted(set(temps) | orphans):
            found += self._recover_one(rid, temps.get(rid, []), idents)
        _fsync_dir(self.dir)
        return found

    def _temporaries(self) -> dict[str, _Paths]:
        out: dict[str, _Paths] = {}
        for p in self.dir.iterdir():
            m = _TEMP.fullmatch(p.name)
            if m:
                out.setdefault(m["rid"], []).append(p)
        return {rid: sorted(ps) for rid, ps in out.items()}

    def _needs_recovery(self) -> bool:
        """Anything to look at (checked without the lock, so a clean vault costs one listing)."""
        if not self.dir.is_dir():
            return False
        names = {p.name for p in self.dir.iterdir()}
        return any(
            _TEMP.fullmatch(n)
            or (n.endswith(".age") and not n.startswith(".") and f"{n[:-4]}.json" not in names)
            for n in names
        )

    def _recover_one(self, rid: str, temps: _Paths, idents: _Identities) -> _Found:
        """One record's leftovers (under the exclusive lock)."""
        age, js = self.dir / f"{rid}.age", self.dir / f"{rid}.json"
        for t in list(temps):  # killed after publishing, before removing: the same files
            final = age if _ext(t) == "age" else js
            if final.exists() and os.path.samefile(t, final):
                t.unlink()
                temps.remove(t)
        if not age.exists():
            out = self._publish(rid, temps, idents) if not js.exists() else []
        elif not js.exists():
            out = [self._restore_meta(rid, temps, idents)]
        else:
            out = []
        if age.exists() and js.exists():
            for t in temps:
                if t.exists():  # an interrupted metadata update or rekey: the record is intact
                    t.unlink()
                    out.append(Leftover(rid, "stale", f"{rid}: removed {t.name}, left by an "
                                        "interrupted update; the record is intact"))  # fmt: skip
        return out

    def _publish(self, rid: str, temps: _Paths, idents: _Identities) -> _Found:
        """A store that never linked `<id>.age`: complete it if it reached its commit point
        (or, for an earlier version's temporary, if it decrypts to a record); else report it."""
        metas = _metas(rid, temps)
        ciphers = [t for t in temps if _ext(t) == "age"]
        whole = next((t for t in ciphers if _whole(t)), None)
        if whole is not None and metas:
            os.link(whole, self.dir / f"{rid}.age")
            os.link(metas[0][0], self.dir / f"{rid}.json")
            for t in (whole, metas[0][0]):
                t.unlink()
            return [
                self._recovered(rid, "its store was killed after its commit point", metas[0][1])
            ]
        for t in ciphers:  # no digest in its name: only decryption proves it whole
            cred = idents.decrypt(t)
            if cred is not None:
                os.link(t, self.dir / f"{rid}.age")
                t.unlink()
                meta = self._rebuild(rid, cred, metas[0][1] if metas else None)
                for m, _ in metas:
                    m.unlink()
                return [self._recovered(rid, "its temporary decrypts to the record", meta)]
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

    def _restore_meta(self, rid: str, temps: _Paths, idents: _Identities) -> Leftover:
        """`<id>.age` without `<id>.json`: the store's metadata temporary when it is there,
        else rebuilt from the decrypted record, else reported."""
        metas = _metas(rid, temps)
        if metas:
            os.link(metas[0][0], self.dir / f"{rid}.json")
            metas[0][0].unlink()
            how = "its metadata was restored from the store's temporary"
            return self._recovered(rid, how, metas[0][1])
        cred = idents.decrypt(self.dir / f"{rid}.age")
        if cred is not None:
            meta = self._rebuild(rid, cred, None)
            return self._recovered(rid, "its metadata was rebuilt from the decrypted record", meta)
        return Leftover(
            rid,
            "unrecovered",
            f"{rid}: metadata file {rid}.json missing and no identity here decrypts {rid}.age; "
            "`onboard vault list --identity FILE` rebuilds it",
        )

    def _rebuild(self, rid: str, cred: Credential, meta: dict[str, Any] | None) -> dict[str, Any]:
        """Metadata for a record that lost it: the store's own when it was kept, else
        derived from the decrypted record (no secret, key masked, as at store time)."""
        if meta is None:
            meta = {"id": rid, **cred.meta(), "verification": "pending", "rebuilt_at": time.time()}
        _write_atomic(self.dir / f"{rid}.json", json.dumps(meta, indent=2).encode())
        return meta

    @staticmethod
    def _recovered(rid: str, how: str, meta: dict[str, Any]) -> Leftover:
        return Leftover(rid, "recovered", f"recovered {rid}{_about(meta)}: {how}", meta)

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
                _replace_atomic(self.path(rid, "age"), blob)
        except OSError as exc:
            raise VaultError(
                f"cannot write the vault at {self.dir}: {exc.strerror or exc}"
            ) from None


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
