"""The one redaction layer: every text bound for a terminal, file or exception passes here.

Secrets and passphrases become [REDACTED]; API keys keep their last 4
characters. Values are registered the moment they are known.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_secrets: set[str] = set()
_keys: set[str] = set()


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def register_key(value: str | None) -> None:
    if value and len(value) >= 8:
        with _lock:
            _keys.add(value)


def mask_key(value: str) -> str:
    return f"…{value[-4:]}" if value else ""


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets_ = sorted(_secrets, key=len, reverse=True)
        keys = sorted(_keys, key=len, reverse=True)
    for s in secrets_:
        if s in text:
            text = text.replace(s, "[REDACTED]")
    for k in keys:
        if k in text:
            text = text.replace(k, mask_key(k))
    return text
