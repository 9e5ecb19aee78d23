"""Running the real agent (execute) against the live replica, headless, pace 0."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from agent.config import Settings
from agent.console import ConsoleReporter
from agent.engine import pagelib
from agent.engine.human import CodeSources
from agent.engine.runner import Options
from agent.request import build_request
from agent.run import RunPlan, execute
from agent.session import SessionSpec
from replica.client import ScriptedClient
from replica.server import ReplicaServer
from tests.helpers import DOC_IPS, in_thread, outbox_cmd

CLIENT = "client@replica.test"


@pytest.fixture
def agent_scripts(page: Page) -> None:
    """The test's page as the agent's session prepares it (session._prepare): the agent's page
    scripts in every document (agent.engine.pagelib), the one open now included. A page
    without them costs a call that finds them missing and one that installs them."""
    pagelib.install(page.context)
    pagelib.install_here(page)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "onboard-home")


def auto_codes(base: str, monkeypatch: pytest.MonkeyPatch, secret: str) -> CodeSources:
    monkeypatch.setenv("TEST_TOTP_SECRET", secret)
    cmd = outbox_cmd(base)
    return CodeSources("TEST_TOTP_SECRET", f"{cmd} sms", f"{cmd} email")


@pytest.fixture
def run_agent(
    replica: ReplicaServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., dict[str, Any]]:
    """run_agent(label=..., ips=[...], auto=False, auto_submit=False, **request) -> result dict.

    The request allows private (and documentation) IPs, as every test setup must."""

    def go(
        label: str = "ICG-MM",
        ips: list[str] | None = None,
        auto: bool = False,
        auto_submit: bool = False,
        human: bool = True,
        email: str = CLIENT,
        headless: bool = True,
        stand_in: Any = None,
        login_timeout: float = 60,
        human_timeout: float = 60,
        plan_extra: dict[str, Any] | None = None,
        drift_to_human: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        acct = replica.world.accounts[email]
        req = build_request(
            {
                "label": label,
                "ips": ips or DOC_IPS,
                "base_url": replica.base_url,
                "allow_private_ip": True,
                **extra,
            }
        )
        codes = (
            auto_codes(replica.base_url, monkeypatch, acct.totp_secret or "")
            if auto
            else CodeSources()
        )
        extra_plan = dict(plan_extra or {})
        plan = RunPlan(
            request=req,
            session=extra_plan.pop("session", None) or SessionSpec(headless=headless),
            options=Options(
                pace=0,
                auto_submit=auto_submit,
                codes=codes,
                login_timeout=login_timeout,
                human_timeout=human_timeout,
                step_timeout=10,
                drift_to_human=drift_to_human,
            ),
            **extra_plan,
        )
        client = stand_in or (
            ScriptedClient.for_seed(replica.base_url, acct, typing_delay_ms=0) if human else None
        )
        os.environ.setdefault("COLUMNS", "120")
        return in_thread(execute, plan, ConsoleReporter(), settings, stand_in=client)

    return go
