"""Kill the agent at each point after the credentials appear: nothing may be lost silently.

Afterwards either the record is in the vault and decrypts to what the replica
issued, or the journal says the key must be deleted and recreated (and the
agent never clicked Complete). Disk full: Complete is not clicked, the human
is told to copy the credentials, and why.
"""

from __future__ import annotations

import json
import signal

import httpx
import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from agent.exitcodes import Exit
from agent.journal import Journal
from tests.helpers import login_profiles, onboard, outbox_cmd


def run_with_fault(replica, tmp_path, fault: str):
    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["c"])
    outbox = outbox_cmd(replica.base_url)
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "203.0.113.7", "--base-url", replica.base_url, "--profile", "c",
        "--headless", "--pace", "0", "--auto-submit", "--json",
        "--totp-secret-env", "T", "--sms-code-cmd", f"{outbox} sms", "--email-code-cmd", f"{outbox} email",
        env={"T": acct.totp_secret, "ONBOARD_FAULT": fault},
    )  # fmt: skip
    [issued] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    return home, proc, issued


def journal_rows(home):
    j = Journal(home / "journal.sqlite3")
    try:
        return j.all()
    finally:
        j.close()


@pytest.mark.parametrize(
    ("fault", "kept"),
    [
        ("capture:before-store", False),
        ("store:during", False),
        ("capture:after-store", True),
        ("complete:after", True),
    ],
)
def test_sigkill_after_credentials_appear(replica, tmp_path, fault, kept):
    home, proc, issued = run_with_fault(replica, tmp_path, fault)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    vault = Vault(Settings(home=home))
    records = [m for m in vault.list() if "error" not in m]
    [row] = journal_rows(home)
    runs = onboard(home, "runs", "--json")
    assert runs.returncode == 0, runs.stderr
    [listed] = json.loads(runs.stdout)
    if kept:
        [meta] = records
        cred = vault.load(meta["id"])
        assert (cred.api_key, cred.secret, cred.passphrase) == (
            issued["apiKey"], issued["secretKey"], issued["passphrase"],
        )  # fmt: skip
        assert listed["verdict"].startswith("ok: credentials stored")
    else:
        assert records == []
        assert row["reached"] == "captured"
        assert "KEY MUST BE DELETED AND RECREATED" in listed["verdict"]
        assert "ICG-MM" in listed["verdict"]
        assert row["reached"] not in (
            "confirmed",
            "verified",
        )  # Complete was never clicked by the agent
    # Nothing half-written is mistaken for a record.
    assert (
        not [p for p in (home / "vault").glob("*.age") if p.stat().st_size == 0]
        if (home / "vault").exists()
        else True
    )


def test_disk_full_does_not_click_complete(replica, tmp_path):
    home, proc, issued = run_with_fault(replica, tmp_path, "store:enospc")
    assert proc.returncode == Exit.CUSTODY_FAILED, proc.stderr
    result = json.loads(proc.stdout)
    assert "Complete was NOT clicked" in result["message"]
    assert "No space left on device" in result["message"]
    assert "copy the API key and secret" in result["message"]
    [row] = journal_rows(home)
    assert row["reached"] == "captured"
    assert issued["secretKey"] not in proc.stdout + proc.stderr
