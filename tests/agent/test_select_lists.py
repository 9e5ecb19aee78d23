"""A select's list, told apart from the rest of the page after a choice."""

from __future__ import annotations

import httpx

from .test_run_e2e import issued


def test_two_sub_accounts_one_submission_unattended(replica, settings, run_agent):
    """Nobody at the browser (it is logged in already): choosing a draft's account redraws its
    tile with that account's name, which is not the select's list still open (it stopped the
    run with exit 4 before: found by the pixel leak test)."""
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": ["logged-in", "account-selectable"]}
    ).raise_for_status()
    subs = ["icg-mm-sub1", "icg-mm-sub2"]
    result = run_agent(auto=True, auto_submit=True, human=False, drift_to_human=False,
                       sub_accounts=subs, allow_private_ip=True)  # fmt: skip
    assert result["status"] == "ok", result
    assert sorted(k["account"] for k in issued(replica)) == subs
    sms = httpx.get(f"{replica.base_url}/replica/outbox", params={"channel": "sms"}).json()
    assert len(sms["messages"]) == 1  # one submission, one verification
