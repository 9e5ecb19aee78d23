"""Where the agent must stop, and stop cleanly: timeouts, wrong codes, closed dialogs, phishing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from agent.exitcodes import Exit
from agent.journal import Journal
from replica.client import ScriptedClient

from .test_run_e2e import assert_created, issued


class WrongCodeFirst(ScriptedClient):
    """A client who mistypes the first authenticator code, then gets it right."""

    wrong_done: bool = False

    def _code(self, page: Page, factor: str | None) -> None:
        if factor == "totp" and not self.wrong_done:
            boxes = page.locator("input[autocomplete='one-time-code']").filter(visible=True)
            if boxes.count() == 6 and not boxes.first.input_value():
                boxes.first.click()
                page.keyboard.type("000000")
                page.keyboard.press("Enter")  # as the stand-in does: Enter submits the code
                self.wrong_done = True
                self.actions.append("typed a wrong code")
            return
        super()._code(page, factor)


class ClosesDialogOnce(ScriptedClient):
    """A client who closes the verification dialog once, then submits again and finishes."""

    closed: bool = False

    def _code(self, page: Page, factor: str | None) -> None:
        if not self.closed:
            page.locator(".okui-dialog-top-r").filter(visible=True).click()
            self.closed = True
            self._submits = 0  # they will click Submit all again when asked
            self.actions.append("closed the dialog")
            return
        super()._code(page, factor)


class Idle(ScriptedClient):
    """Logs in, submits, then walks away from the verification."""

    def _code(self, page: Page, factor: str | None) -> None:
        return


def client(cls: type[ScriptedClient], replica: Any) -> ScriptedClient:
    acct = replica.world.accounts["client@replica.test"]
    return cls.for_seed(replica.base_url, acct, typing_delay_ms=0)


def test_wrong_code_is_reported_and_retried(replica, settings, run_agent, capfd):
    stand_in = client(WrongCodeFirst, replica)
    result = run_agent(stand_in=stand_in)
    assert_created(replica, settings, result)
    assert "typed a wrong code" in stand_in.actions
    assert "Incorrect verification code" in capfd.readouterr().err


def test_closed_dialog_leads_to_a_new_submission(replica, settings, run_agent, capfd):
    stand_in = client(ClosesDialogOnce, replica)
    result = run_agent(stand_in=stand_in)
    assert_created(replica, settings, result)
    assert "closed the dialog" in stand_in.actions
    assert "submitting again" in capfd.readouterr().err


def test_human_timeout_at_verification(replica, settings, run_agent):
    """Nobody types the codes: before anyone is told to delete a key, the agent reads the key
    list; none there, so the advice is to run again, not to delete anything."""
    result = run_agent(stand_in=client(Idle, replica), human_timeout=3)
    assert result["exit_code"] == Exit.HUMAN_TIMEOUT
    assert "waiting for the human" in result["message"]
    assert issued(replica) == []
    assert result["vault_ids"] == []
    assert result["journal"].startswith("nothing was created: the run stopped before"), result
    assert "DELETE" not in result["journal"] and "CHECK THE EXCHANGE" not in result["journal"]
    [row] = Journal(settings.journal_file).all()
    assert row["reached"] == "not-created"


def test_key_list_read_after_a_stop_never_hides_a_key(replica, settings, run_agent):
    """If the key list does show the label after such a stop, the advice stays: check the
    exchange (never "nothing was created")."""
    from agent.engine.runner import Runner

    real = Runner.label_listed
    try:
        Runner.label_listed = lambda self: True  # type: ignore[method-assign]
        result = run_agent(stand_in=client(Idle, replica), human_timeout=3)
    finally:
        Runner.label_listed = real  # type: ignore[method-assign]
    assert result["exit_code"] == Exit.HUMAN_TIMEOUT
    assert result["journal"].startswith("CHECK THE EXCHANGE"), result


def test_login_timeout_when_nobody_logs_in(replica, settings, run_agent):
    result = run_agent(human=False, login_timeout=2)
    assert result["exit_code"] == Exit.HUMAN_TIMEOUT
    assert "log in" in result["message"]


@pytest.mark.scenarios("phishing-redirect")
def test_redirect_to_another_origin_stops_before_touching_it(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.ORIGIN_REFUSED
    assert "http://localhost:" in result["message"]
    assert issued(replica) == []
    keys = httpx.get(f"{replica.base_url}/replica/keys").json()["client@replica.test"]
    assert keys == []


@pytest.mark.scenarios("redirect-mid-codes")
def test_redirect_between_two_codes_stops_before_the_next_code(replica, settings, run_agent):
    """The page moves to another origin after the first code: the SMS code is never typed."""
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.ORIGIN_REFUSED, result
    assert "http://localhost:" in result["message"]
    assert issued(replica) == []
    [challenge] = replica.world.challenges.values()
    assert challenge.done == ["totp"]  # the authenticator code went in; nothing after it


@pytest.mark.scenarios("ip-chip-dropped")
def test_audit_mismatch_stops_before_submit(replica, settings, run_agent):
    """The page silently loses an IP after it was filled: the read-back catches it, nothing is sent."""
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.AUDIT_MISMATCH
    assert "not submitted" in result["message"]
    assert "ips: page shows" in result["message"]
    assert httpx.get(f"{replica.base_url}/replica/outbox").json()["messages"] == []  # no challenge
    assert issued(replica) == []


@pytest.mark.scenarios("secret-masked")
def test_masked_secret_is_taken_from_the_copy_button(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


class DoesWhatTheBannerSays(ScriptedClient):
    """A client who follows the agent's request when the page differs from the flow."""

    def act(self, page: Page, need: Any) -> None:
        if need.kind == "act" and "click" in need.say and "Create API key" in need.say:
            page.get_by_role("button", name="New API key").click()
            self.actions.append("clicked New API key")
        elif need.kind == "act" and "type ICG-MM" in need.say:
            page.locator(".okui-form-item", has_text="Key name").locator("input").fill("ICG-MM")
            self.actions.append("typed the name")
        else:
            super().act(page, need)


@pytest.mark.scenarios("renamed")
def test_unknown_page_is_handed_to_the_human_then_confirmed(replica, settings, run_agent, capfd):
    stand_in = client(DoesWhatTheBannerSays, replica)
    result = run_agent(auto=True, auto_submit=True, stand_in=stand_in)
    assert_created(replica, settings, result)
    assert stand_in.actions.count("clicked New API key") == 1
    assert "typed the name" in stand_in.actions
    err = capfd.readouterr().err
    assert "the page does not match the flow" in err
    assert "confirmed on the page after the human acted" in err
    shots = list(settings.runs_dir.glob("*/*unexpected-open-create.png"))
    assert shots, "the unexpected page is saved for a new fixture"


@pytest.mark.scenarios("renamed")
def test_unknown_page_unattended_stops(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True, drift_to_human=False)
    assert result["exit_code"] == Exit.UI_NOT_UNDERSTOOD
    assert "role='button' name='Create API key' -> 0 match(es)" in result["message"]
    assert issued(replica) == []
