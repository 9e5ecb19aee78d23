"""What many test files need: the real CLI as a subprocess, a client's logged-in profile,
the replica's code outbox, a credential to store. One copy each, imported where used."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Page, sync_playwright

from agent.browser import BrowserChoice, require_browser
from agent.custody.vault import Credential

CLIENT = "client@replica.test"
# A client's servers in tests: documentation addresses (RFC 5737, RFC 3849), never anyone's.
# Like loopback and private ones they need allow_private_ip (--allow-private-ip).
DOC_IPS = ["203.0.113.7", "2001:db8::7"]


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run Playwright-using code in its own thread: pytest-playwright's session owns this one's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def onboard(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`onboard ARGS` as a user runs it: its own data dir, no display, captured output."""
    full_env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120", **(env or {})}
    full_env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def outbox_cmd(base: str) -> str:
    """The replica's stand-in for the phone and mailbox; append `sms` or `email`."""
    return f"{sys.executable} -m replica.outbox --base {base} --channel"


def fill_login(page: Page, email: str, password: str, secret: str) -> None:
    """The replica's login form, filled as the client would (email, password, authenticator)."""
    page.get_by_placeholder("Email").fill(email)
    page.get_by_placeholder("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_placeholder("Authenticator app code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/account/users")


def login_into_profile(
    profile_dir: Path,
    base: str,
    email: str,
    password: str,
    secret: str,
    browser: BrowserChoice | None = None,
) -> None:
    """The client logs in once in their own profile (as they would in the visible window).

    Chromium writes cookies to disk lazily; the profile is reopened to check the session
    survived (under load the first close can lose it), logging in again if needed.
    `browser`: which Chromium opens it (default: this machine's headless choice).
    """
    for _attempt in range(3):
        with sync_playwright() as p:
            choice = browser or require_browser(True, p)
            ctx = p.chromium.launch_persistent_context(
                str(profile_dir),
                headless=True,
                **choice.launch_kwargs(),  # type: ignore[arg-type]
            )
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.goto(f"{base}/account/users")
            if "/account/login" not in page.url:
                ctx.close()
                return
            fill_login(page, email, password, secret)
            ctx.close()
    raise AssertionError(f"the profile {profile_dir} does not keep its session")


def login_profiles(replica: Any, home: Path, names: list[str], email: str = CLIENT) -> Any:
    """Each named profile logged in once (the client's part, not the agent's); the account."""
    acct = replica.world.accounts[email]
    for name in names:
        d = home / "profiles" / name
        d.mkdir(parents=True, exist_ok=True)
        in_thread(
            login_into_profile, d, replica.base_url, acct.email, acct.password, acct.totp_secret
        )
    return acct


def make_cred(**kw: Any) -> Credential:
    """A credential as the exchange would issue it (fresh random key, secret, passphrase)."""
    base: dict[str, Any] = {
        "exchange": "okx",
        "site": "global",
        "base_url": None,
        "account": "main",
        "label": "ICG-MM",
        "api_key": str(uuid.uuid4()),
        "secret": uuid.uuid4().hex.upper(),
        "passphrase": "Pp$" + uuid.uuid4().hex[:20] + "!A1",
        "permissions": ["read_only", "trade"],
        "ips": list(DOC_IPS),
    }
    base.update(kw)
    return Credential(**base)
