"""The real `onboard` command: a client's persistent profile, --json, and `onboard demo`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pyotp
from playwright.sync_api import sync_playwright

from agent.browser import require_browser
from agent.config import Settings
from agent.custody.vault import Vault

from .conftest import in_thread


def login_into_profile(
    profile_dir: Path, base: str, email: str, password: str, secret: str
) -> None:
    """The client logs in once in their own profile (as they would in the visible window).

    Chromium writes cookies to disk lazily; the profile is reopened to check the session
    survived (under load the first close can lose it), logging in again if needed.
    """
    for _attempt in range(3):
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(profile_dir), headless=True, **require_browser().launch_kwargs()
            )
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(f"{base}/account/users")
            if "/account/login" not in page.url:
                ctx.close()
                return
            page.get_by_placeholder("Email").fill(email)
            page.get_by_placeholder("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.get_by_placeholder("Authenticator app code").fill(pyotp.TOTP(secret).now())
            page.get_by_role("button", name="Confirm").click()
            page.wait_for_url("**/account/users")
            ctx.close()
    raise AssertionError(f"the profile {profile_dir} does not keep its session")


def onboard(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120", **(env or {})}
    full_env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def test_run_json_with_a_logged_in_profile(replica, tmp_path):
    """A client who logged in before: the agent runs with no login wait and prints one JSON result."""
    home = tmp_path / "home"
    acct = replica.world.accounts["client@replica.test"]
    profile = home / "profiles" / "acme"
    profile.mkdir(parents=True)
    in_thread(
        login_into_profile, profile, replica.base_url, acct.email, acct.password, acct.totp_secret
    )
    outbox = f"{sys.executable} -m replica.outbox --base {replica.base_url} --channel"
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "203.0.113.7", "--ip", "2001:db8::7",
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
