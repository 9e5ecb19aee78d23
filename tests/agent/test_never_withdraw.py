"""Never Withdraw, whatever the flow: the engine owns the rule.

Flows that pass the loader but would leave Withdraw on are run against the replica with
Withdraw preselected: the engine reads every permission the page offers before submit and
keeps everything it did not request off. A key the exchange creates with more than Read +
Trade anyway is marked unusable, and the human is told to delete it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agent.custody.vault import Vault
from agent.engine.flow import flows_dir
from agent.exitcodes import Exit
from tests.helpers import onboard

from .test_run_e2e import issued

BUNDLED = flows_dir() / "okx.yaml"


def custom_flow(tmp_path: Path, edit) -> str:  # type: ignore[no-untyped-def]
    text = edit(BUNDLED.read_text())
    assert text != BUNDLED.read_text()
    path = tmp_path / "custom.yaml"
    path.write_text(text)
    return str(path)


def use(replica, *scenarios: str) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": list(scenarios)}
    ).raise_for_status()


def test_a_flow_whose_withdraw_off_step_never_runs_still_makes_read_trade(
    replica, settings, run_agent, tmp_path, capfd
):
    """Checkbox permissions, Withdraw ticked by the page, the flow's 'off' step gated on
    something no page shows: the engine switches Withdraw off before submit."""
    use(replica, "withdraw-preselected", "perm-checkboxes")
    flow = custom_flow(
        tmp_path,
        lambda t: t.replace(
            '    caption: "Permissions: Withdraw off"\n    audit: permissions.withdraw\n'
            "    if_visible: *perm-boxes\n",
            '    caption: "Permissions: Withdraw off"\n    audit: permissions.withdraw\n'
            "    if_visible: {text: No page shows this text}\n",
        ),
    )
    result = run_agent(auto=True, auto_submit=True, plan_extra={"flow": flow})
    assert result["status"] == "ok", result
    [made] = issued(replica)
    assert made["perms"] == ["read_only", "trade"]
    assert result["flow"] == f"CUSTOM: {flow}"
    err = capfd.readouterr().err
    assert "CUSTOM FLOW" in err and "'Withdraw' was on; the agent switches it off" in err


def test_a_flow_without_a_permissions_step_submits_nothing(replica, settings, run_agent, tmp_path):
    use(replica, "withdraw-preselected")
    # its permissions step never runs (gated on a value no request sets)
    flow = custom_flow(
        tmp_path,
        lambda t: t.replace(
            '  - id: permissions\n    caption: "Permissions: exactly Read + Trade"\n',
            '  - id: permissions\n    caption: "Permissions: exactly Read + Trade"\n'
            "    when: nothing_sets_this\n",
        ),
    )
    result = run_agent(auto=True, auto_submit=True, plan_extra={"flow": flow})
    assert result["exit_code"] == Exit.AUDIT_MISMATCH, result
    assert "not submitted" in result["message"] and "'Trade' is off" in result["message"]
    assert issued(replica) == []
    assert httpx.get(f"{replica.base_url}/replica/outbox").json()["messages"] == []


@pytest.mark.scenarios("grants-withdraw")
def test_a_key_created_with_withdraw_is_marked_unusable(replica, settings, run_agent, tmp_path):
    """The exchange adds Withdraw (a fault): exit 9, one line to delete it, the record refused."""
    result = run_agent(auto=True, auto_submit=True)
    assert result["exit_code"] == Exit.VERIFY_FAILED, result
    [made] = issued(replica)
    assert "withdraw" in made["perms"]
    assert result["message"].startswith("DELETE THIS KEY NOW on the exchange (…")
    assert "Withdraw" in result["message"] and "marked unusable" in result["message"]
    [rid] = result["vault_ids"]
    assert "Withdraw" in (Vault(settings).unusable(rid) or "")
    home = settings.home
    out = onboard(home, "vault", "export", rid)
    assert out.returncode == Exit.VERIFY_FAILED and "marked unusable" in out.stderr
    assert made["secretKey"] not in out.stdout + out.stderr
    ver = onboard(home, "verify", rid, "--base-url", replica.base_url)
    assert ver.returncode == Exit.VERIFY_FAILED and "marked unusable" in ver.stdout + ver.stderr
