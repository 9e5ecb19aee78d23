"""The journal: one row per run and its state, in SQLite, durable at every transition.

Its job is the question after a crash: did a key get created that nobody
holds? A run that reached `submitted` but not `stored` created (or may have
created) a key whose secret is lost: the journal says so, loudly. The vault has
the last word, though: a run killed after storing a record but before its
journal said so has that record (the vault writes the run id into it), and its
key must not be deleted. `verdict` takes the run's vault entries for that.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.config import private_dir
from agent.custody import redact
from agent.lists import split_list

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
    "not-created",  # stopped after submit, and the key list was read: no such key exists
    "refused",  # the exchange answered the create call with a refusal: nothing was created
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
create table if not exists batches (
  id text primary key,
  roster text not null,
  digest text not null,
  state text not null,
  note text not null default '',
  started real not null,
  updated real not null
);
create table if not exists batch_entries (
  batch_id text not null,
  entry_id text not null,
  pos integer not null,
  label text not null,
  account text not null,
  profile text not null default '',
  outcome text not null default '',
  result text not null default '',
  updated real not null,
  primary key (batch_id, entry_id)
);
"""
# Columns added after the first release: (table, column, declaration).
MIGRATIONS = (
    ("runs", "batch_id", "text not null default ''"),
    ("runs", "entry_id", "text not null default ''"),
)


class Journal:
    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=full")  # every transition survives a power cut
        self.db.executescript(SCHEMA)
        for table, col, decl in MIGRATIONS:
            have = {r[1] for r in self.db.execute(f"pragma table_info({table})")}
            if col not in have:
                try:
                    self.db.execute(f"alter table {table} add column {col} {decl}")
                except sqlite3.OperationalError:
                    pass  # another process added it first
        path.chmod(0o600)

    def start(
        self,
        run_id: str,
        label: str,
        account: str,
        target: str,
        batch_id: str = "",
        entry_id: str = "",
    ) -> None:
        now = time.time()
        self.db.execute(
            "insert into runs (id, label, account, target, state, reached, started, updated, "
            "batch_id, entry_id) values (?, ?, ?, ?, 'pending', 'pending', ?, ?, ?, ?)",
            (run_id, label, account, target, now, now, batch_id, entry_id),
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

    # -- batches -----------------------------------------------------------------
    def batch_start(
        self, batch_id: str, roster: str, digest: str, entries: list[dict[str, str]]
    ) -> None:
        """A batch and its entries (id, label, account, profile), in one transaction."""
        now = time.time()
        with self.db:
            self.db.execute("begin")
            self.db.execute(
                "insert into batches (id, roster, digest, state, started, updated) "
                "values (?, ?, ?, 'running', ?, ?)",
                (batch_id, roster, digest, now, now),
            )
            self.batch_add(batch_id, entries, now)

    def batch_add(
        self, batch_id: str, entries: list[dict[str, str]], now: float | None = None
    ) -> None:
        """Entries not yet in the batch (a roster that grew between runs)."""
        now = now or time.time()
        have = {e["entry_id"] for e in self.batch_entries(batch_id)}
        for pos, e in enumerate(entries):
            if e["id"] in have:
                continue
            self.db.execute(
                "insert into batch_entries (batch_id, entry_id, pos, label, account, profile, updated) "
                "values (?, ?, ?, ?, ?, ?, ?)",
                (batch_id, e["id"], pos, e["label"], e["account"], e.get("profile") or "", now),
            )

    def batch_set(self, batch_id: str, state: str, note: str = "") -> None:
        self.db.execute(
            "update batches set state = ?, note = ?, updated = ? where id = ?",
            (state, redact.redact(note), time.time(), batch_id),
        )

    def batch_entry_done(self, batch_id: str, entry_id: str, outcome: str, result: str) -> None:
        """The entry's last attempt ended (result: a redacted JSON text, no secrets)."""
        self.db.execute(
            "update batch_entries set outcome = ?, result = ?, updated = ? "
            "where batch_id = ? and entry_id = ?",
            (outcome, redact.redact(result), time.time(), batch_id, entry_id),
        )

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        cur = self.db.execute("select * from batches where id = ?", (batch_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def latest_batch(self, roster: str) -> dict[str, Any] | None:
        cur = self.db.execute(
            "select * from batches where roster = ? order by started desc limit 1", (roster,)
        )
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def batch_entries(self, batch_id: str) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "select * from batch_entries where batch_id = ? order by pos", (batch_id,)
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def entry_runs(self, batch_id: str, entry_id: str) -> list[dict[str, Any]]:
        """Every attempt (journal run row) of one batch entry, oldest first."""
        cur = self.db.execute(
            "select * from runs where batch_id = ? and entry_id = ? order by started",
            (batch_id, entry_id),
        )
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def verdict(row: dict[str, Any], records: Sequence[dict[str, Any]] = ()) -> str:
    """What an operator must do about a run, in plain words.

    `records`: the vault's entries (`Vault.list`) whose `run_id` is this run's: intact
    records, and stores that stopped before their commit point (`interrupted`).
    """
    reached = row.get("reached") or row.get("state")
    if reached in ("stored", "confirmed", "verified"):
        ids = f" ({row['vault_ids']})" if row.get("vault_ids") else ""
        extra = f"; but: {row['note']}" if row["state"] == "failed" and row.get("note") else ""
        return f"ok: credentials stored{ids}{extra}"
    held = [r for r in records if not r.get("error")]
    if reached in LOST and held:
        return _stored_unjournaled(row, held)
    kept = (
        "; its store stopped before its commit point (the files it wrote are kept in the "
        "vault, reported as interrupted: see `onboard vault list`)"
        if any(r.get("interrupted") for r in records)
        else ""
    )
    if reached == "captured":
        return (
            f"KEY MUST BE DELETED AND RECREATED: the key '{row['label']}' was created but the run "
            "stopped before its credentials were stored; delete it on the exchange and run again"
            + kept
        )
    if reached == "refused":
        return f"nothing was created: the exchange refused the key '{row['label']}': " + (
            row.get("note") or "see the run log"
        )
    if reached == "not-created":
        return (
            f"nothing was created: the run stopped before the verification finished and the "
            f"key list shows no '{row['label']}' (read by the agent); run again"
        )
    if reached in LOST:
        return (
            f"CHECK THE EXCHANGE: the run stopped after '{reached}'; if a key '{row['label']}' "
            "exists there, delete it and run again (its secret was not captured)"
        )
    if row["state"] == "failed":
        return f"failed before submit, nothing was created: {row.get('note') or 'see the run log'}"
    return f"interrupted at '{reached}' before submit: nothing was created; run again"


def _stored_unjournaled(row: dict[str, Any], held: Sequence[dict[str, Any]]) -> str:
    """A run that stopped between storing (some of) its keys and journaling it: the vault
    holds those keys' credentials; only the accounts without a record lost theirs."""
    ids = ", ".join(str(r["id"]) for r in held)
    accounts = split_list(row.get("account"))
    have = {str(r.get("account")) for r in held}
    missing = [a for a in accounts if a not in have]
    if not missing:
        return (
            f"ok: credentials stored ({ids}); the run stopped after storing them, before "
            f"its journal said so: check them with `onboard verify {' '.join(ids.split(', '))}`"
        )
    return (
        f"KEY MUST BE DELETED AND RECREATED: the key '{row['label']}' of "
        f"{', '.join(missing)} was created but the run stopped before its credentials were "
        f"stored; delete it on the exchange and run again (the credentials of "
        f"{', '.join(sorted(have))} are stored ({ids}): keep those keys)"
    )
