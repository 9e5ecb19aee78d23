"""age keys and files, for the vault: recipients and identities from their text, and a
structural check of an age file that needs no identity (garbage, truncation, a short payload)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyrage

from agent.custody.errors import NoIdentity, VaultError

AGE_MAGIC = b"age-encryption.org/v1\n"
MAC_LEN = 43  # base64 (unpadded) of the 32-byte header MAC
MIN_PAYLOAD = 16 + 16  # stream nonce + one chunk's Poly1305 tag


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
    if len(mac) != MAC_LEN:
        return "damaged header (bad MAC line)"
    try:
        base64.b64decode(mac + b"=", validate=True)
    except ValueError:
        return "damaged header (bad MAC line)"
    if b"\n-> " not in data[: end + 1] and not data[len(AGE_MAGIC) :].startswith(b"-> "):
        return "damaged header (no recipient stanza)"
    if len(data) - (nl + 1) < MIN_PAYLOAD:
        return "truncated (payload too short)"
    return None
