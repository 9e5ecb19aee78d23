"""`onboard run`, `onboard batch` and `onboard demo`: the onboarding commands, as thin wiring.

Each names its options by their aliases in agent.cli_options, turns them into a request and a
plan (agent.request.build_request, agent.run.build_plan) or a BatchArgs, and hands on. Heavy
modules are imported inside the commands so `onboard --help` stays instant.
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent.choices import Site
from agent.cli_options import (
    AllowPrivateIp,
    AutoSubmit,
    BaseUrl,
    BatchAutoSubmit,
    BatchBrowserWs,
    BatchHeadless,
    BatchHumanTimeout,
    BatchJson,
    BatchLoginTimeout,
    BatchRecipients,
    BatchSink,
    BatchVerify,
    BrowserWs,
    Cdp,
    Channel,
    CodePrompt,
    Concurrency,
    Demo,
    EmailCodeCmd,
    EntryTimeout,
    Executable,
    Flow,
    Fresh,
    Headless,
    HumanTimeout,
    Ips,
    Label,
    LoginTimeout,
    OperatorCodes,
    Pace,
    PassphraseEnv,
    PassphrasePrompt,
    Profile,
    Recipients,
    Record,
    ReportDir,
    Resume,
    Retry,
    Reveal,
    Roster,
    RunFlow,
    RunJson,
    RunPace,
    RunSite,
    Sink,
    SmsCodeCmd,
    SubAccounts,
    TotpSecretEnv,
    Trace,
    Verify,
    Yes,
)

RUN_EPILOG = (
    "Examples:\n\n"
    "  onboard run --label ICG-MM --ip 203.0.113.7 --ip 2001:db8::7 --profile acme\n\n"
    "  onboard run --label ICG-MM --ip 203.0.113.7 --cdp http://127.0.0.1:9222\n\n"
    "  onboard run --label ICG-MM --ip 203.0.113.7 --base-url http://127.0.0.1:8700 "
    "--allow-private-ip --headless --pace 0 --auto-submit --json\n\n"
    "Exit codes: 0 ok, 2 bad input, 3 human timeout, 4 page not understood, "
    "5 audit mismatch (not submitted), 6 origin refused, 7 exchange refused, "
    "8 could not store (Complete not clicked), 9 created but checks differ "
    "(a signed REST check that is only pending does not fail the run)."
)

BATCH_EPILOG = (
    "Examples:\n\n"
    "  onboard batch clients.yaml --concurrency 4\n\n"
    "  onboard batch clients.csv --headless --pace 0 --auto-submit --json\n\n"
    "  onboard batch clients.yaml --retry acct-7   (after deleting its key on the exchange)\n\n"
    "  onboard batch clients.yaml --headless --auto-submit --concurrency 8 "
    "--browser-ws wss://pw1.example/ --browser-ws wss://pw2.example/   (a pool of "
    "`playwright run-server` machines; roster: browser_pool)\n\n"
    "All slots share one Playwright driver and one browser, kept for the batch (a fresh "
    "context each entry); an entry with a profile gets a browser of its own; seal a profile's "
    "login with `onboard login-state save PROFILE` and name it with login_state: to run "
    "it warm. "
    "Re-running the same roster resumes its last batch: done entries are skipped, entries "
    "that stopped before submit start again, an entry that stopped after submit but before "
    "its key was stored is flagged (KEY MUST BE DELETED AND RECREATED / CHECK THE EXCHANGE) "
    "and not retried. Exit codes: 0 all ok, 1 some failed, 2 bad input (nothing opened), "
    "9 an entry is flagged, 130 interrupted."
)


def run(
    label: Label,
    ip: Ips,
    site: RunSite = Site.GLOBAL,
    base_url: BaseUrl = None,
    sub_account: SubAccounts = None,
    allow_private_ip: AllowPrivateIp = False,
    demo: Demo = False,
    profile: Profile = None,
    cdp: Cdp = None,
    browser_ws: BrowserWs = None,
    channel: Channel = None,
    executable: Executable = None,
    headless: Headless = False,
    pace: RunPace = 0.6,
    auto_submit: AutoSubmit = False,
    passphrase_env: PassphraseEnv = None,
    passphrase_prompt: PassphrasePrompt = False,
    totp_secret_env: TotpSecretEnv = None,
    sms_code_cmd: SmsCodeCmd = None,
    email_code_cmd: EmailCodeCmd = None,
    code_prompt: CodePrompt = None,
    login_timeout: LoginTimeout = 300,
    human_timeout: HumanTimeout = 600,
    flow: RunFlow = "okx",
    json_out: RunJson = False,
    verify: Verify = None,
    trace: Trace = False,
    record: Record = None,
    recipient: Recipients = None,
    sink: Sink = "vault",
    reveal: Reveal = False,
) -> None:
    """Guide a client through creating a Read + Trade API key, then capture, store and check it.

    Opens a visible browser under the client's own session, pre-fills and highlights the
    form, reads it back, hands the security verification to the human, and stores the
    credentials encrypted before clicking anything else. The withdrawal permission is never enabled.
    """
    import os

    from agent.config import Settings
    from agent.console import ConsoleReporter
    from agent.engine.flow import FlowError, load_named
    from agent.engine.human import CodeSources
    from agent.exitcodes import AgentError, Exit
    from agent.plan import build_plan, preflight
    from agent.request import RequestError, build_request
    from agent.run import execute
    from agent.session import SessionSpec

    reporter = ConsoleReporter()
    if sink == "stdout":
        reporter.out = reporter.err  # stdout carries the credential JSON only
    try:
        flow_obj = load_named(flow)
        passphrase = None
        if passphrase_env and passphrase_prompt:
            fail("give only one of --passphrase-env and --passphrase-prompt", Exit.BAD_INPUT)
        if passphrase_env:
            passphrase = os.environ.get(passphrase_env)
            if not passphrase:
                fail(f"--passphrase-env {passphrase_env}: that variable is not set", Exit.BAD_INPUT)
        elif passphrase_prompt:
            passphrase = reporter.ask_secret("passphrase for the new key (hidden)")
        if sink == "stdout" and json_out:
            fail("--sink stdout and --json both write to stdout: choose one", Exit.BAD_INPUT)
        req = build_request(
            {
                "label": label,
                "ips": ip,
                "site": str(site),
                "base_url": base_url,
                "sub_accounts": list(sub_account or []),
                "allow_private_ip": allow_private_ip,
                "passphrase": passphrase,
                "demo": demo,
            },
            flow_obj.rules,
            flow_obj.sites,
        )
        plan = build_plan(
            req,
            SessionSpec(
                profile=profile,
                cdp=cdp,
                headless=headless,
                channel=channel,
                executable=executable,
                browser_ws=browser_ws,
            ),
            pace=pace,
            auto_submit=auto_submit,
            login_timeout=login_timeout,
            human_timeout=human_timeout,
            codes=CodeSources(
                totp_secret_env,
                sms_code_cmd,
                email_code_cmd,
                {str(f) for f in code_prompt or []},
            ),
            flow=flow,
            verify=verify,
            trace=trace,
            record=record,
            recipients=list(recipient or []),
            sink=sink,
            reveal=reveal,
        )
        settings = Settings()
        flow_obj, vault = preflight(plan, settings, flow_obj)
    except (RequestError, FlowError) as exc:
        fail(str(exc), Exit.BAD_INPUT)
    except AgentError as exc:
        fail(exc.message, exc.code)
    result = execute(plan, reporter, settings, flow=flow_obj, vault=vault)
    emit(result, json_out, reporter)
    raise typer.Exit(int(result.get("exit_code", 1)))  # type: ignore[call-overload]


def demo(
    headless: Annotated[
        bool | None,
        typer.Option("--headless/--no-headless", help="Default: visible when a display exists."),
    ] = None,
    pace: Pace = 0.4,
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Replica scenario(s).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the JSON result.")] = False,
) -> None:
    """The whole job on the bundled OKX replica, with a scripted client playing the human.

    Starts the replica on loopback, runs the agent against it (the scripted client logs in
    and types each verification code from the replica's outbox), stores the key in a demo
    vault and prints the result. Visible when a display exists, headless otherwise.
    """
    from agent.cli_replica import need_replica

    need_replica("demo")
    from agent.demo import run_demo

    raise typer.Exit(
        run_demo(headless=headless, pace=pace, scenarios=list(scenario or []), as_json=json_out)
    )


def batch(
    roster: Roster,
    concurrency: Concurrency = 1,
    resume: Resume = None,
    fresh: Fresh = False,
    retry: Retry = None,
    report: ReportDir = None,
    json_out: BatchJson = False,
    headless: BatchHeadless = False,
    pace: Pace = 0.6,
    auto_submit: BatchAutoSubmit = False,
    login_timeout: BatchLoginTimeout = 300,
    human_timeout: BatchHumanTimeout = 600,
    entry_timeout: EntryTimeout = None,
    verify: BatchVerify = None,
    flow: Flow = "okx",
    recipient: BatchRecipients = None,
    sink: BatchSink = "vault",
    operator_codes: OperatorCodes = False,
    browser_ws: BatchBrowserWs = None,
    yes: Yes = False,
) -> None:
    """Onboard many accounts from a roster: N at once, journaled, resumable, with reports."""
    import time

    from agent.batch import BatchOptions, env_screen
    from agent.cli_batch import BatchArgs, run_batch_command
    from agent.pool import Endpoint

    options = BatchOptions(
        concurrency=concurrency, headless=headless, pace=pace, auto_submit=auto_submit,
        login_timeout=login_timeout, human_timeout=human_timeout, entry_timeout=entry_timeout,
        verify=verify, flow=flow, recipients=list(recipient or []), sink=sink,
        screen=env_screen(), browser_pool=[Endpoint(u) for u in browser_ws or []],
        # the operator said the clients agreed to the roster's REST keys (--yes): when
        consent_at=time.time() if yes else None,
    )  # fmt: skip
    args = BatchArgs(
        roster=roster, options=options, resume=resume, fresh=fresh, retry=list(retry or []),
        report_dir=report, as_json=json_out, operator_codes=operator_codes,
    )  # fmt: skip
    raise typer.Exit(run_batch_command(args))


def emit(result: dict[str, object], as_json: bool, reporter: object) -> None:
    import json

    from agent.custody.redact import redact

    if as_json:
        typer.echo(redact(json.dumps(result, indent=2, default=str)))
    else:
        reporter.panel(result)  # type: ignore[attr-defined]


def fail(message: str, code: int) -> None:
    from agent.custody.redact import redact

    typer.echo(f"error: {redact(message)}", err=True)
    raise typer.Exit(code)


def register(app: typer.Typer, which: str) -> None:
    """Add `which` (run, demo or batch) to the CLI, in the order `agent.cli` lists them."""
    if which == "run":
        app.command(epilog=RUN_EPILOG)(run)
    elif which == "demo":
        app.command()(demo)
    else:
        app.command(epilog=BATCH_EPILOG)(batch)
