"""The embedded vault: one age-encrypted file per key, written atomically and fsync'ed.

The firm's recipients (public keys) come from config; with none configured, a
local identity is generated on first use (file mode 0600) so the demo and
single-machine ops work. A record is never overwritten.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyrage

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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """temp file + fsync + link (fails if the name exists: never overwrite) + fsync(dir)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # atomic and refuses to replace an existing record
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


class Vault:
    def __init__(
        self, settings: Settings | None = None, recipients: list[str] | None = None
    ) -> None:
        self.settings = settings or Settings()
        self.dir = self.settings.vault_dir
        self._recipients = recipients if recipients is not None else list(self.settings.recipients)

    def recipients(self) -> list[Any]:
        keys = list(self._recipients)
        if not keys:
            keys = [self.local_identity().to_public()]
        out = []
        for k in keys:
            if isinstance(k, str):
                try:
                    out.append(pyrage.x25519.Recipient.from_str(k.strip()))
                except Exception:
                    raise VaultError(f"not an age recipient: {k[:12]}…") from None
            else:
                out.append(k)
        return out

    def local_identity(self) -> Any:
        path = self.settings.identity_file
        if path.exists():
            return pyrage.x25519.Identity.from_str(path.read_text().strip())
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
            _write_atomic(self.dir / f"{rid}.age", blob)
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
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(meta, indent=2).encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.dir)
        return meta

    def load(self, rid: str, identity: Any | None = None) -> Credential:
        ident = identity or self.local_identity()
        data = pyrage.decrypt((self.dir / f"{rid}.age").read_bytes(), [ident])
        return Credential(**json.loads(data))

    def list(self) -> list[dict[str, Any]]:
        out = []
        if not self.dir.exists():
            return out
        for p in sorted(self.dir.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (OSError, ValueError):
                out.append({"id": p.stem, "error": f"unreadable metadata file {p.name}"})
        return out
