"""The embedded vault: one age-encrypted file per key, written atomically and fsync'ed.

The firm's recipients (public keys) come from config; with none configured, a
local identity is generated on first use (file mode 0600) so the demo and
single-machine ops work. With recipients configured the machine needs no
identity at all (and none is created): it can store but not read back.

A record is never overwritten; `rekey` is the one place a record's `.age` file
is replaced (new ciphertext fsync'ed first, then an atomic rename). A damaged
file is reported by name and never hides the other records.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Sequence
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


AGE_MAGIC = b"age-encryption.org/v1\n"
# what a record id may look like: no path separators, no leading dot
_RID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
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

    def store(self, cred: Credential) -> str:
        """Encrypt and make durable; returns the record id. Raises VaultError on any failure."""
        try:
            private_dir(self.dir)
            rid = (
                time.strftime("%Y%m%dT%H%M%S", time.gmtime(cred.created_at))
                + "-"
                + secrets.token_hex(3)
            )
            blob = pyrage.encrypt(json.dumps(asdict(cred)).encode(), self.recipients())
            _write_atomic(self.dir / f"{rid}.age", blob, fault="store:during")
            meta = {"id": rid, **cred.meta(), "verification": "pending"}
            _write_atomic(self.dir / f"{rid}.json", json.dumps(meta, indent=2).encode())
            return rid
        except VaultError:
            raise
        except OSError as exc:
            raise VaultError(
                f"cannot write the vault at {self.dir}: {exc.strerror or exc}"
            ) from None

    def update_meta(self, rid: str, **fields: Any) -> dict[str, Any]:
        """Rewrite a record's clear metadata (e.g. verification status); never the record itself."""
        path = self.dir / f"{rid}.json"
        meta = json.loads(path.read_text())
        meta.update(fields)
        _replace_atomic(path, json.dumps(meta, indent=2).encode())
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
                    f"metadata file {path.name} missing ({rid}.age is present)", path
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

    def list(self, identities: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every record's clear metadata, oldest first (damaged ones last); never a secret.

        A damaged or missing `.json`/`.age` gives an entry with `id` and `error` naming the
        file, and the other records are still listed. With `identities`, every record is
        also decrypted (nothing is returned from it) and `check` says "ok" or why not.
        """
        out: list[dict[str, Any]] = []
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

        def when(e: dict[str, Any]) -> tuple[float, str]:
            ts = e.get("created_at")
            return (ts if isinstance(ts, int | float) else float("inf"), str(e.get("id")))

        return sorted(out, key=when)

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
            _replace_atomic(self.path(rid, "age"), blob)
        except OSError as exc:
            raise VaultError(
                f"cannot write the vault at {self.dir}: {exc.strerror or exc}"
            ) from None
