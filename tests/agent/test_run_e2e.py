"""The agent end to end against the live replica: what the user sees is what we assert.

Each test checks the outcome a client or operator would check: the key in the
exchange's list with exactly Read + Trade and the requested IPs, the stored
record decrypting to what the exchange issued, and clean stops where it must.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from agent.exitcodes import Exit
from agent.ips import same_set
from replica.server import ReplicaServer
from tests.helpers import DOC_IPS

CLIENT = "client@replica.test"


def keys_on(replica: ReplicaServer, email: str = CLIENT) -> list[dict[str, Any]]:
    return httpx.get(f"{replica.base_url}/replica/keys").json()[email]


def issued(replica: ReplicaServer) -> list[dict[str, Any]]:
    return httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]


def assert_created(
    replica: ReplicaServer,
    settings: Settings,
    result: dict[str, Any],
    label: str = "ICG-MM",
    audited: bool = True,
) -> None:
    """Judged by the replica: one key, exactly Read + Trade, the requested IPs (run_agent's
    default), Complete clicked once (after the store), the vault holding what was issued."""
    assert result["status"] == "ok", result
    assert result["exit_code"] == 0
    [key] = [k for k in keys_on(replica) if k["label"] == label]
    assert key["perms"] == ["read_only", "trade"]  # never withdraw
    assert same_set(key["ips"], DOC_IPS) and same_set(result["ips"], DOC_IPS)
    [made] = [k for k in issued(replica) if k["label"] == label]
    assert same_set(made["ips"], DOC_IPS)
    assert made["completeClicks"] == 1
    [rid] = result["vault_ids"]
    cred = Vault(settings).load(rid)
    assert (cred.api_key, cred.secret, cred.passphrase) == (
        made["apiKey"],
        made["secretKey"],
        made["passphrase"],
    )
    assert cred.permissions == ["read_only", "trade"]
    assert result["api_key_masked"] == "…" + made["apiKey"][-4:]
    assert result["verification"]["form audit"] == ("ok" if audited else "not run")
    assert result["verification"]["shown by exchange"] == "ok"
    assert result["verification"]["key list"] == "ok"


def test_guided_all_factors_human_codes(replica, settings, run_agent):
    """The default guided path: the human logs in, clicks Submit all, types three codes."""
    result = run_agent()
    assert_created(replica, settings, result)
    assert result["factors"] == ["totp", "sms", "email"]


def test_automatic_codes_and_auto_submit(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


def test_signed_checks_client_loads_while_the_browser_finishes(
    replica, settings, run_agent, monkeypatch
):
    """With the signed REST check, its client starts loading once the key is stored and
    before Complete is clicked (agent.exchanges.okx.warm_ccxt); the check then runs (the
    replica refuses this machine: the key's allowlist holds documentation addresses)."""
    from agent.exchanges import okx

    seen: list[tuple[list[str], int]] = []
    real = okx.warm_ccxt

    def warm() -> None:
        made = [k for k in issued(replica) if k["label"] == "ICG-MM"]
        seen.append((Vault(settings).ids(), made[0]["completeClicks"] if made else -1))
        real()

    monkeypatch.setattr(okx, "warm_ccxt", warm)
    result = run_agent(auto=True, auto_submit=True, plan_extra={"verify_rest": True})
    assert_created(replica, settings, result)
    [rid] = result["vault_ids"]
    assert result["verification"]["signed REST"] == (
        f"pending: run `onboard verify {rid}` from a whitelisted host"
    )
    assert seen == [([rid], 0)]


@pytest.mark.scenarios("totp-only")
def test_totp_only(replica, settings, run_agent):
    result = run_agent(auto=True)
    assert_created(replica, settings, result)
    assert result["factors"] == ["totp"]


@pytest.mark.scenarios("withdraw-preselected")
def test_withdraw_preselected_is_switched_off(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


@pytest.mark.scenarios("submit-error")
def test_submit_error_then_retry(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


@pytest.mark.scenarios("submit-error")
def test_submit_error_human_clicks_again(replica, settings, run_agent):
    result = run_agent()
    assert_created(replica, settings, result)


@pytest.mark.scenarios("slow", "submit-error", "key-limit")
@pytest.mark.slow
def test_slow_submit_error_on_a_sub_account_of_a_full_main(replica, settings, run_agent):
    """The refusal's toast lingers on a slow exchange: the retry must not read it as a second
    refusal. The main account is at its limit; the sub-account's own list is what counts."""
    result = run_agent(auto=True, auto_submit=True, sub_account="icg-mm-sub1")
    assert result["status"] == "ok", result
    [made] = issued(replica)
    assert (made["account"], made["perms"]) == ("icg-mm-sub1", ["read_only", "trade"])
    assert same_set(made["ips"], DOC_IPS)


@pytest.mark.scenarios("session-expires")
def test_session_expires_mid_flow(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


@pytest.mark.scenarios("key-limit")
def test_key_limit_stops_before_filling(replica, settings, run_agent):
    before = len(keys_on(replica))
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.EXCHANGE_REFUSED
    assert "maximum number of API keys" in result["message"]
    assert len(keys_on(replica)) == before
    assert issued(replica) == []


@pytest.mark.scenarios("duplicate-label")
def test_duplicate_label_detected_on_the_list(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.EXCHANGE_REFUSED
    assert 'A key named "ICG-MM" already exists' in result["message"]
    assert issued(replica) == []


def test_sub_account_key(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True, sub_account="icg-mm-sub2")
    assert result["status"] == "ok", result
    [made] = issued(replica)
    assert made["account"] == "icg-mm-sub2"
    assert made["perms"] == ["read_only", "trade"]
    assert same_set(made["ips"], DOC_IPS)
    [listed] = [k for k in keys_on(replica) if k["account"] == "icg-mm-sub2"]
    assert listed["apiKey"] == made["apiKey"] and same_set(listed["ips"], DOC_IPS)
    assert Vault(settings).load(result["vault_ids"][0]).account == "icg-mm-sub2"


@pytest.mark.scenarios("slow")
@pytest.mark.slow
def test_slow_exchange(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


@pytest.mark.headed
def test_headed_guided_main_path(replica, settings, run_agent):
    result = run_agent(headless=False)
    assert_created(replica, settings, result)


def test_recipients_only_machine_cannot_read_back(replica, settings, run_agent):
    """Encrypted to the firm's key: this machine stores the record but holds no identity."""
    import pyrage

    firm = pyrage.x25519.Identity.generate()
    result = run_agent(
        auto=True, auto_submit=True, plan_extra={"recipients": [str(firm.to_public())]}
    )
    assert result["status"] == "ok", result
    assert not settings.identity_file.exists()
    [made] = issued(replica)
    cred = Vault(settings).load(result["vault_ids"][0], identity=firm)
    assert cred.secret == made["secretKey"]
    with pytest.raises(Exception):  # noqa: B017  (no identity here: nothing can decrypt)
        Vault(settings).load(result["vault_ids"][0])


@pytest.mark.parametrize(
    "variant", ["api-moved", "perm-checkboxes", "reordered", "interruptions", "lang-fr"]
)
def test_ui_variants(replica, settings, run_agent, variant):
    """OKX versions the flow must handle; the human's parts (banners, language) by the client."""
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": [variant]}
    ).raise_for_status()
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)


@pytest.mark.scenarios("perm-checkboxes", "withdraw-preselected")
def test_checkbox_permissions_with_withdraw_preselected(replica, settings, run_agent):
    result = run_agent(auto=True, auto_submit=True)
    assert_created(replica, settings, result)
