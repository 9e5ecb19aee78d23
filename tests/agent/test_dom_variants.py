"""The agent on the four DOMs the replica can serve: okx.com as known (no ARIA at all, the
default), `aria` (rich ARIA, in case OKX adds it), `prefixed` (a CSS-module prefix on every
component class), `covered` (a layer over each select box takes the pointer).

Judged by the replica's own records, never the agent's word: exactly one key, exactly Read +
Trade, the requested IPs, on the requested account, and the vault holding what was issued.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from agent.ips import same_set
from tests.helpers import onboard, outbox_cmd

from .test_run_e2e import issued, keys_on

DOMS = ["known", "aria", "prefixed", "covered"]
CASES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "main": ([], {}),
    "sub-account": ([], {"sub_account": "icg-mm-sub2"}),
    "withdraw-preselected": (["withdraw-preselected"], {}),
    "checkboxes-withdraw-preselected": (["withdraw-preselected", "perm-checkboxes"], {}),
    "codes-autosubmit": (["codes-autosubmit"], {}),
}
IPS = ["203.0.113.7", "2001:0db8:0000:0000:0000:0000:0000:0007"]  # written long on purpose


def use(replica: Any, scenarios: list[str]) -> None:
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": scenarios}
    ).raise_for_status()


def assert_one_exact_key(replica: Any, settings: Any, result: dict[str, Any], account: str) -> None:
    assert result["status"] == "ok", result
    [made] = issued(replica)
    assert made["account"] == account
    assert made["perms"] == ["read_only", "trade"]  # never withdraw, whatever the page preselects
    assert same_set(made["ips"], IPS)
    listed = [k for k in keys_on(replica) if k["label"] == "ICG-MM"]
    assert len(listed) == 1 and listed[0]["perms"] == ["read_only", "trade"]
    [rid] = result["vault_ids"]
    cred = Vault(settings).load(rid)
    assert (cred.api_key, cred.secret, cred.passphrase) == (
        made["apiKey"], made["secretKey"], made["passphrase"]
    )  # fmt: skip
    assert cred.account == account


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dom", DOMS)
def test_unattended_run_on_each_dom(replica, settings, run_agent, dom: str, case: str) -> None:
    """Headless, pace 0, auto-submit, automatic codes for all three factors, nobody at the
    keyboard (the browser already logged in)."""
    scenarios, extra = CASES[case]
    use(replica, ["logged-in", "all-factors", *scenarios] + ([dom] if dom != "known" else []))
    result = run_agent(auto=True, auto_submit=True, human=False, ips=IPS, drift_to_human=False,
                       **extra)  # fmt: skip
    assert_one_exact_key(replica, settings, result, extra.get("sub_account", "main"))
    assert result["factors"] == ["totp", "sms", "email"]


@pytest.mark.headed
@pytest.mark.parametrize("dom", ["known", "covered"])
def test_headed_guided_main_path_on_the_known_dom(replica, settings, run_agent, dom: str) -> None:
    """A visible window under Xvfb, the stand-in client logging in, submitting, typing codes."""
    use(replica, [] if dom == "known" else [dom])
    result = run_agent(headless=False, ips=IPS)
    assert_one_exact_key(replica, settings, result, "main")


@pytest.mark.parametrize("dom", DOMS)
def test_onboard_run_command_on_each_dom(replica, tmp_path, dom: str) -> None:
    """The real command, as an operator runs it: `onboard run --headless --pace 0
    --auto-submit` with automatic codes, judged by the replica's record and the vault."""
    use(replica, ["logged-in", "all-factors"] + ([dom] if dom != "known" else []))
    acct = replica.world.accounts["client@replica.test"]
    outbox = outbox_cmd(replica.base_url)
    home = tmp_path / "home"
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", IPS[0], "--ip", IPS[1], "--allow-private-ip",
        "--base-url", replica.base_url, "--headless", "--pace", "0", "--auto-submit",
        "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--json",
        env={"CLIENT_TOTP": acct.totp_secret or ""},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert_one_exact_key(replica, Settings(home=home), json.loads(proc.stdout), "main")
