"""One guided run in its own process: `python -m tests.fuzz.guided --base URL --home DIR
--case NAME --out FILE`.

The CLI has no stand-in, so a guided run drives `agent.run.execute` itself: a visible
browser (a display is needed: run the fuzz under `xvfb-run`), the drift handover on, and
the scripted person of replica/person.py doing the human's part (Submit all, the codes
from the replica's outbox, whatever a handover asks). Its own process, so the fuzz can
stop a run that never ends (and its browser with it) and judge it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.console import ConsoleReporter
from agent.engine.human import CodeSources
from agent.engine.runner import Options
from agent.exitcodes import AgentError, Exit
from agent.request import build_request
from agent.run import RunPlan, execute
from agent.session import SessionSpec
from replica.person import GuidedClient
from replica.repro import IPS, LABEL, TOTP_ENV
from tests.fuzz.cases import BY_NAME

CLIENT = "client@replica.test"


class QuietReporter(ConsoleReporter):
    """No terminal output; keeps the failed step. A prompt at the terminal (paste the key)
    goes to the person, who reads it off the window as a person would."""

    def __init__(self, person: GuidedClient) -> None:
        super().__init__(quiet=True)
        self.failed = ""
        self.person = person

    def step(self, n: int, total: int, caption: str, status: str, detail: str = "") -> None:
        if status == "failed":
            self.failed = f"{n}/{total} {caption}"

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        return self.person.paste(prompt)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--case", choices=sorted(BY_NAME), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--human-timeout", type=float, default=30)
    a = ap.parse_args(argv)
    case = BY_NAME[a.case]
    req = build_request({
        "label": LABEL, "ips": IPS, "base_url": a.base, "allow_private_ip": True,
        **({"sub_accounts": case.accounts} if case.accounts else {}),
    })  # fmt: skip
    plan = RunPlan(
        request=req,
        session=SessionSpec(headless=False),
        options=Options(pace=0, codes=CodeSources(), human_timeout=a.human_timeout,
                        login_timeout=a.human_timeout, drift_to_human=True),
    )  # fmt: skip
    person = GuidedClient(a.base, CLIENT, "", os.environ.get(TOTP_ENV), typing_delay_ms=0)
    rep = QuietReporter(person)
    result: dict[str, Any]
    try:
        result = execute(plan, rep, Settings(home=a.home), stand_in=person)
        code = int(result.get("exit_code", 1))
    except AgentError as err:  # before a browser opened (preflight)
        result, code = {"status": "failed", "message": err.message}, int(err.code)
        rep.failed = rep.failed or "preflight"
    a.out.write_text(json.dumps({"result": result, "exit_code": code, "step": rep.failed,
                                 "asked": person.handovers,
                                 "actions": person.actions}, default=str))  # fmt: skip
    return 0 if code == Exit.OK else 1


if __name__ == "__main__":
    sys.exit(main())
