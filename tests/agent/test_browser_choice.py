"""Which Chromium a run launches: Playwright's build or the system's, the headless shell for headless.

The choice is made on fake installations (files laid out as Playwright's registry and
a distribution lay them out); the last test opens one real profile with both real
browsers of this machine, which is what makes taking the shell for headless runs safe.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import sync_playwright

from agent import browser
from agent.browser import BrowserChoice, find_browser, require_browser
from agent.session import SessionSpec
from tests.helpers import in_thread, login_into_profile


def exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_playwright(path: Path) -> SimpleNamespace:
    """What find_browser reads of a running Playwright: where its Chromium build lives."""
    return SimpleNamespace(chromium=SimpleNamespace(executable_path=str(path)))


@pytest.fixture
def no_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ONBOARD_BROWSER and an empty PATH: only what a test lays out is found."""
    monkeypatch.delenv("ONBOARD_BROWSER", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def test_playwright_build_headless_takes_its_shell_of_the_same_revision(no_override, tmp_path):
    reg = tmp_path / "ms-playwright"
    full = exe(reg / "chromium-1255" / "chrome-linux64" / "chrome")
    shell = exe(reg / "chromium_headless_shell-1255" / "chrome-headless-shell-linux64"
                / "chrome-headless-shell")  # fmt: skip
    pw = fake_playwright(full)
    headed = find_browser(playwright=pw)
    assert headed is not None and (headed.source, headed.executable_path) == (
        "playwright",
        str(full),
    )
    headless = find_browser(headless=True, playwright=pw)
    assert headless is not None and headless.executable_path == str(shell)
    assert "--no-sandbox" in headless.args or os.geteuid() != 0


def test_playwright_build_without_its_shell_runs_headless_in_the_full_build(no_override, tmp_path):
    reg = tmp_path / "ms-playwright"
    full = exe(reg / "chromium-1255" / "chrome-linux64" / "chrome")
    exe(reg / "chromium_headless_shell-1200" / "chrome-headless-shell-linux64"
        / "chrome-headless-shell")  # another revision: another Chromium version  # fmt: skip
    choice = find_browser(headless=True, playwright=fake_playwright(full))
    assert choice is not None and choice.executable_path == str(full)


def test_inside_a_running_playwright_its_own_build_is_found(no_override, tmp_path):
    """A session asks while its Playwright runs: a second one cannot start on that thread."""
    full = exe(tmp_path / "ms-playwright" / "chromium-1255" / "chrome-linux64" / "chrome")

    def ask() -> BrowserChoice:
        with sync_playwright():
            # Asking without the running instance finds nothing (the old way of asking) ...
            assert browser._playwright_bundled() is None
            # ... the session passes its own and gets the build.
            return SessionSpec(profile="p", headless=False).choice(fake_playwright(full))  # type: ignore[arg-type]

    choice = in_thread(ask)  # its own thread: pytest-playwright's loop may run on this one
    assert (choice.source, choice.executable_path) == ("playwright", str(full))


def test_system_chromium_headless_takes_the_distributions_shell_beside_it(
    no_override, tmp_path, monkeypatch
):
    bin_dir = tmp_path / "usr-bin"
    full = exe(bin_dir / "chromium")
    shell = exe(bin_dir / "chromium-headless-shell")
    monkeypatch.setenv("PATH", str(bin_dir))
    nothing = fake_playwright(tmp_path / "not-installed" / "chrome")
    headed = find_browser(playwright=nothing)
    assert headed is not None and (headed.source, headed.executable_path) == ("system", str(full))
    headless = find_browser(headless=True, playwright=nothing)
    assert headless is not None and headless.executable_path == str(shell)


def test_browsers_lists_the_headless_one_only_when_it_differs(no_override, tmp_path, monkeypatch):
    bin_dir = tmp_path / "usr-bin"
    full = exe(bin_dir / "chromium")
    monkeypatch.setenv("PATH", str(bin_dir))
    nothing = fake_playwright(tmp_path / "none")
    assert [(label, c.executable_path) for label, c in browser.browsers(nothing)] == [
        ("browser", str(full))
    ]
    shell = exe(bin_dir / "chromium-headless-shell")
    assert [(label, c.executable_path) for label, c in browser.browsers(nothing)] == [
        ("browser", str(full)),
        ("headless", str(shell)),
    ]


def test_google_chrome_is_not_paired_with_some_other_shell(no_override, tmp_path, monkeypatch):
    bin_dir = tmp_path / "usr-bin"
    chrome = exe(bin_dir / "google-chrome")
    exe(bin_dir / "chromium-headless-shell")  # not the same installation as Chrome
    monkeypatch.setenv("PATH", str(bin_dir))
    choice = find_browser(headless=True, playwright=fake_playwright(tmp_path / "none"))
    assert choice is not None and choice.executable_path == str(chrome)


def test_onboard_browser_wins_headed_and_headless(no_override, tmp_path, monkeypatch):
    bin_dir = tmp_path / "usr-bin"
    exe(bin_dir / "chromium")
    exe(bin_dir / "chromium-headless-shell")
    mine = exe(tmp_path / "mine" / "chrome")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("ONBOARD_BROWSER", str(mine))
    for headless in (False, True):
        choice = find_browser(headless=headless)
        assert choice is not None and choice.executable_path == str(mine)


def opens_logged_in(profile: Path, choice: BrowserChoice, base: str) -> bool:
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            headless=True,
            **choice.launch_kwargs(),  # type: ignore[arg-type]
        )
        page = ctx.new_page()
        page.goto(f"{base}/account/users")
        logged_in = "/account/login" not in page.url
        ctx.close()
    return logged_in


def test_one_profile_opened_by_both_browsers_keeps_its_session(replica, tmp_path):
    """A client logs in in the visible browser; ops later runs headless on that profile."""
    headed = require_browser(headless=False)
    headless = require_browser(headless=True)
    if headed == headless:
        pytest.skip("this machine has no separate headless shell")
    acct = replica.world.accounts["client@replica.test"]
    for n, (first, then) in enumerate(((headed, headless), (headless, headed))):
        profile = tmp_path / f"profile-{n}"
        # Logged in, and the session seen to survive a reopen by the same browser ...
        in_thread(
            login_into_profile,
            profile, replica.base_url, acct.email, acct.password, acct.totp_secret or "", first,
        )  # fmt: skip
        # ... so a logged-out profile now means the other browser cannot read it.
        assert in_thread(opens_logged_in, profile, then, replica.base_url), (
            first.describe(),
            then.describe(),
        )
