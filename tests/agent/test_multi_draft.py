"""Several keys in one submission: one draft per sub-account, one verification for all.

What ops needs for a client with many sub-accounts: every key created on its own
account with exactly Read + Trade and the requested IPs, each stored under its own
passphrase, each read back before submit, and the human asked for codes once.
"""

from __future__ import annotations

import httpx
import pytest

from agent.custody.vault import Vault
from agent.exitcodes import Exit
from agent.ips import same_set
from agent.request import RequestError, build_request
from tests.agent.test_run_e2e import issued, keys_on
from tests.helpers import DOC_IPS

SUBS = ["icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]


def sms_sent(replica) -> int:
    """How many SMS codes the exchange sent: one per security verification."""
    msgs = httpx.get(f"{replica.base_url}/replica/outbox", params={"channel": "sms"}).json()
    return len(msgs["messages"])


@pytest.mark.scenarios("account-selectable")
def test_three_sub_accounts_one_submission(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True, sub_accounts=SUBS)
    assert result["status"] == "ok", result
    assert sms_sent(replica) == 1  # one verification for the three keys
    assert_three_keys(replica, settings, result)


def test_three_sub_accounts_where_the_form_fixes_the_account(replica, settings, run_agent):
    """okx.com as known: the create form shows the account the list was switched to, greyed
    out. Each key is then submitted from its own account's list, one verification each."""
    result = run_agent(auto=True, auto_submit=True, sub_accounts=SUBS)
    assert result["status"] == "ok", result
    assert sms_sent(replica) == 3
    assert_three_keys(replica, settings, result)


def assert_three_keys(replica, settings, result) -> None:
    made = issued(replica)
    assert sorted(k["account"] for k in made) == SUBS
    assert [same_set(k["ips"], DOC_IPS) for k in made] == [True] * 3  # every key's IPs
    assert [k["completeClicks"] for k in made] == [1] * 3
    assert result["factors"] == ["totp", "sms", "email"]
    by_account = {k["account"]: k for k in made}
    assert len(result["vault_ids"]) == 3
    phrases = set()
    for rid in result["vault_ids"]:
        cred = Vault(settings).load(rid)
        key = by_account[cred.account]
        assert (cred.api_key, cred.secret, cred.passphrase) == (
            key["apiKey"], key["secretKey"], key["passphrase"]
        )  # fmt: skip
        assert cred.permissions == ["read_only", "trade"]
        phrases.add(cred.passphrase)
    assert len(phrases) == 3  # each key its own passphrase
    listed = [k for k in keys_on(replica) if k["label"] == "ICG-MM"]
    assert sorted(k["account"] for k in listed) == SUBS
    assert [k["perms"] for k in listed] == [["read_only", "trade"]] * 3
    assert [same_set(k["ips"], DOC_IPS) for k in listed] == [True] * 3
    assert [k["account"] for k in result["keys"]] == SUBS
    audit = result["verification"]
    assert audit["form audit"] == "ok" and audit["key list"] == "ok", audit
    assert audit["shown by exchange"] == "ok"


@pytest.mark.parametrize("selectable", [True, False], ids=["one-submission", "one-each"])
def test_two_subs_with_withdraw_preselected(replica, settings, run_agent, selectable):
    scenarios = ["withdraw-preselected"] + (["account-selectable"] if selectable else [])
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": scenarios}
    ).raise_for_status()
    req_subs = ["icg-mm-sub1", "icg-mm-sub3"]
    result = run_agent(auto=True, auto_submit=True, sub_accounts=req_subs)
    assert result["status"] == "ok", result
    made = issued(replica)
    assert sorted(k["account"] for k in made) == req_subs
    assert [k["perms"] for k in made] == [["read_only", "trade"]] * 2
    assert [same_set(k["ips"], DOC_IPS) for k in made] == [True] * 2


def test_too_many_or_repeated_sub_accounts_refused_before_a_browser():
    req = {"label": "x", "ips": DOC_IPS, "allow_private_ip": True}
    with pytest.raises(RequestError, match="given twice"):
        build_request({**req, "sub_accounts": ["a", "a"]})
    with pytest.raises(RequestError, match="at most 10 keys"):
        build_request({**req, "sub_accounts": [f"s{i}" for i in range(11)]})
    one = build_request({**req, "sub_accounts": ["s1"]})
    assert one.sub_account == "s1" and one.accounts == ["s1"]


@pytest.mark.parametrize("scenarios", [[], ["account-selectable"]], ids=["fixed", "selectable"])
def test_unknown_sub_account_stops_before_submit(replica, settings, run_agent, scenarios):
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": scenarios}
    ).raise_for_status()
    result = run_agent(auto=True, auto_submit=True, sub_accounts=["icg-mm-sub1", "nope-sub"])
    assert result["exit_code"] == Exit.UI_NOT_UNDERSTOOD, result
    assert "nope-sub" in result["message"]
    assert issued(replica) == []
