"""`onboard run --record`: a real guided run also leaves a redacted fixture set behind."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Page

from agent.config import Settings
from agent.custody.vault import Vault
from agent.engine.flow import load_named
from agent.record import check_sets, leaks
from tests.helpers import login_profiles, onboard, outbox_cmd

from .test_record import originals


def test_run_record_keeps_the_key_and_writes_a_clean_set(replica, tmp_path, page: Page):
    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["rec"])
    outbox = outbox_cmd(replica.base_url)
    out = tmp_path / "okx-set"
    proc = onboard(
        home, "run", "--label", "REC-RUN", "--ip", "203.0.113.7", "--allow-private-ip",
        "--base-url", replica.base_url,
        "--profile", "rec", "--headless", "--pace", "0", "--auto-submit", "--record", str(out),
        "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--json",
        env={"CLIENT_TOTP": acct.totp_secret},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["recorded"] == str(out)
    stages = [s["name"] for s in json.loads((out / "manifest.json").read_text())["stages"]]
    assert stages[0] == "keys"
    for stage in ("create-form", "verify-totp", "verify-sms", "verify-email", "created"):
        assert stage in stages
    # Unlike `record --drive`, the key is the product here: stored, and still not in the set.
    [made] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    cred = Vault(Settings(home=home)).load(result["vault_ids"][0])
    assert cred.secret == made["secretKey"]
    assert leaks(out, originals(replica.base_url, replica.world)) == []
    texts = [f.read_text(errors="replace") for f in out.rglob("*") if f.is_file()]
    assert len(texts) >= len(stages)  # a file per stage at least: the search below sees them
    for value in (made["apiKey"], made["secretKey"], made["passphrase"]):
        assert [t for t in texts if value in t] == []
    # The new set passes the locator contract like the bundled one.
    failed = [c.message() for c in check_sets(page, [out], load_named("okx")) if not c.ok]
    assert failed == []


def test_run_record_refuses_a_used_directory_before_a_browser(tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    proc = onboard(
        tmp_path / "home", "run", "--label", "X", "--ip", "203.0.113.7", "--allow-private-ip", "--headless",
        "--record", str(used),
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith(f"--record {used}: already holds files (pick a new set name)")
    )
