"""Export the replica's own screens as a fixture set: `python -m tests.contract.replica_set [OUT]`.

Drives the live replica through every stage with the real engine (`agent.record.drive`):
a scripted client logs in through the UI and types each verification code from the
replica's outbox and pyotp (authenticator, SMS, email), the agent fills the form,
submits, captures and completes; each stage is snapshotted, redacted and written.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

from agent.console import ConsoleReporter
from agent.engine.flow import load_named
from agent.engine.runner import Options
from agent.record import drive
from agent.session import SessionSpec
from replica.client import ScriptedClient
from replica.server import ReplicaServer

ROOT = Path(__file__).resolve().parents[2]
LABEL = "ICG-MM"
IPS = ["203.0.113.7", "2001:db8::7"]
EMAIL = "client@replica.test"


def export(replica: ReplicaServer, out: Path, force: bool = False) -> tuple[Path, str | None]:
    """Record every stage from a freshly reset replica (all three verification factors)."""
    base = replica.base_url
    httpx.post(f"{base}/replica/reset", json={"scenarios": ["all-factors"]}).raise_for_status()
    acct = replica.world.accounts[EMAIL]
    client = ScriptedClient.for_seed(base, acct, typing_delay_ms=0)
    return drive(
        load_named("okx"),
        base,
        out,
        LABEL,
        IPS,
        SessionSpec(headless=True),
        Options(pace=0, auto_submit=True, step_timeout=10, login_timeout=60, human_timeout=60),
        ConsoleReporter(),
        stand_in=client,
        site="replica",
        force=force,
    )


def default_out() -> Path:
    return ROOT / "fixtures" / "okx" / f"replica-{datetime.now(UTC):%Y-%m-%d}"


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else default_out()
    with ReplicaServer() as srv:
        path, stopped = export(srv, out, force="--force" in argv)
    print(f"wrote {path}" + (f" (stopped: {stopped})" if stopped else ""))
    return 1 if stopped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
