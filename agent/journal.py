"""The journal: one row per run and its state, in SQLite, durable at every transition.

Its job is the question after a crash: did a key get created that nobody
holds? A run that reached `submitted` but not `stored` created (or may have
created) a key whose secret is lost: the journal says so, loudly.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from agent.config import private_dir
from agent.custody import redact

STATES = (
    "pending",
    "opened",
    "filled",
    "submitted",
    "verifying-human",
    "captured",
    "stored",
    "confirmed",
    "verified",
    "failed",
)
# Reached the exchange but the credentials were not stored: the key must be recreated.
LOST = ("submitted", "verifying-human", "captured")

SCHEMA = """
create table if not exists runs (
  id text primary key,
  label text not null,
  account text not null,
  target text not null,
  state text not null,
  reached text not null default '',
  note text not null default '',
  vault_ids text not null default '',
  started real not null,
  updated real not null
);
"""


class Journal:
    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=full")  # every transition survives a power cut
        self.db.executescript(SCHEMA)
        path.chmod(0o600)

    def start(self, run_id: str, label: str, account: str, target: str) -> None:
        now = time.time()
        self.db.execute(
            "insert into runs (id, label, account, target, state, reached, started, updated) "
            "values (?, ?, ?, ?, 'pending', 'pending', ?, ?)",
            (run_id, label, account, target, now, now),
        )

    def set(
        self, run_id: str, state: str, note: str = "", vault_ids: list[str] | None = None
    ) -> None:
        assert state in STATES, state
        reached = "" if state == "failed" else state
        self.db.execute(
            "update runs set state = ?, reached = case when ? = '' then reached else ? end, "
            "note = ?, vault_ids = coalesce(nullif(?, ''), vault_ids), updated = ? where id = ?",
            (
                state,
                reached,
                reached,
                redact.redact(note),
                ",".join(vault_ids or []),
                time.time(),
                run_id,
            ),
        )

    def get(self, run_id: str) -> dict[str, Any] | None:
        cur = self.db.execute("select * from runs where id = ?", (run_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def all(self) -> list[dict[str, Any]]:
        cur = self.db.execute("select * from runs order by started")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def close(self) -> None:
        self.db.close()


def verdict(row: dict[str, Any]) -> str:
    """What an operator must do about a run, in plain words."""
    reached = row.get("reached") or row.get("state")
    if reached in ("stored", "confirmed", "verified"):
        ids = f" ({row['vault_ids']})" if row.get("vault_ids") else ""
        extra = f"; but: {row['note']}" if row["state"] == "failed" and row.get("note") else ""
        return f"ok: credentials stored{ids}{extra}"
    if reached == "captured":
        return (
            f"KEY MUST BE DELETED AND RECREATED: the key '{row['label']}' was created but the run "
            "stopped before its credentials were stored; delete it on the exchange and run again"
        )
    if reached in LOST:
        return (
            f"CHECK THE EXCHANGE: the run stopped after '{reached}'; if a key '{row['label']}' "
            "exists there, delete it and run again (its secret was not captured)"
        )
    if row["state"] == "failed":
        return f"failed before submit, nothing was created: {row.get('note') or 'see the run log'}"
    return f"interrupted at '{reached}' before submit: nothing was created; run again"
