"""The real `onboard` command: a client's persistent profile, --json, and `onboard demo`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx

from agent.config import Settings
from agent.custody.vault import Vault
from tests.helpers import login_profiles, onboard, outbox_cmd


def test_run_json_with_a_logged_in_profile(replica, tmp_path):
    """A client who logged in before: the agent runs with no login wait and prints one JSON result."""
    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["acme"])
    profile = home / "profiles" / "acme"
    outbox = outbox_cmd(replica.base_url)
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "203.0.113.7", "--ip", "2001:db8::7", "--allow-private-ip",
        "--base-url", replica.base_url, "--profile", "acme", "--headless", "--pace", "0", "--auto-submit",
        "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms", "--email-code-cmd", f"{outbox} email",
        "--login-timeout", "5", "--json",
        env={"CLIENT_TOTP": acct.totp_secret},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["permissions"] == ["read_only", "trade"]
    assert "waiting for the client to log in" not in proc.stderr  # the profile kept the session
    assert "TEST TARGET" in proc.stderr
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700
    [made] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    assert made["secretKey"] not in proc.stdout + proc.stderr
    assert made["passphrase"] not in proc.stdout + proc.stderr
    assert made["apiKey"] not in proc.stdout + proc.stderr
    assert result["api_key_masked"] == "…" + made["apiKey"][-4:]
    cred = Vault(Settings(home=home)).load(result["vault_ids"][0])
    assert (cred.secret, cred.passphrase) == (made["secretKey"], made["passphrase"])


def test_demo_command(tmp_path):
    proc = onboard(tmp_path / "home", "demo", "--headless", "--pace", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["factors"] == ["totp", "sms", "email"]
    assert result["verification"]["key list"] == "ok"
    assert result["verification"]["signed REST"] == "ok"
    assert Path(result["vault_dir"]).is_dir()
    assert "running headless" not in proc.stderr  # --headless was explicit


def test_demo_panel_without_display(tmp_path):
    proc = onboard(tmp_path / "home", "demo", "--pace", "0")
    assert proc.returncode == 0, proc.stderr
    assert "no display found: running headless" in proc.stderr
    assert "created, stored, checked" in proc.stdout
    assert "…" in proc.stdout
