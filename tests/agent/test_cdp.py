"""Attaching to the client's own running Chrome (--cdp): the agent works in it and leaves it open."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import httpx
import pytest
from playwright.sync_api import sync_playwright

from agent.browser import base_args, require_browser
from tests.helpers import fill_login, in_thread, onboard, outbox_cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def client_chrome(tmp_path):
    exe = require_browser().executable_path
    if not exe:
        pytest.skip("needs a browser executable path to start a 'client' Chrome")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--headless=new", f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'chrome'}",
         *base_args(), "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:  # bounded: the DevTools endpoint answers once Chrome is up
        try:
            httpx.get(f"{url}/json/version", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("client Chrome did not start")
    yield url, proc
    proc.kill()
    proc.wait()


def client_logs_in(cdp: str, base: str, email: str, password: str, secret: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(cdp)
        page = browser.contexts[0].new_page()
        page.goto(f"{base}/account/login?forward=/account/users")
        fill_login(page, email, password, secret)


def test_attach_to_running_chrome(replica, tmp_path, client_chrome):
    cdp, proc = client_chrome
    acct = replica.world.accounts["client@replica.test"]
    in_thread(client_logs_in, cdp, replica.base_url, acct.email, acct.password, acct.totp_secret)
    outbox = outbox_cmd(replica.base_url)
    result = onboard(
        tmp_path / "home",
        "run", "--label", "ICG-MM", "--ip", "203.0.113.7", "--allow-private-ip", "--base-url", replica.base_url, "--cdp", cdp,
        "--pace", "0", "--auto-submit", "--totp-secret-env", "T", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--login-timeout", "5", "--json",
        env={"T": acct.totp_secret},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "ok"
    assert proc.poll() is None  # the client's browser is still running
    assert httpx.get(f"{cdp}/json/version").status_code == 200
