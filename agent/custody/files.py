"""Writes that survive a crash, for the vault: a file is written to a temporary, fsync'ed,
then linked (never over an existing file) or renamed (the one replacement), then the directory
fsync'ed. And a record's temporaries, as recovery reads them: which file each is for, whether
a ciphertext one is whole (its name carries its digest), what a metadata one holds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import faults

# a temporary: `.<id>.<age|json>.<token>.tmp`; a store's ciphertext token is its digest
TEMP = re.compile(
    r"\.(?P<rid>[A-Za-z0-9][A-Za-z0-9._-]{0,127})\.(?P<ext>age|json)\.(?P<token>[0-9a-f]+)\.tmp"
)
DIGEST_LEN = 32  # hex characters of the ciphertext's SHA-256 in its temporary's name


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(
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
    fsync_dir(path.parent)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:DIGEST_LEN]


def fill(fd: int, data: bytes, torn: str | None = None) -> None:
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


def temp_ext(temp: Path) -> str:
    """`age` or `json`: which of a record's files a temporary is for."""
    m = TEMP.fullmatch(temp.name)
    return m["ext"] if m else ""


def temp_metas(rid: str, temps: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The complete metadata temporaries of `rid` among `temps`, with their content."""
    out = []
    for t in temps:
        meta = read_temp_meta(t, rid) if temp_ext(t) == "json" else None
        if meta is not None:
            out.append((t, meta))
    return out


def read_temp_meta(path: Path, rid: str) -> dict[str, Any] | None:
    """A metadata temporary's content when it is complete and belongs to `rid`."""
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("id") == rid else None


def whole(path: Path) -> bool:
    """A store's ciphertext temporary holds exactly what was encrypted (its name's digest)."""
    m = TEMP.fullmatch(path.name)
    if not m or len(m["token"]) != DIGEST_LEN:
        return False
    try:
        return digest(path.read_bytes()) == m["token"]
    except OSError:
        return False


def write_atomic(path: Path, data: bytes, mode: int = 0o600, fault: str | None = None) -> None:
    durable_write(path, data, mode, replace=False, fault=fault)


def replace_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Only `Vault.rekey` (records) and `update_meta` (clear metadata) replace a file."""
    durable_write(path, data, mode, replace=True)
