"""The leak scan itself (tests/leaks.py) can fail: every form a value can take is found
wherever it is hidden, and what only looks like a code is not.

Each case plants a value in one file of a fresh tree; the scan must name exactly the
planted files, with the right kind, and nothing else. No browser: this runs in a second.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import segno
from PIL import Image

from tests.leaks import Needles, barcodes, marked_pixels, pixel_leaks, scan

SECRET = "9A1F3C5E7B2D4F6A8C0E1B3D5F7A9C2E"
API_KEY = "5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01"
PASSPHRASE = "Pp$<tag>&'q\"/ 9!"
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CODE = "482913"


def zipped(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return out.getvalue()


def sqlite_with(value: str) -> bytes:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE runs (id TEXT, note TEXT)")
    db.execute("INSERT INTO runs VALUES ('r1', ?)", (value,))
    db.commit()
    data = db.serialize()
    db.close()
    return data


def b64_inside(value: str, offset: int) -> bytes:
    """The value inside a longer base64 stream, starting `offset` bytes into it."""
    return base64.b64encode(b"x" * offset + value.encode() + b" and more after it")


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=4)
    return out.getvalue()


# file name -> (kind found there, its bytes)
FOUND: dict[str, tuple[str, Callable[[], bytes]]] = {
    "raw.log": ("secret", lambda: f"secret={SECRET}\n".encode()),
    "lower.json": ("secret", lambda: json.dumps({"s": SECRET.lower()}).encode()),
    "upper.txt": ("api key", lambda: API_KEY.upper().encode()),
    "utf16.bin": ("api key", lambda: b"\x00\x01" + API_KEY.encode("utf-16-le")),
    "url.txt": ("passphrase", lambda: f"p={quote(PASSPHRASE, safe='')}".encode()),
    "html.html": ("passphrase", lambda: f"<td>{html.escape(PASSPHRASE)}</td>".encode()),
    "json.json": ("passphrase", lambda: json.dumps({"p": PASSPHRASE}).encode()),
    "b64-0.txt": ("secret", lambda: b64_inside(SECRET, 0)),
    "b64-1.txt": ("secret", lambda: b64_inside(SECRET, 1)),
    "b64-2.txt": ("passphrase", lambda: b64_inside(PASSPHRASE, 2)),
    "b64url.txt": (
        "passphrase",
        lambda: base64.urlsafe_b64encode(b"??>" + PASSPHRASE.encode() + b"~~~"),
    ),
    "seed.cfg": ("totp seed", lambda: f"otpauth://totp/x?secret={SEED}".encode()),
    "password.txt": ("password", lambda: b"typed: replica-pass-1"),
    "nested.zip": ("secret", lambda: zipped("inner.zip", zipped("trace.trace", SECRET.encode()))),
    "stream.gz": ("api key", lambda: gzip.compress(API_KEY.encode() * 3)),
    "journal.sqlite3": ("passphrase", lambda: sqlite_with(PASSPHRASE)),
    "code.log": ("code", lambda: f'{{"event": "code", "value": "{CODE}"}}'.encode()),
    "code16.bin": ("code", lambda: b"\xff\xfe\x00" + CODE.encode("utf-16-le") + b"\x00\x00"),
    "code64.bin": ("code", lambda: b"\x89" + b64_inside(CODE, 1)),
}
# Files that hold nothing: near misses the scan must not take for a value.
CLEAN: dict[str, Callable[[], bytes]] = {
    "run-id.txt": lambda: f"runs/20261125T{CODE}-abc123/log.jsonl".encode(),
    "float.json": lambda: f'{{"t": 1764012345.{CODE}}}'.encode(),
    "longer.txt": lambda: f"uid 62{CODE}1 and {CODE}7".encode(),
    "code-in-binary.bin": lambda: b"\xff\x00" + CODE.encode() + b"\x00\xfe",
    "other-secret.txt": lambda: SECRET[:-1].encode() + b"0",
}


def needles() -> Needles:
    n = Needles()
    n.add("secret", SECRET)
    n.add("api key", API_KEY)
    n.add("passphrase", PASSPHRASE)
    n.add("totp seed", SEED)
    n.add("password", "Replica-Pass-1")
    n.add("code", CODE)
    return n


def test_every_form_is_found_and_near_misses_are_not(tmp_path: Path) -> None:
    for name, (_, make) in FOUND.items():
        (tmp_path / name).write_bytes(make())
    for name, make in CLEAN.items():
        (tmp_path / name).write_bytes(make())
    found = scan({"t": tmp_path}, {"stderr": f"... {SECRET.lower()} ..."}, needles())
    where = {h.where.split("!")[0].removeprefix("t/"): h.kind for h in found.hits}
    assert where == {**{n: kind for n, (kind, _) in FOUND.items()}, "stderr": "secret"}
    assert "t/nested.zip!inner.zip!trace.trace" in found.scanned  # a zip in a zip, opened
    assert "t/journal.sqlite3!rows" in found.scanned


def test_images_are_taken_out_of_reports_and_zips(tmp_path: Path) -> None:
    """A data URI in a report and a PNG in a zip are checked like any screenshot."""
    marked, plain = png((0, 0, 255)), png((43, 43, 43))  # the marker; the agent's mask
    uri = "data:image/png;base64," + base64.b64encode(marked).decode()
    (tmp_path / "report.html").write_text(f"<img src='{uri}'><p>no secret here</p>")
    (tmp_path / "trace.zip").write_bytes(zipped("resources/shot.png", qr_png(API_KEY)))
    (tmp_path / "masked.png").write_bytes(plain)
    found = scan({"t": tmp_path}, {}, needles())
    assert found.hits == []
    images = dict(found.images)
    assert set(images) == {"t/report.html#data-uri-1", "t/trace.zip!resources/shot.png",
                           "t/masked.png"}  # fmt: skip
    assert marked_pixels(images["t/report.html#data-uri-1"])[0] == 40 * 20
    assert marked_pixels(images["t/masked.png"]) == (0, None)
    [qr] = barcodes(images["t/trace.zip!resources/shot.png"])
    assert qr.endswith("(36 characters)")
    assert len(pixel_leaks(found.images)) == 2


def test_a_scan_for_nothing_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="proves nothing"):
        scan({"t": tmp_path}, {}, Needles())
