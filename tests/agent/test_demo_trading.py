"""Demo trading: `run --demo` makes the key on OKX's demo-trading key page, the record says
demo, and every signed request for it carries x-simulated-trading: 1 (ccxt's sandbox mode);
a live run afterwards in the same browser profile switches back and makes a live key.
REST hosts per site come from the flow (ccxt's own hosts), not from the pages' origins."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from agent.config import Settings
from agent.custody.vault import Vault
from agent.custody.verify import endpoint_for
from agent.engine.flow import load_named
from agent.exitcodes import AgentError
from agent.request import build_request
from agent.run import RunPlan, preflight
from tests.helpers import login_profiles, make_cred, onboard, outbox_cmd

ROOT = Path(__file__).resolve().parents[2]


def run(replica, home, acct, *extra: str):
    outbox = outbox_cmd(replica.base_url)
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "127.0.0.1", "--allow-private-ip",
        "--base-url", replica.base_url, "--profile", "acme", "--headless", "--pace", "0",
        "--auto-submit", "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--login-timeout", "5", "--human-timeout", "30",
        "--json", *extra,
        env={"CLIENT_TOTP": acct.totp_secret},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.scenarios("totp-only")
def test_demo_key_then_live_key_in_the_same_profile(replica, tmp_path):
    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["acme"])
    vault = Vault(Settings(home=home))

    demo = run(replica, home, acct, "--demo")
    assert demo["status"] == "ok" and demo["verification"]["signed REST"] == "ok"
    [made] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    assert made["demo"] is True  # made in demo trading
    [rid] = demo["vault_ids"]
    assert vault.load(rid).demo is True and vault.meta(rid)["demo"] is True
    # verify reads the record's flag: no --demo needed
    proc = onboard(home, "verify", rid, "--json")
    assert proc.returncode == 0, proc.stderr
    [res] = json.loads(proc.stdout)
    assert res["status"] == "ok" and res["demo"] is True

    # the session stayed in demo trading on the exchange's side; a live run switches back
    live = run(replica, home, acct)  # same label: the demo key list is the demo one's own
    assert live["status"] == "ok" and live["verification"]["signed REST"] == "ok"
    issued = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    assert [k["demo"] for k in issued] == [True, False]
    assert vault.load(live["vault_ids"][0]).demo is False


def test_demo_needs_a_flow_that_knows_demo_trading(tmp_path):
    flow = yaml.safe_load((ROOT / "flows" / "okx.yaml").read_text())
    del flow["demo"]
    path = tmp_path / "nodemo.yaml"
    path.write_text(yaml.safe_dump(flow, sort_keys=False))
    req = build_request({"label": "ICG-MM", "ips": ["127.0.0.1"], "allow_private_ip": True,
                         "demo": True})  # fmt: skip
    with pytest.raises(AgentError, match="has no demo-trading page") as err:
        preflight(RunPlan(request=req, flow=str(path)), Settings(home=tmp_path / "home"))
    assert err.value.code == 2
    assert not (tmp_path / "home" / "runs").exists()


@pytest.mark.parametrize(
    ("site", "rest"),
    [
        ("global", "https://www.okx.com"),
        ("eea", "https://eea.okx.com"),
        ("us", "https://us.okx.com"),
    ],
)
def test_verify_sends_to_the_sites_rest_host(site, rest):
    """EEA's pages are my.okx.com and US's app.okx.com; their REST APIs are not."""
    assert endpoint_for(make_cred(site=site)) == rest
    assert load_named("okx").sites[site] != rest or site == "global"
