"""`onboard doctor` and `onboard record`: their options (declared at the end, registered by
agent.cli) and their bodies. Heavy modules are imported inside the bodies."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.choices import Site
from agent.cli_options import Flow, Seconds


def _bad(message: str) -> int:
    typer.echo(f"error: {message}", err=True)
    return 2


def doctor_cmd(
    json_out: bool,
    base_url: str | None,
    flows: str | None,
    fixtures: str | None,
    timeout: float,
) -> int:
    from pydantic import ValidationError

    from agent import urls
    from agent.config import ConfigError, Settings
    from agent.doctor import FAIL, Check, run_checks

    for name, value in (("--flows", flows), ("--fixtures", fixtures)):
        if value and not Path(value).is_dir():
            return _bad(f"{name} {value}: not a directory")
    if base_url:
        try:  # the same rule as every URL argument: an http(s) origin, no credentials in it
            urls.check(base_url, "--base-url", ("http", "https"))
        except urls.URLError as exc:
            return _bad(str(exc))
    try:
        settings = Settings()
    except ConfigError as exc:  # the doctor reports the environment rather than refusing it
        checks = [Check("config", FAIL, exc.message, "fix the variable")]
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        checks = [
            Check("config", FAIL, f"ONBOARD_{where.upper()}: {err['msg']}", "fix the variable")
        ]
    else:
        checks = run_checks(
            settings,
            base_url=base_url,
            flows_dir=Path(flows) if flows else None,
            fixtures=Path(fixtures) if fixtures else None,
            timeout=timeout,
        )
    failed = any(c.status == FAIL for c in checks)
    if json_out:
        typer.echo(
            json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}, indent=2)
        )
    else:
        from rich.console import Console
        from rich.table import Table

        style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        table = Table("check", "status", "found", "fix", title="onboard doctor")
        for c in checks:
            table.add_row(c.name, f"[{style[c.status]}]{c.status}[/]", c.detail, c.fix)
        Console(width=max(120, int(os.environ.get("COLUMNS", "0") or 0))).print(table)
    return 1 if failed else 0


def record_cmd(
    out: str,
    base_url: str | None,
    site: str,
    label: str,
    ips: list[str],
    drive: bool,
    stages: list[str],
    profile: str | None,
    cdp: str | None,
    headless: bool,
    auto_submit: bool,
    totp_secret_env: str | None,
    sms_code_cmd: str | None,
    email_code_cmd: str | None,
    redact_env: list[str],
    flow_name: str,
    force: bool,
    timeout: float,
) -> int:
    from agent.config import ConfigError, Settings
    from agent.console import ConsoleReporter
    from agent.engine.flow import FlowError, load_named
    from agent.engine.human import CodeSources, validate_code_sources
    from agent.engine.runner import Options
    from agent.exitcodes import AgentError
    from agent.record import (
        Recorder,
        RecordError,
        default_stages,
        manual_record,
    )
    from agent.record import (
        drive as drive_flow,
    )
    from agent.request import RequestError, build_request
    from agent.session import SessionSpec, open_session

    try:
        flow = load_named(flow_name)
    except FlowError as exc:
        return _bad(str(exc))
    out_dir = Path(out)
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not force)):
        return _bad(f"--out {out}: already holds files (pick a new set name, or --force)")
    if site not in flow.sites:
        return _bad(f"--site {site!r}: use one of {', '.join(flow.sites)}")
    try:
        req = build_request(
            {
                "label": label,
                "ips": ips,
                "site": site,
                "base_url": base_url,
                "allow_private_ip": True,
            },
            flow.rules,
            flow.sites,
        )
    except RequestError as exc:
        return _bad(str(exc))
    known = []
    for var in redact_env:
        value = os.environ.get(var)
        if not value:
            return _bad(f"--redact-env {var}: that variable is not set")
        known.append(value)
    all_stages = default_stages(flow)
    bad = [s for s in stages if s not in all_stages]
    if bad:
        return _bad(f"--stage {bad[0]!r}: use {', '.join(all_stages)}")
    codes = CodeSources(totp_secret_env, sms_code_cmd, email_code_cmd)
    spec = SessionSpec(profile=profile, cdp=cdp, headless=headless)
    try:
        spec.validate()
        validate_code_sources(codes)
    except (AgentError, ValueError) as exc:
        return _bad(getattr(exc, "message", str(exc)))
    base = req.base_url or flow.sites[site]
    try:
        settings = Settings()
    except ConfigError as exc:
        return _bad(exc.message)
    reporter = ConsoleReporter()
    if drive:
        reporter.warn(
            "the flow creates a real API key while recording; its credentials are NOT kept: "
            "delete the key on the site afterwards"
        )
        opts = Options(pace=0, auto_submit=auto_submit, codes=codes, step_timeout=timeout)
        try:
            path, stopped = drive_flow(
                flow, base, out_dir, req.label, list(req.ips), spec, opts, reporter,
                known=known, site=site if not req.base_url else base, force=force,
                settings=settings,
            )  # fmt: skip
        except RecordError as exc:
            return _bad(str(exc)) - 1
        if stopped:
            typer.echo(
                f"recorded up to where the flow stopped ({stopped}); record the rest with "
                f"`onboard record` without --drive: {path}",
                err=True,
            )
            return 4
        typer.echo(str(path))
        return 0

    def ask(stage: str, help: str) -> str:
        typer.echo(
            f"\n[{stage}] In the browser, go to {help}.\n"
            "  Enter = snapshot now, s = skip this stage, q = finish: ",
            err=True,
            nl=False,
        )
        line = sys.stdin.readline()
        return line if line else "q"

    vars = {"label": req.label, "ips": list(req.ips), "account_text": flow.main_account}
    rec = Recorder(out_dir, flow, site if not req.base_url else base, vars, known=known)
    first = next((s.navigate.path for s in flow.steps if s.navigate), "/")
    try:
        with open_session(spec, settings, base) as (_ctx, page):
            page.goto(base.rstrip("/") + first, wait_until="domcontentloaded")
            done = manual_record(page, rec, stages or all_stages, ask)
        if not done:
            return _bad("nothing was recorded")
        path = rec.write(force=force)
    except RecordError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 1
    typer.echo(str(path))
    return 0


# -- the commands, declared here beside what they run; agent.cli registers them -------------
_COMMANDS: list[tuple[Any, dict[str, Any]]] = []


def _command(**kw: Any) -> Any:
    def add(fn: Any) -> Any:
        _COMMANDS.append((fn, kw))
        return fn

    return add


@_command(
    epilog=(
        "Checks: browser (found and launched), display, data/profile/vault directory modes "
        "(0700), vault recipients and identity, every flow file, the fixture sets' locator "
        "contract, the target site's reachability and clock skew (GET /api/v5/public/time). "
        "Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 bad input."
    )
)
def doctor(
    json_out: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
    base_url: Annotated[
        str | None, typer.Option(help="Target to check instead of the flow's global site.")
    ] = None,
    flows: Annotated[
        str | None, typer.Option(help="Directory of flow files to check (default: bundled).")
    ] = None,
    fixtures: Annotated[
        str | None, typer.Option(help="Directory of fixture sets (default: fixtures/okx).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(parser=Seconds(0.5, 30), help="Seconds per network check.")
    ] = 3.0,
) -> None:
    """Check this machine and the flow: each check ok/warn/fail with how to fix it."""
    raise typer.Exit(doctor_cmd(json_out, base_url, flows, fixtures, timeout))


@_command(
    epilog=(
        "Examples:\n\n"
        "  onboard record --out fixtures/okx/global-2025-07-01 --profile acme\n\n"
        "  onboard record --base-url http://127.0.0.1:8700 --out /tmp/set --drive "
        "--auto-submit --profile replica\n\n"
        "Without --drive the person walks the site and presses Enter at each stage "
        "(works when the flow no longer does). With --drive the flow runs and each stage is "
        "recorded; the key it creates is not kept: delete it on the site. Every file is "
        "redacted before it is written. Exit codes: 0 ok, 1 not written, 2 bad input, "
        "4 --drive stopped part-way (what was recorded is written)."
    )
)
def record(
    out: Annotated[str, typer.Option(help="New fixture set directory, e.g. fixtures/okx/<set>.")],
    base_url: Annotated[
        str | None, typer.Option(help="Target instead of the flow's site (the replica).")
    ] = None,
    site: Annotated[Site, typer.Option(help="Regional site.")] = Site.GLOBAL,
    label: Annotated[str, typer.Option(help="Key name used in the form.")] = "onboard-fixture",
    ip: Annotated[
        list[str] | None, typer.Option("--ip", help="IP for the allowlist (repeatable).")
    ] = None,
    drive: Annotated[
        bool,
        typer.Option("--drive", help="Run the flow (default: the person walks the site)."),
    ] = False,
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="Only these stages (manual; repeatable).")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Persistent browser profile.")] = None,
    cdp: Annotated[str | None, typer.Option(help="Attach to a running Chrome.")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="No visible window.")] = False,
    auto_submit: Annotated[
        bool, typer.Option("--auto-submit", help="--drive: the agent clicks submit.")
    ] = False,
    totp_secret_env: Annotated[
        str | None, typer.Option(help="--drive: env var with the authenticator secret.")
    ] = None,
    sms_code_cmd: Annotated[
        str | None, typer.Option(help="--drive: command printing the SMS code.")
    ] = None,
    email_code_cmd: Annotated[
        str | None, typer.Option(help="--drive: command printing the email code.")
    ] = None,
    redact_env: Annotated[
        list[str] | None,
        typer.Option(help="Env var holding one more value to redact (a name); repeatable."),
    ] = None,
    flow: Flow = "okx",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing set.")] = False,
    step_timeout: Annotated[
        float, typer.Option(parser=Seconds(1), help="--drive: seconds per step.")
    ] = 15,
) -> None:
    """Record a fixture set: a redacted snapshot of every page the flow passes through."""
    raise typer.Exit(
        record_cmd(
            out,
            base_url,
            str(site),
            label,
            list(ip or ["203.0.113.7"]),
            drive,
            list(stage or []),
            profile,
            cdp,
            headless,
            auto_submit,
            totp_secret_env,
            sms_code_cmd,
            email_code_cmd,
            list(redact_env or []),
            flow,
            force,
            step_timeout,
        )
    )


def register(app: typer.Typer) -> None:
    """Add `doctor` and `record` to the CLI."""
    for fn, kw in _COMMANDS:
        app.command(**kw)(fn)
