"""Batch tests: real CLI processes, real browsers, the live replica, pre-logged-in profiles."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import CLIENT


def write_roster(path: Path, entries: list[dict[str, Any]], **defaults: Any) -> Path:
    doc: Any = {"defaults": defaults, "entries": entries} if defaults else entries
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def issued(replica: Any) -> list[dict[str, Any]]:
    return httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]


def journal_rows(home: Path, sql: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(home / "journal.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql)]
    finally:
        db.close()


@pytest.fixture
def totp_env(replica: Any) -> dict[str, str]:
    return {"CLIENT_TOTP": replica.world.accounts[CLIENT].totp_secret or ""}
