"""A person who acts out of turn: at the same browser as the agent, on their own clock.

The client's Chrome is shared over CDP: the agent attaches to it (as with --cdp), and a second
Playwright, in its own thread, watches the agent's page and does one thing when a moment comes
(clicks Submit before being asked, closes the verification, types into a field the agent has
just filled, opens another tab). Judged by the replica's own store: the run ends ok with exactly
the requested key, or stops safely with no key created; never a wrong key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Error as PWError
from playwright.sync_api import Page, sync_playwright

from agent.exitcodes import Exit
from agent.session import SessionSpec
from tests.helpers import in_thread

from .test_cdp import client_chrome, client_logs_in  # noqa: F401  (fixture)
from .test_run_e2e import assert_created, issued


class OutOfTurn(threading.Thread):
    """Waits (polling the agent's pages) until `when` holds in one, then does `act` there once."""

    def __init__(self, cdp: str, when: str, act: Callable[[Page], Any], limit: float = 60) -> None:
        super().__init__(daemon=True)
        self.cdp, self.when, self.act, self.limit = cdp, when, act, limit
        self.acted_at: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        with sync_playwright() as p:
            browser = p.chromium.connect_over_cdp(self.cdp)
            deadline = time.monotonic() + self.limit
            while not self.stop.is_set() and time.monotonic() < deadline:
                for page in [pg for ctx in browser.contexts for pg in ctx.pages]:
                    try:
                        if page.evaluate(self.when):
                            self.acted_at = page.url
                            self.act(page)
                            return
                    except PWError:
                        pass  # navigating: look again
                time.sleep(0.05)


@pytest.fixture
def shared(replica, client_chrome, run_agent):  # noqa: F811
    """Run the agent in the client's Chrome while `person` acts; returns (result, person)."""
    cdp, _ = client_chrome
    acct = replica.world.accounts["client@replica.test"]
    # (its own thread: pytest-playwright's loop may run on this one)
    in_thread(client_logs_in, cdp, replica.base_url, acct.email, acct.password, acct.totp_secret)

    def go(when: str, act: Callable[[Page], Any], **kw: Any) -> tuple[dict[str, Any], OutOfTurn]:
        person = OutOfTurn(cdp, when, act)
        person.start()
        try:
            result = run_agent(
                auto=True, human=False, plan_extra={"session": SessionSpec(cdp=cdp)}, **kw
            )
        finally:
            person.stop.set()
            person.join(timeout=30)
        assert person.acted_at, "the moment never came: the test proved nothing"
        return result, person

    return go


PASSPHRASE_FILLED = (
    "() => [...document.querySelectorAll('input[type=password]')].some(e => e.value.length >= 20)"
)


def test_the_human_clicks_submit_before_being_asked(replica, settings, shared):
    """Guided: the agent fills, the client clicks Submit all the moment the form looks complete
    (before the agent's read-back and its own request to click). The verification is already
    open: the agent carries on, captures and checks the key."""
    result, _ = shared(
        PASSPHRASE_FILLED, lambda p: p.get_by_role("button", name="Submit all").click()
    )
    assert result["status"] == "ok", {k: result.get(k) for k in ("message", "verification")}
    # (whether the click came before or during the agent's read-back is the person's timing)
    audited = result["verification"]["form audit"] == "ok"
    assert_created(replica, settings, result, audited=audited)


def test_the_human_closes_the_verification(replica, settings, shared):
    def close(page: Page) -> None:
        page.locator(".okui-dialog-top-r").first.click()

    result, _ = shared("() => !!document.querySelector('input[autocomplete=one-time-code]')", close,
                       auto_submit=True)  # fmt: skip
    assert result["status"] == "ok" or issued(replica) == [], result
    if result["status"] == "ok":
        assert_created(replica, settings, result)


def test_the_human_types_into_the_name_the_agent_filled(replica, settings, shared):
    def type_more(page: Page) -> None:
        # The X goes into the name field itself, at its end, in ONE task of the page (focus,
        # caret, the browser's own text insertion with its input event), so the agent cannot
        # move the focus in between. Through the keyboard, and even through a locator's press
        # (it focuses, then presses: two steps), the X twice went into the IP input the agent
        # had moved to under load, which is another test (the exchange refuses that IP).
        page.locator("input[maxlength='50']").first.evaluate(
            """e => { e.focus(); e.setSelectionRange(e.value.length, e.value.length);
                      if (!document.execCommand('insertText', false, 'X')) throw new Error(
                        'the X was not typed'); }"""
        )

    result, _ = shared(
        "() => [...document.querySelectorAll('input')].some(e => e.value === 'ICG-MM')",
        type_more,
        auto_submit=True,
    )
    # safe stop before submit, or (if the agent had already read it back and submitted) the
    # exchange's record says exactly what the agent captured
    if result["status"] != "ok":
        assert result["exit_code"] == Exit.AUDIT_MISMATCH, result
        assert issued(replica) == []
    else:
        assert_created(replica, settings, result)


def test_the_human_opens_another_tab(replica, settings, shared):
    def new_tab(page: Page) -> None:
        other = page.context.new_page()
        other.goto(page.url.split("/account/")[0] + "/account/users")
        other.bring_to_front()

    result, _ = shared("() => location.pathname.endsWith('/account/my-api/create')", new_tab,
                       auto_submit=True)  # fmt: skip
    assert result["status"] == "ok" or issued(replica) == [], result
    if result["status"] == "ok":
        assert_created(replica, settings, result)
