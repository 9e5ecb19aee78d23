"""What a batch entry's attempts mean (run it, done, or flagged: a key may exist that nobody
holds), its outcome once it ran, the batch's exit code, and the secret-free summary of an entry
the journal keeps for the reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.batch_board import DONE, Stop
from agent.config import Settings
from agent.custody import redact
from agent.exitcodes import Exit
from agent.journal import LOST, verdict


@dataclass
class BatchResult:
    batch_id: str
    resumed: bool
    interrupted: bool
    outcomes: dict[str, str]  # entry id -> ok | failed | flagged | skipped | interrupted
    exit_code: int


def classify(
    runs: list[dict[str, Any]], records: Sequence[dict[str, Any]] = (), keys: int = 1
) -> str:
    """What to do with an entry given its attempts: run | done | flagged. `records`: the vault's
    entries of the last attempt's run: a run killed after its `keys` keys were stored is done."""
    if not runs:
        return "run"
    last = runs[-1]
    reached = last.get("reached") or last.get("state")
    if reached in DONE:
        return "done"
    if reached in LOST:
        held = [r for r in records if not r.get("error") and not r.get("interrupted")]
        return "done" if len(held) >= keys else "flagged"
    return "run"


def records_by_run(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """The vault's entries by run id (none when the vault cannot be read: the journal decides)."""
    from agent.custody.vault import Vault, VaultError

    try:
        return {k: list(v) for k, v in Vault(settings).by_run().items()}
    except (VaultError, OSError):
        return {}


def outcome_of(result: dict[str, Any], row: dict[str, Any] | None, stop: Stop) -> str:
    reached = (row or {}).get("reached") or ""
    if result.get("status") == "ok":
        return "ok"
    if reached in LOST:
        return "flagged"
    if reached in DONE:
        return "failed"  # stored, but a check differs: the verdict says what
    if stop.soft.is_set() and "Ctrl-C" in str(result.get("message", "")):
        return "interrupted"
    return "failed"


def exit_code(outcomes: dict[str, str], interrupted: bool) -> int:
    if interrupted:
        return 130
    if any(o == "flagged" for o in outcomes.values()):
        return int(Exit.VERIFY_FAILED)  # a key may exist that nobody holds: loudest
    if any(o in ("failed", "interrupted") for o in outcomes.values()):
        return 1
    return 0


RESULT_KEYS = (
    "status", "exit_code", "message", "api_key_masked", "vault_ids", "verification",
    "factors", "seconds", "capture_to_disk_ms", "step_seconds", "run_id", "artifacts", "keys",
    "stored",  # where the keys are: vault ids, keychain names, an OKX profile's name and file
    "permissions", "ips",  # what the key may do and from where: the report's summary table
)  # fmt: skip


def entry_result(
    row: dict[str, Any] | None, result: dict[str, Any] | None, settings: Settings
) -> str:
    """The secret-free summary kept in the journal for the report."""
    out: dict[str, Any] = {k: v for k, v in (result or {}).items() if k in RESULT_KEYS}
    if row:
        out.update(run_id=row["id"], reached=row["reached"], verdict=verdict(row))
        out.setdefault("artifacts", str(settings.runs_dir / row["id"]))
    return redact.redact(json.dumps(out, default=str))
