"""The floor: the same onboarding as `onboard run`, written as a bare Playwright script.

What the benchmark compares the agent against (bench/run.py alternates them): the same
replica, the same browser (this machine's headless choice, the same flags and viewport),
the same client profile already logged in, the same job (label, account, API trading,
IPs, Read + Trade, passphrase, Submit all, the authenticator, SMS and email codes, the
created dialog read, the key stored encrypted in the project's vault, Complete), with
the codes fetched the same way (the authenticator from the secret in the environment,
SMS and email by running the same outbox commands the agent is given).

Nothing else: no highlights, no read-back audit, no screenshots, no journal, no REST
check. It knows the replica's markup and trusts it; it is not safe against a page that
changed, which is exactly what the agent pays for. It only exists to be measured.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys

import pyotp
from playwright.sync_api import sync_playwright

from agent.browser import require_browser
from agent.config import Settings
from agent.custody.credential import Credential
from agent.custody.vault import Vault


def code_for(title: str, totp_env: str, sms_cmd: str, email_cmd: str) -> str:
    if "authenticator" in title:
        return pyotp.TOTP(os.environ[totp_env]).now()
    cmd = sms_cmd if "phone" in title else email_cmd
    return subprocess.run(
        shlex.split(cmd), capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--ip", action="append", required=True)
    ap.add_argument("--passphrase-env", required=True)
    ap.add_argument("--totp-secret-env", required=True)
    ap.add_argument("--sms-code-cmd", required=True)
    ap.add_argument("--email-code-cmd", required=True)
    a = ap.parse_args()
    settings = Settings()  # ONBOARD_HOME, as the agent reads it
    passphrase = os.environ[a.passphrase_env]
    os.environ.setdefault("NODE_COMPILE_CACHE", str(settings.home / "cache" / "node"))
    with sync_playwright() as p:
        choice = require_browser(True, p)
        ctx = p.chromium.launch_persistent_context(
            str(settings.profiles_dir / a.profile),
            headless=True,
            viewport={"width": 1920, "height": 1080},
            **choice.launch_kwargs(),  # type: ignore[arg-type]
        )
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.goto(f"{a.base_url}/account/my-api")
        page.get_by_role("button", name="Create API key").click()
        page.get_by_role("heading", name="Create API keys").wait_for()
        form = page.locator("[data-okx-field=label] input")
        form.fill(a.label)
        page.locator("[data-okx-field=usedFor] input[value=api_trading]").check()
        ip_box = page.get_by_placeholder("Enter IP address")
        for ip in a.ip:
            ip_box.fill(ip)
            ip_box.press("Enter")
        page.locator("[data-okx-field=perms] .okui-select").click()
        page.locator(".okui-select-item").filter(has_text=re.compile("^Trade$")).click()
        page.keyboard.press("Escape")
        page.locator("[data-okx-field=passphrase] input").fill(passphrase)
        page.get_by_role("button", name="Submit all").click()
        title = page.locator(".okui-dialog-title")
        boxes = page.locator("input[autocomplete='one-time-code']")
        for _ in range(3):
            title.filter(has_text="Verify with").wait_for()
            step = title.inner_text()
            code = code_for(step, a.totp_secret_env, a.sms_code_cmd, a.email_code_cmd)
            boxes.first.press_sequentially(code)
            page.keyboard.press("Enter")
            title.filter(has_text=step).wait_for(state="detached")
        created = page.locator(".okui-dialog-window").filter(has_text="API key created")
        created.wait_for()
        values = created.locator("[class*='kv-value'] > span:first-child").all_inner_texts()
        cred = Credential(
            exchange="okx",
            site="global",
            base_url=a.base_url,
            account="main",
            label=a.label,
            api_key=values[3],
            secret=values[4],
            passphrase=passphrase,
            permissions=["read_only", "trade"],
            ips=list(a.ip),
        )
        Vault(settings).store(cred)
        page.get_by_role("button", name="Complete").click()
        page.wait_for_url("**/account/my-api**")
        ctx.close()
    print(f"floor: stored {cred.label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
