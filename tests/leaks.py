"""One leak scan for every test that checks what the agent leaves behind.

`scan()` is the only place that decides whether a secret leaked: the leak tests gather what
the replica issued (`Needles`), run the agent, then hand every directory and every command's
output to it. It looks for each value raw and case-insensitively, and as it would look
base64-, URL-, HTML-, JSON- or UTF-16-encoded; inside zip files (nested: a Playwright trace
is a zip, a zip may hold another), gzip streams and SQLite databases (the journal, and the
browser profile's own databases); and it takes every image it meets (PNG/JPEG/WebP files,
images inside zips, `data:image/...;base64,` URIs in a report) out for the pixel checks:
`marked_pixels()` counts the replica's marker colour, `barcodes()` decodes any QR code.

Run as `python -m tests.leaks witness FILE onboard-args...` it is `onboard` itself, except
that any replica the command starts in its own process (`onboard demo`) writes what it
issued (keys, codes) to FILE when it stops: how a test learns the demo's secrets.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pyotp
import yaml
import zxingcpp
from PIL import Image, ImageChops

from replica.scenarios import MARK_COLOR
from replica.state import SEED_PATH

# The marker (replica scenario `marked`) is pure blue; nothing else on the pages, the agent's
# overlay or its masks has a blue cast. A pixel counts as marked when its blue stands at least
# this far above its red and green: a glyph's edge blended a quarter or more with the marker,
# a JPEG's smeared copy of it. Unmarked screens measured 5 at most (tests check 0).
MARK_EXCESS = 48
assert MARK_COLOR.lower() == "#0000ff", "marked_pixels() measures blue over red and green"

ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8")
DATA_URI = re.compile(rb"data:image/[a-z+]+;base64,([A-Za-z0-9+/=]+)")
# A 6-digit code counts only standing alone: not inside a longer number, a word or a decimal
# fraction (run ids carry HHMMSS, JSON floats carry fractions).
WORD = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Needle:
    """One value that must appear nowhere; `kind` names it in a hit, never the value."""

    kind: str  # "secret", "passphrase", "api key", "totp seed", "password", "code"
    value: str


@dataclass
class Needles:
    """Everything one or more replicas issued or hold that the agent's artifacts must not."""

    items: set[Needle] = field(default_factory=set)

    def add(self, kind: str, *values: str) -> None:
        self.items.update(Needle(kind, v) for v in values if v)

    def of(self, kind: str) -> list[str]:
        return sorted(n.value for n in self.items if n.kind == kind)

    def add_seed(self, seed: Path = SEED_PATH) -> None:
        """Every account's login password and TOTP seed (the demo's replica reads the same seed)."""
        for acct in yaml.safe_load(seed.read_text())["accounts"]:
            self.add("password", acct["password"])
            self.add("totp seed", acct.get("totp_secret") or "")

    def add_issued(self, issued: dict[str, Any]) -> None:
        """`{"keys": [...], "messages": [...]}` as /replica/issued and /replica/outbox give it."""
        for k in issued.get("keys", []):
            self.add("api key", k["apiKey"])
            self.add("secret", k["secretKey"])
            self.add("passphrase", k["passphrase"])
        self.add("code", *(m["code"] for m in issued.get("messages", [])))

    def add_replica(self, base_url: str) -> None:
        """What a live replica issued since its last reset: call before the next reset."""
        self.add_issued(replica_issued(base_url))

    def add_totp(self, seed: str, start: float, end: float) -> None:
        """The authenticator codes of every 30 s window a run spent time in."""
        totp = pyotp.TOTP(seed)
        for step in range(int(start // 30), int(end // 30) + 1):
            self.add("code", totp.at(step * 30))


def replica_issued(base_url: str) -> dict[str, Any]:
    """A live replica's issued keys and outbox messages, in one JSON-able dict."""
    keys = httpx.get(f"{base_url}/replica/issued").json()["keys"]
    messages = httpx.get(f"{base_url}/replica/outbox").json()["messages"]
    return {"keys": keys, "messages": messages}


# -- the forms a value can take -------------------------------------------------------------


def _b64_cores(raw: bytes) -> set[bytes]:
    """The base64 text of `raw` at each of the 3 byte alignments it can have inside a longer
    stream, cut to the characters that depend on `raw` alone (standard and URL-safe)."""
    out: set[bytes] = set()
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw + b"\0\0")
        first = -(-pad * 8 // 6)  # the first character whose bits all come from `raw`
        last = (pad + len(raw)) * 8 // 6  # characters before this one end inside `raw`
        core = enc[first:last]
        if len(core) >= 6:
            out.add(core)
            out.add(core.replace(b"+", b"-").replace(b"/", b"_"))
    return out


def _escaped(v: str) -> set[str]:
    """URL-, HTML- and JSON-escaped spellings (a passphrase has punctuation)."""
    forms = {
        quote(v, safe=""),
        quote_plus(v, safe=""),
        html.escape(v, quote=True),
        "".join(c if c.isalnum() else f"&#{ord(c)};" for c in v),
        "".join(c if c.isalnum() else f"&#x{ord(c):x};" for c in v),
        json.dumps(v)[1:-1],
        "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in v),
    }
    return forms - {v}


@dataclass(frozen=True)
class _Form:
    needle: Needle
    how: str
    text: bytes
    lowered: bool  # searched in the lowercased blob (case-insensitive) or as is (base64)


def _forms(n: Needle) -> list[_Form]:
    v = n.value
    out = [_Form(n, "raw, any case", v.lower().encode(), True)]
    out.append(_Form(n, "UTF-16, any case", v.lower().encode("utf-16-le"), True))
    out += [_Form(n, "escaped, any case", f.lower().encode(), True) for f in _escaped(v)]
    for case in {v, v.lower(), v.upper()}:
        out += [_Form(n, "base64", f, False) for f in _b64_cores(case.encode())]
    return out


# -- the scan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One needle found: where, which kind of value, in which form, at which byte."""

    where: str
    kind: str
    how: str
    at: int

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.how}) at byte {self.at}"


@dataclass
class Scan:
    """What was looked at, what was found, and every image met on the way."""

    scanned: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)

    def named(self, *parts: str) -> list[str]:
        """The scanned items whose name contains every part (for "was X looked at" checks)."""
        return [s for s in self.scanned if all(p in s for p in parts)]


class _Scanner:
    def __init__(self, needles: Needles) -> None:
        items = sorted(needles.items, key=lambda n: (n.kind, n.value))
        if not items:
            raise ValueError("nothing to look for: a scan without needles proves nothing")
        self.long = [f for n in items if n.kind != "code" for f in _forms(n)]
        # A 6-digit code is short: megabytes of compressed or image data hold any 6 ASCII
        # digits by chance, so its plain form counts in text only; its UTF-16 and base64
        # forms are long enough to count anywhere.
        self.codes: list[tuple[Needle, str, bytes, int]] = []  # width 0: a base64 core
        for n in (n for n in items if n.kind == "code"):
            plain = n.value.encode()
            self.codes.append((n, "raw", plain, 1))
            self.codes.append((n, "UTF-16", n.value.encode("utf-16-le"), 2))
            self.codes += [(n, "base64", core, 0) for core in _b64_cores(plain)]
        self.out = Scan()

    def blob(self, where: str, data: bytes, text: bool = False, depth: int = 0) -> None:
        """Search one blob, then whatever it contains."""
        self.out.scanned.append(where)
        low = data.lower()
        for f in self.long:
            at = (low if f.lowered else data).find(f.text)
            if at >= 0:
                self.out.hits.append(Hit(where, f.needle.kind, f.how, at))
        text = text or _is_text(data)
        for n, how, lit, width in self.codes:
            if width == 1 and not text:
                continue
            at = _standalone(data, lit, width) if width else data.find(lit)
            if at >= 0:
                self.out.hits.append(Hit(where, n.kind, how, at))
        if text:
            for k, m in enumerate(DATA_URI.finditer(data)):
                self.blob(f"{where}#data-uri-{k + 1}", base64.b64decode(m.group(1)), depth=depth)
        if depth > 8:
            return
        if data.startswith(IMAGE_MAGIC) or data[8:12] == b"WEBP":
            self.out.images.append((where, data))
        elif data.startswith(ZIP_MAGIC):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    self.blob(f"{where}!{member}", z.read(member), depth=depth + 1)
        elif data.startswith(GZIP_MAGIC):
            try:
                inner = gzip.decompress(data)
            except (OSError, EOFError):
                return  # not a whole stream (a cache fragment): its bytes were searched
            self.blob(f"{where}!gunzip", inner, depth=depth + 1)
        elif data.startswith(SQLITE_MAGIC):
            self.blob(f"{where}!rows", _sqlite_rows(data), text=True, depth=depth + 1)


def _standalone(data: bytes, lit: bytes, width: int) -> int:
    """The first offset of `lit` with no letter or digit right before or after it (nor a
    decimal point before it), in characters of `width` bytes (1: ASCII, 2: UTF-16-LE); -1."""

    def word(at: int, dot: bool) -> bool:
        if at < 0 or at + width > len(data):
            return False
        c = data[at]
        wide_ok = width == 1 or data[at + 1] == 0
        return wide_ok and (c in WORD or (dot and c == ord(".")))

    at = data.find(lit)
    while at >= 0:
        if not word(at - width, True) and not word(at + len(lit), False):
            return at
        at = data.find(lit, at + 1)
    return -1


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sqlite_rows(data: bytes) -> bytes:
    """Every text, blob and integer value of every table, one per line (a WAL-less copy)."""
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        lines: list[bytes] = []
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            for row in db.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    if isinstance(v, bytes):
                        lines.append(v)
                    elif isinstance(v, str | int) and not isinstance(v, bool):
                        lines.append(str(v).encode())
        return b"\n".join(lines)
    except sqlite3.DatabaseError:
        return b""  # a database in the middle of a write: its raw bytes were searched
    finally:
        db.close()


def scan(roots: dict[str, Path], outputs: dict[str, str], needles: Needles) -> Scan:
    """Every file under each root (recursively, into containers) and every output, for every
    needle in every form. Names in the result are "root/relative/path[!member][#data-uri-n]"."""
    s = _Scanner(needles)
    for name, text in outputs.items():
        s.blob(name, text.encode(), text=True)
    for label, root in roots.items():
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            s.blob(f"{label}/{path.relative_to(root)}", path.read_bytes())
    return s.out


# -- pixels ------------------------------------------------------------------------------


def marked_pixels(data: bytes) -> tuple[int, tuple[int, int, int, int] | None]:
    """How many pixels carry the marker colour, and the box around them (None: none)."""
    with Image.open(io.BytesIO(data)) as im:
        r, g, b = im.convert("RGB").split()
    excess = ImageChops.subtract(b, ImageChops.lighter(r, g))
    hot = excess.point(lambda v: 255 if v >= MARK_EXCESS else 0)
    return hot.histogram()[255], hot.getbbox()


def barcodes(data: bytes) -> list[str]:
    """Every barcode zxing-cpp decodes in the image, as "format (N characters)" (not the text,
    which may be a secret)."""
    with Image.open(io.BytesIO(data)) as im:
        found = zxingcpp.read_barcodes(im.convert("RGB"))
    return [f"{r.format} ({len(r.text)} characters)" for r in found]


def pixel_leaks(images: Iterable[tuple[str, bytes]]) -> list[str]:
    """Each image with a marked pixel or a decodable barcode, and what it shows."""
    out = []
    for where, data in images:
        count, box = marked_pixels(data)
        if count:
            out.append(f"{where}: {count} pixels of the marker colour within {box}")
        out += [f"{where}: decodes as {code}" for code in barcodes(data)]
    return out


# -- the demo's own replica ------------------------------------------------------------------


def witnessed(
    home: Path, report: Path, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`onboard ARGS` as tests.helpers.onboard runs it, with any replica the command starts
    itself reporting what it issued to `report` (JSON, as `replica_issued` gives it)."""
    env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120"}
    env.pop("DISPLAY", None)
    cmd = [sys.executable, "-m", "tests.leaks", "witness", str(report), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def _witness(report: Path, args: list[str]) -> None:
    """Run the CLI; a ReplicaServer stopping first writes its issued keys and outbox."""
    from agent.cli import main
    from replica.server import ReplicaServer

    stop = ReplicaServer.stop

    def stop_and_report(self: ReplicaServer) -> None:
        if self.server.started:
            report.write_text(json.dumps(replica_issued(self.base_url)))
        stop(self)

    ReplicaServer.stop = stop_and_report  # type: ignore[method-assign]
    sys.argv = ["onboard", *args]
    main()


if __name__ == "__main__":
    if sys.argv[1:2] != ["witness"] or len(sys.argv) < 3:
        sys.exit("usage: python -m tests.leaks witness REPORT.json ONBOARD-ARGS...")
    _witness(Path(sys.argv[2]), sys.argv[3:])
