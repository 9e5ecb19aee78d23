"""A batch entry with several sub-accounts: one submission, one verification, every key kept."""

from __future__ import annotations

import json

import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from tests.helpers import login_profiles, onboard

from .conftest import issued, journal_rows, write_roster

SUBS = ["icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]


@pytest.mark.scenarios("totp-only")
def test_entry_with_three_sub_accounts_is_one_submission(replica, tmp_path, totp_env):
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1"])
    roster = write_roster(
        tmp_path / "subs.yaml",
        [{"id": "client-7", "label": "ICG-MM", "ips": ["203.0.113.7"], "profile": "p1",
          "sub_accounts": SUBS, "totp_secret_env": "CLIENT_TOTP"}],
        base_url=replica.base_url,
        allow_private_ip=True,  # a documentation address, as in any test setup
    )  # fmt: skip
    proc = onboard(home, "batch", str(roster), "--headless", "--pace", "0", "--auto-submit",
                   "--json", "--report", str(tmp_path / "rep"), env=totp_env, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    [entry] = out["entries"]
    assert entry["outcome"] == "ok"
    assert entry["account"] == ", ".join(SUBS)
    assert [k["account"] for k in entry["result"]["keys"]] == SUBS
    made = issued(replica)
    assert sorted(k["account"] for k in made) == SUBS
    assert [k["perms"] for k in made] == [["read_only", "trade"]] * 3
    assert [k["ips"] for k in made] == [["203.0.113.7"]] * 3  # every key, the entry's IPs
    assert [k["completeClicks"] for k in made] == [1] * 3  # one dialog, Complete once
    vault = Vault(Settings(home=home))
    assert sorted(entry["result"]["vault_ids"]) == sorted(m["id"] for m in vault.list())
    for k in made:
        [meta] = [m for m in vault.list() if m.get("account") == k["account"]]
        cred = vault.load(meta["id"])
        assert (cred.api_key, cred.secret, cred.passphrase) == (
            k["apiKey"], k["secretKey"], k["passphrase"],
        )  # fmt: skip
    html = (next((tmp_path / "rep").glob("*.html"))).read_text()
    for i, k in enumerate(entry["result"]["keys"]):
        assert f"key {i + 1}</th><td>{k['account']}: {k['api_key_masked']}" in html
    # One run (one browser, one verification) in the journal for the three keys.
    [row] = journal_rows(home, "select entry_id, reached from runs")
    assert (row["entry_id"], row["reached"]) == ("client-7", "verified")
