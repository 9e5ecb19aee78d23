"""`onboard demo`: the main job end to end on the bundled replica, with a scripted client."""

from __future__ import annotations

import json
import os

from agent.config import Settings
from agent.console import ConsoleReporter
from agent.custody.redact import redact
from agent.plan import build_plan, preflight
from agent.request import build_request
from agent.run import execute
from agent.session import SessionSpec

DEMO_LABEL = "ICG-MM"
# The firm's server, plus this machine as the replica sees it (so the signed REST check can pass).
DEMO_IPS = ["203.0.113.7", "127.0.0.1"]


def run_demo(
    headless: bool | None = None,
    pace: float = 0.4,
    scenarios: list[str] | None = None,
    as_json: bool = False,
) -> int:
    from replica.client import ScriptedClient
    from replica.server import ReplicaServer

    reporter = ConsoleReporter()
    if headless is None:
        headless = not os.environ.get("DISPLAY") and os.uname().sysname != "Darwin"
        reporter.info(
            "no display found: running headless (set DISPLAY or use xvfb-run to watch)"
            if headless
            else "visible browser window: watch the highlights"
        )
    settings = Settings(home=Settings().home / "demo")
    with ReplicaServer(scenarios=scenarios or ["all-factors"]) as srv:
        reporter.info(
            f"OKX replica on {srv.base_url} (scenarios: {', '.join(srv.world.scenario_names)})"
        )
        account = srv.world.accounts["client@replica.test"]
        client = ScriptedClient.for_seed(srv.base_url, account)
        plan = build_plan(
            build_request(
                {
                    "label": DEMO_LABEL,
                    "ips": DEMO_IPS,
                    "base_url": srv.base_url,
                    "allow_private_ip": True,
                },
            ),
            SessionSpec(headless=headless),
            pace=pace,
            login_timeout=120,
            human_timeout=120,
            verify=True,
        )
        flow, vault = preflight(plan, settings)
        result = execute(plan, reporter, settings, stand_in=client, flow=flow, vault=vault)
        result["vault_dir"] = str(settings.vault_dir)
    if as_json:
        print(redact(json.dumps(result, indent=2, default=str)))
    else:
        reporter.panel(result)
        reporter.info(
            f"demo vault: {settings.vault_dir} (decrypt with the identity in {settings.identity_file})"
        )
    return int(result.get("exit_code", 1))
