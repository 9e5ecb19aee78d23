"""Warm batch slots (agent.warm): one driver and one browser for all the slots, a fresh
context per entry; and a client's login sealed as storage state (agent.custody.logins) that runs in
them and never appears in clear anywhere the agent writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType, sync_playwright
from playwright.sync_api._context_manager import PlaywrightContextManager

from agent import roster
from agent.batch import Batch, BatchOptions
from agent.batch_slots import COLD_ENV
from agent.browser import require_browser
from agent.config import Settings
from agent.custody import logins
from tests.helpers import CLIENT, in_thread, login_into_profile, onboard
from tests.leaks import Needles, scan

from .conftest import issued, write_roster


def count_starts(monkeypatch: Any) -> dict[str, int]:
    """Counts Playwright drivers started and browsers launched, in this process."""
    seen = {"drivers": 0, "browsers": 0}
    start, launch = PlaywrightContextManager.__enter__, BrowserType.launch

    def counted_start(self: Any) -> Any:
        seen["drivers"] += 1
        return start(self)

    def counted_launch(self: Any, *a: Any, **kw: Any) -> Any:
        seen["browsers"] += 1
        return launch(self, *a, **kw)

    monkeypatch.setattr(PlaywrightContextManager, "__enter__", counted_start)
    monkeypatch.setattr(BrowserType, "launch", counted_launch)
    return seen


@pytest.mark.slow
@pytest.mark.scenarios("logged-in", "totp-only")
@pytest.mark.parametrize(
    ("cold", "concurrency", "drivers", "browsers"), [(False, 3, 1, 1), (True, 1, 3, 3)]
)
def test_the_slots_share_one_driver_and_one_browser_for_their_entries(
    replica, tmp_path, monkeypatch, cold, concurrency, drivers, browsers
):
    monkeypatch.setenv("CLIENT_TOTP", replica.world.accounts[CLIENT].totp_secret or "")
    if cold:
        monkeypatch.setenv(COLD_ENV, "1")  # the baseline: every entry starts its own
    seen = count_starts(monkeypatch)
    ros = roster.load(
        write_roster(
            tmp_path / "r.yaml",
            [{"id": f"e{i}", "label": f"W-{i}", "ips": [f"203.0.113.{i + 1}"]} for i in range(3)],
            base_url=replica.base_url, allow_private_ip=True, totp_secret_env="CLIENT_TOTP",
        )
    )  # fmt: skip
    # Warm: three slots asking for the browser at once, one launch (the others wait for it).
    opts = BatchOptions(
        concurrency=concurrency, headless=True, pace=0, auto_submit=True, login_timeout=5
    )
    result = Batch(ros, opts, Settings(home=tmp_path / "home")).run()
    assert result.outcomes == {"e0": "ok", "e1": "ok", "e2": "ok"}
    # Finding the browser may start a driver of its own before the batch: not counted here.
    assert (seen["drivers"], seen["browsers"]) == (drivers, browsers)
    assert sorted(k["label"] for k in issued(replica)) == ["W-0", "W-1", "W-2"]


def session_cookies(profile: Path) -> list[str]:
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), headless=True, **require_browser(True, p).launch_kwargs()
        )
        try:
            return [c["value"] for c in ctx.cookies() if len(c["value"]) >= 8]
        finally:
            ctx.close()


@pytest.mark.slow
@pytest.mark.scenarios("totp-only")
def test_a_sealed_login_runs_warm_and_is_in_clear_nowhere(replica, tmp_path, totp_env):
    acct = replica.world.accounts[CLIENT]
    home = tmp_path / "home"
    profile = home / "profiles" / "acme"
    profile.mkdir(parents=True)
    # (Playwright in its own thread: pytest-playwright's loop may be running on this one)
    in_thread(login_into_profile, profile, replica.base_url, acct.email, acct.password,
              acct.totp_secret)  # fmt: skip
    cookies = in_thread(session_cookies, profile)
    assert cookies  # the replica's session
    saved = onboard(home, "login-state", "save", "acme")
    assert saved.returncode == 0, saved.stderr
    sealed = home / "logins" / "acme.age"
    assert stat.S_IMODE(sealed.stat().st_mode) == 0o600
    state = logins.unseal(Settings(home=home), "acme")
    assert {c["value"] for c in state["cookies"]} >= set(cookies)
    ros = write_roster(
        tmp_path / "r.yaml",
        [{"id": f"e{i}", "label": f"S-{i}", "ips": [f"203.0.113.{i + 1}"]} for i in range(2)],
        base_url=replica.base_url, allow_private_ip=True, totp_secret_env="CLIENT_TOTP",
        login_state="acme",
    )  # fmt: skip
    proc = onboard(
        home, "batch", str(ros), "--headless", "--pace", "0", "--auto-submit",
        "--login-timeout", "5", "--json", env=totp_env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert {e["outcome"] for e in json.loads(proc.stdout)["entries"]} == {"ok"}
    assert len(issued(replica)) == 2
    needles = Needles()
    needles.add("secret", *cookies)
    roots = {p.name: p for p in home.iterdir() if p.is_dir() and p.name != "profiles"}
    assert "logins" in roots and "runs" in roots
    found = scan(roots, {"stdout": proc.stdout, "stderr": proc.stderr}, needles)
    assert found.hits == []
    assert found.named("logins/acme.age")


def test_a_sealed_login_that_is_missing_or_misnamed_is_one_line(tmp_path):
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(logins.LoginStateError, match=r"^login_state 'nope': no sealed login at "):
        logins.unseal(settings, "nope")
    with pytest.raises(logins.LoginStateError, match="use letters, digits"):
        logins.path_of(settings, "../x")
    logins.seal(settings, "x", {"cookies": [{"value": "s3ss10n-value"}], "origins": []})
    assert b"s3ss10n-value" not in (tmp_path / "home" / "logins" / "x.age").read_bytes()
    assert logins.unseal(settings, "x")["cookies"][0]["value"] == "s3ss10n-value"


def test_a_login_state_not_sealed_here_is_one_line_exit_2_nothing_opened(tmp_path):
    ros = write_roster(
        tmp_path / "r.yaml",
        [{"id": "acme", "label": "S-0", "ips": ["203.0.113.7"], "login_state": "ghost"}],
        allow_private_ip=True,
    )
    home = tmp_path / "home"
    proc = onboard(home, "batch", str(ros), "--headless", "--json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "error: acme: login_state 'ghost' is not sealed on this machine (seal it with "
        "`onboard login-state save PROFILE --name ghost`)"
    ]
    assert not (home / "runs").exists()
