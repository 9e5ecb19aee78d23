"""A run's plan: the request plus how to run it (session, pace, timeouts, codes, flow, checks,
sink), put together in one place (`build_plan`) for `run`, a batch entry, the demo and the
benchmarks; and `preflight`, everything about a plan that can be checked before a browser
opens. agent.run executes a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.config import Settings
from agent.custody.sinks import Sink, make_sink
from agent.custody.vault import Vault, VaultError
from agent.engine.flow import Flow, load_named
from agent.engine.human import CodeSources, validate_code_sources
from agent.engine.runner import Options
from agent.exchanges import DEFAULT
from agent.exitcodes import AgentError, Exit
from agent.request import OnboardRequest
from agent.session import SessionSpec


@dataclass
class RunPlan:
    request: OnboardRequest
    session: SessionSpec = field(default_factory=SessionSpec)
    options: Options = field(default_factory=Options)
    flow: str = DEFAULT
    verify_rest: bool = False  # signed REST check of the stored key(s) at the end (onboard verify)
    trace: bool = False  # Playwright trace, paused while secrets are on the page
    recipients: list[str] = field(default_factory=list)  # age recipients; default from config
    sink: str = "vault"  # vault | keyring | stdout (needs reveal) | okx-toml:NAME
    reveal: bool = False
    record: Path | None = None  # also save the stages as a redacted fixture set here


def build_plan(
    request: OnboardRequest,
    session: SessionSpec,
    *,
    pace: float = 0.0,
    auto_submit: bool = False,
    step_timeout: float | None = None,
    login_timeout: float = 300.0,
    human_timeout: float = 600.0,
    codes: CodeSources | None = None,
    flow: str = DEFAULT,
    verify: bool | None = None,
    trace: bool = False,
    record: Path | None = None,
    recipients: list[str] | None = None,
    sink: str = "vault",
    reveal: bool = False,
) -> RunPlan:
    """The one place a run's plan is put together (`run`, a batch entry, the demo, the
    benchmarks), so what follows from what cannot differ between them:

    - no window (headless) means nobody to hand a step to: a page that differs from the
      flow is a stop, not a wait for a person;
    - the signed REST check runs by default only against a test base URL (the replica
      answers it; against the real exchange `onboard verify` is a separate, deliberate step)."""
    options = Options(
        pace=pace,
        auto_submit=auto_submit,
        login_timeout=login_timeout,
        human_timeout=human_timeout,
        drift_to_human=not session.headless,
        codes=codes or CodeSources(),
    )
    if step_timeout is not None:
        options.step_timeout = step_timeout
    return RunPlan(
        request=request,
        session=session,
        options=options,
        flow=flow,
        verify_rest=verify if verify is not None else bool(request.base_url),
        trace=trace,
        record=record,
        recipients=list(recipients or []),
        sink=sink,
        reveal=reveal,
    )


def plan_target(flow: Flow, req: OnboardRequest) -> tuple[str, list[str]]:
    """The start origin and every origin the agent may act on."""
    if req.base_url:
        return req.base_url, [*flow.origins, req.base_url]
    return flow.sites[req.site], list(flow.origins)


def preflight(plan: RunPlan, settings: Settings, flow: Flow | None = None) -> tuple[Flow, Vault]:
    """Everything that can be checked before a browser opens. `flow`: plan.flow already
    loaded (`onboard run` loads it to check the request), not parsed a second time."""
    flow = flow or load_named(plan.flow)
    plan.session.validate()
    rec = plan.record
    if rec is not None and rec.exists() and (not rec.is_dir() or any(rec.iterdir())):
        raise AgentError(
            f"--record {rec}: already holds files (pick a new set name)", Exit.BAD_INPUT
        )
    validate_code_sources(plan.options.codes)
    trading_query(plan, flow)
    vault = Vault(settings, recipients=plan.recipients or None)
    try:
        # Only the sink in use is prepared (the vault's may create the local identity), so a
        # refused keychain leaves nothing behind.
        plan_sink(plan, vault, settings).check()
    except VaultError as exc:
        raise AgentError(str(exc), Exit.BAD_INPUT) from None
    return flow, vault


def trading_query(plan: RunPlan, flow: Flow) -> str:
    """What the flow adds to its pages' URLs to be in demo trading for a demo key, in live
    trading for a live one ("" when the flow has no demo trading: live only)."""
    if not plan.request.demo:
        return flow.demo.live_query if flow.demo else ""
    if flow.demo is None:
        raise AgentError(
            f"--demo: the flow {plan.flow} has no demo-trading page (its `demo:` section)",
            Exit.BAD_INPUT,
        )
    return flow.demo.query


def plan_sink(plan: RunPlan, vault: Vault, settings: Settings) -> Sink:
    accounts = [a or "main" for a in plan.request.accounts]
    return make_sink(plan.sink, settings, reveal=plan.reveal, accounts=accounts, vault=vault)
