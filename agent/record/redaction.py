"""Nothing secret reaches a fixture file: shape-preserving placeholders for anything that
identifies a person or opens an account (keys, secrets, emails, phones, UIDs, and every value
the recorder was told of), and the proof afterwards that no registered value survived."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable
from pathlib import Path

PLACEHOLDER_UUID = "00000000-0000-4000-8000-000000000000"
PLACEHOLDER_HEX32 = "0" * 32
PLACEHOLDER_EMAIL = "user@example.com"
PLACEHOLDER_PASSPHRASE = "Redacted-Passphrase-0!"
PLACEHOLDER_TEXT = "[redacted]"

_UUID = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
_HEX32 = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{32}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+*\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MASKED_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]*\*+[A-Za-z0-9._%+*\-]*@[A-Za-z0-9.*\-]*[A-Za-z0-9*]")
_PHONE = re.compile(r"\+\d{1,3}(?:[ \-]?\(?[\d*]{2,}\)?){1,4}(?![\d*\-])")
_UID = re.compile(r"(?<![\d.])\d{12,20}(?![\d.])")
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)


def _zero_digits(m: re.Match[str]) -> str:
    return re.sub(r"\d", "0", m.group(0))


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """Shape-preserving placeholders for anything that identifies a person or opens an account."""
    text = _UUID.sub(PLACEHOLDER_UUID, text)
    text = _HEX32.sub(PLACEHOLDER_HEX32, text)
    text = _EMAIL.sub(PLACEHOLDER_EMAIL, text)
    text = _MASKED_EMAIL.sub(PLACEHOLDER_EMAIL, text)
    text = _PHONE.sub(_zero_digits, text)
    text = _UID.sub(_zero_digits, text)
    for value in sorted({v for v in known if v and len(v) >= 4}, key=len, reverse=True):
        for form in {value, htmllib.escape(value), htmllib.escape(value, quote=False)}:
            text = text.replace(form, PLACEHOLDER_TEXT)
    return text


def redact_html(html: str, known: Iterable[str] = ()) -> str:
    """Redact a snapshot: patterns outside <style> (CSS keeps its numbers), known values everywhere."""
    known = list(known)
    out: list[str] = []
    pos = 0
    for m in _STYLE.finditer(html):
        out.append(redact_text(html[pos : m.start()], known))
        css = m.group(2)
        for value in sorted({v for v in known if v and len(v) >= 4}, key=len, reverse=True):
            css = css.replace(value, PLACEHOLDER_TEXT)
        out.append(m.group(1) + css + m.group(3))
        pos = m.end()
    out.append(redact_text(html[pos:], known))
    return "".join(out)


def leaks(directory: Path, values: Iterable[str]) -> list[str]:
    """'file: value…' for every registered value found in any file under `directory`."""
    found = []
    vals = sorted({v for v in values if v and len(v) >= 4})
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for v in vals:
            if v in text or v.lower() in text.lower():
                found.append(f"{path.name}: {v[:3]}…")
    return found
