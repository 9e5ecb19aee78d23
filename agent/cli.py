"""The `onboard` command line. Heavy modules are imported inside commands so `--help` is instant."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from agent.choices import Factor, Shell, SinkKind, Site, parse_sink


def Seconds(lo: float, hi: float | None = None) -> Callable[[str | float], float]:
    """A parser for a number of seconds within [lo, hi], and finite: `nan` or `inf` would
    mean no bound at all."""
    return _bounded(lo, hi, whole=False)  # type: ignore[return-value]


def Count(lo: int, hi: int) -> Callable[[str | int], int]:
    """A parser for a whole number within [lo, hi]."""
    return _bounded(lo, hi, whole=True)  # type: ignore[return-value]


def _bounded(lo: float, hi: float | None, whole: bool) -> Callable[[str | float], float | int]:
    def parse(value: str | float) -> float | int:
        import math

        kind = "whole number" if whole else "number"
        try:
            got = float(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not a {kind}") from None
        if not math.isfinite(got) or (whole and got != int(got)):
            raise typer.BadParameter(f"{value!r} is not a {'whole' if whole else 'finite'} number")
        if got < lo or (hi is not None and got > hi):
            bound = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
            raise typer.BadParameter(f"{value!r}: give a {kind} {bound}")
        return int(got) if whole else got

    parse.__name__ = "count" if whole else "seconds"
    return parse


app = typer.Typer(
    name="onboard",
    help=(
        "Get a client's OKX API key made, captured, stored encrypted and verified.\n\n"
        "Start with `onboard demo` (bundled replica, scripted client) or "
        "`onboard run --label ICG-MM --ip 203.0.113.7` alongside a client."
    ),
    no_args_is_help=True,
    # `onboard completion SHELL` prints the script instead of typer's --install-completion,
    # which edits the user's shell files; completion itself (_ONBOARD_COMPLETE) is typer's.
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


from agent.cli_vault import vault_app  # noqa: E402  (light: commands import lazily)

app.add_typer(vault_app, name="vault")
config_app = typer.Typer(
    help="Settings: ONBOARD_* variables over the config file over the defaults.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _version(value: bool) -> None:
    if value:
        from agent import __version__

        typer.echo(f"onboard {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Get a client's OKX API key made, captured, stored encrypted and verified."""


def _sink_value(text: str) -> str:
    """`--sink`: one of the kinds, `okx-toml` with its profile name; checked by the parser so
    help lists the choices and a typo is refused before anything starts."""
    try:
        return str(parse_sink(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _batch_sink_value(text: str) -> str:
    """`batch --sink`: as `run --sink`, but never stdout (many keys, unattended); okx-toml:NAME
    names a prefix, each entry's profile being NAME-<entry id>."""
    spec = parse_sink(_sink_value(text))
    if spec.kind is SinkKind.STDOUT:
        raise typer.BadParameter(
            f"{text!r}: a batch never prints keys; use vault, keyring or okx-toml:PREFIX"
        )
    return str(spec)


def _sink_choices(incomplete: str) -> list[str]:
    return [c for c in ("vault", "keyring", "stdout", "okx-toml:") if c.startswith(incomplete)]


@app.command(
    epilog=(
        "Load it once, e.g. for bash: onboard completion bash > ~/.local/share/bash-completion/"
        'completions/onboard (or `eval "$(onboard completion bash)"` in ~/.bashrc); zsh: '
        'onboard completion zsh > "${fpath[1]}/_onboard"; fish: onboard completion fish > '
        "~/.config/fish/completions/onboard.fish."
    )
)
def completion(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the shell completion script (commands, options, choices such as --format)."""
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name="onboard", complete_var="_ONBOARD_COMPLETE",
                                     shell=str(shell)))  # fmt: skip


@config_app.command("show")
def config_show(
    json_out: Annotated[bool, typer.Option("--json", help="One JSON list on stdout.")] = False,
) -> None:
    """Each setting, its value and where it came from (ONBOARD_* variable, config file,
    default). The config file is $ONBOARD_CONFIG, else $XDG_CONFIG_HOME/onboard/config.toml."""
    import json

    from agent.config import ConfigError, Settings, config_file

    try:
        rows = Settings().describe()
    except ConfigError as exc:  # the command people run to find such a problem: said here
        _fail(exc.message, exc.code)
    path = config_file()
    if json_out:
        typer.echo(json.dumps([{"setting": k, "value": v, "source": w} for k, v, w in rows],
                              indent=2))  # fmt: skip
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("setting", "value", "from", title="onboard config", title_justify="left")
    for row in rows:
        table.add_row(*row)
    console = Console(highlight=False)
    console.print(table)
    console.print(f"config file: {path}{'' if path.exists() else ' (none)'}")


def _not_yet(what: str) -> None:
    typer.echo(f"onboard {what}: not yet implemented", err=True)
    raise typer.Exit(2)


@app.command()
def replica(
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8700,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", "-s", help="Fault/variant knob, repeatable. See --list-scenarios."
        ),
    ] = None,
    seed: Annotated[str | None, typer.Option(help="Accounts seed YAML (default: bundled).")] = None,
    list_scenarios: Annotated[
        bool, typer.Option("--list-scenarios", help="List the scenarios and exit.")
    ] = False,
    mutate: Annotated[
        str | None,
        typer.Option(
            help="Serve the pages with this seed's random mutations (7, or 7:late,cover for "
            "only those kinds); prints them and the agent command the fuzz runs.",
        ),
    ] = None,
    list_mutations: Annotated[
        bool, typer.Option("--list-mutations", help="List the mutation kinds and exit.")
    ] = False,
) -> None:
    """Serve the bundled OKX replica (web UI + REST) on loopback, for tests and demos."""
    from replica.scenarios import describe

    if list_scenarios:
        for name, doc in describe().items():
            typer.echo(f"{name:22} {doc}")
        raise typer.Exit(0)
    if list_mutations:
        from replica.mutations import describe as kinds

        for name, doc in kinds().items():
            typer.echo(f"{name:18} {' '.join(doc.split())}")
        raise typer.Exit(0)
    from replica.server import serve_forever

    problem = _replica_problem(host, port, seed, mutate)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    try:
        serve_forever(
            host=host, port=port, scenarios=list(scenario or []), seed=seed, mutate=mutate
        )
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {getattr(exc, 'strerror', None) or exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ValueError) else 1) from None


def _replica_problem(
    host: str, port: int, seed: str | None, mutate: str | None = None
) -> str | None:
    """What is wrong with the replica's options, before anything binds."""
    import ipaddress

    if mutate is not None:
        from replica.mutations import parse_spec

        try:
            parse_spec(mutate)
        except ValueError as exc:
            return f"--mutate {mutate}: {exc}"
    if not 0 <= port <= 65535:
        return f"--port {port}: give a TCP port from 0 to 65535 (0 picks a free one)"
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return f"--host {host!r}: give an IP address to bind (e.g. 127.0.0.1)"
    if seed is not None:
        path = Path(seed)
        if not path.is_file():
            return f"--seed {seed}: no such file"
        import yaml

        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            return f"--seed {seed}: not a readable YAML file ({type(exc).__name__})"
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            return f"--seed {seed}: not a replica seed (a mapping with an 'accounts' list)"
    return None


def _emit(result: dict[str, object], as_json: bool, reporter: object) -> None:
    import json

    from agent.custody.redact import redact

    if as_json:
        typer.echo(redact(json.dumps(result, indent=2, default=str)))
    else:
        reporter.panel(result)  # type: ignore[attr-defined]


def _fail(message: str, code: int) -> None:
    from agent.custody.redact import redact

    typer.echo(f"error: {redact(message)}", err=True)
    raise typer.Exit(code)


@app.command(
    epilog=(
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
)
def run(
    label: Annotated[str, typer.Option(help="API key name to create, e.g. ICG-MM.")],
    ip: Annotated[
        list[str], typer.Option("--ip", help="IP for the allowlist; repeat for each (max 20).")
    ],
    site: Annotated[
        Site, typer.Option(help="Regional site (its origins are in flows/okx.yaml).")
    ] = Site.GLOBAL,
    base_url: Annotated[
        str | None,
        typer.Option(help="Test target instead of OKX (the replica); joins the origin allowlist."),
    ] = None,
    sub_account: Annotated[
        list[str] | None,
        typer.Option(
            help="Create the key for this sub-account; repeat it for one key per sub-account, "
            "drafted together and submitted at once (one verification)."
        ),
    ] = None,
    allow_private_ip: Annotated[
        bool,
        typer.Option("--allow-private-ip", help="Accept loopback/private IPs (test setups only)."),
    ] = False,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A demo-trading key: OKX's demo key page; the record says demo and is "
            "verified with the x-simulated-trading header.",
        ),
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Persistent browser profile for this client (kept 0700 in the data dir)."
        ),
    ] = None,
    cdp: Annotated[
        str | None,
        typer.Option(help="Attach to the client's running Chrome, e.g. http://127.0.0.1:9222."),
    ] = None,
    browser_ws: Annotated[
        str | None,
        typer.Option(
            help="Use a browser a remote Playwright server launches (`playwright run-server`), "
            "e.g. wss://10.0.0.5:3000/: a fresh context, no profile, so the login wait applies."
        ),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Browser channel, e.g. chrome or msedge.")
    ] = None,
    executable: Annotated[str | None, typer.Option(help="Browser executable path.")] = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No visible window (tests, ops).")
    ] = False,
    pace: Annotated[
        float,
        typer.Option(
            parser=Seconds(0, 10),
            help="Seconds each highlight stays before the agent moves on (0-10).",
        ),
    ] = 0.6,
    auto_submit: Annotated[
        bool,
        typer.Option(
            "--auto-submit",
            help="The agent clicks the submit button after the audit (default: the human does).",
        ),
    ] = False,
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            help="Take the passphrase from this environment variable (default: generate one)."
        ),
    ] = None,
    passphrase_prompt: Annotated[
        bool,
        typer.Option(
            "--passphrase-prompt", help="The client types the passphrase at a hidden prompt."
        ),
    ] = False,
    totp_secret_env: Annotated[
        str | None,
        typer.Option(help="Env var holding the authenticator secret (firm-owned accounts only)."),
    ] = None,
    sms_code_cmd: Annotated[
        str | None, typer.Option(help="Command that prints the SMS code.")
    ] = None,
    email_code_cmd: Annotated[
        str | None, typer.Option(help="Command that prints the email code.")
    ] = None,
    code_prompt: Annotated[
        list[Factor] | None,
        typer.Option(help="Factor the operator types at the terminal; repeatable."),
    ] = None,
    login_timeout: Annotated[
        float, typer.Option(parser=Seconds(1), help="Seconds to wait for the client to log in.")
    ] = 300,
    human_timeout: Annotated[
        float, typer.Option(parser=Seconds(1), help="Seconds to wait for each human step.")
    ] = 600,
    flow: Annotated[
        str, typer.Option(help="Flow name in flows/ or a path to a flow YAML.")
    ] = "okx",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one machine-readable JSON result on stdout.")
    ] = False,
    verify: Annotated[
        bool | None,
        typer.Option(
            "--verify/--no-verify",
            help="Signed REST check of the stored key at the end (default: on with --base-url).",
        ),
    ] = None,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace", help="Record a Playwright trace (paused while secrets are on the page)."
        ),
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            help="Also save each stage the flow passes through as a redacted fixture set in "
            "this new directory, e.g. fixtures/okx/2026-12-01-global (see `onboard record`).",
        ),
    ] = None,
    recipient: Annotated[
        list[str] | None,
        typer.Option(
            "--recipient",
            help="age recipient (age1...) to encrypt to; repeatable; default ONBOARD_RECIPIENTS. "
            "This machine then needs no identity and cannot read back what it stored.",
        ),
    ] = None,
    sink: Annotated[
        str,
        typer.Option(
            parser=_sink_value,
            metavar="[vault|keyring|stdout|okx-toml:NAME]",
            autocompletion=_sink_choices,
            help="Where credentials go: vault (age-encrypted, default); keyring (OS keychain); "
            "stdout (plaintext JSON; needs --reveal); okx-toml:NAME (the vault, then profile "
            "NAME in OKX's ~/.okx/config.toml once the checks pass).",
        ),
    ] = "vault",
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Allow --sink stdout to print the secret in clear.")
    ] = False,
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
    from agent.request import RequestError, build_request
    from agent.run import build_plan, execute, preflight
    from agent.session import SessionSpec

    reporter = ConsoleReporter()
    if sink == "stdout":
        reporter.out = reporter.err  # stdout carries the credential JSON only
    try:
        flow_obj = load_named(flow)
        passphrase = None
        if passphrase_env and passphrase_prompt:
            _fail("give only one of --passphrase-env and --passphrase-prompt", Exit.BAD_INPUT)
        if passphrase_env:
            passphrase = os.environ.get(passphrase_env)
            if not passphrase:
                _fail(
                    f"--passphrase-env {passphrase_env}: that variable is not set", Exit.BAD_INPUT
                )
        elif passphrase_prompt:
            passphrase = reporter.ask_secret("passphrase for the new key (hidden)")
        if sink == "stdout" and json_out:
            _fail("--sink stdout and --json both write to stdout: choose one", Exit.BAD_INPUT)
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
        flow_obj, vault = preflight(plan, settings)
    except (RequestError, FlowError) as exc:
        _fail(str(exc), Exit.BAD_INPUT)
    except AgentError as exc:
        _fail(exc.message, exc.code)
    result = execute(plan, reporter, settings, flow=flow_obj, vault=vault)
    _emit(result, json_out, reporter)
    raise typer.Exit(int(result.get("exit_code", 1)))  # type: ignore[call-overload]


@app.command()
def demo(
    headless: Annotated[
        bool | None,
        typer.Option("--headless/--no-headless", help="Default: visible when a display exists."),
    ] = None,
    pace: Annotated[
        float, typer.Option(parser=Seconds(0, 10), help="Seconds per highlight (0-10).")
    ] = 0.4,
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
    from agent.demo import run_demo

    raise typer.Exit(
        run_demo(headless=headless, pace=pace, scenarios=list(scenario or []), as_json=json_out)
    )


@app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard verify 20250101T120000-a1b2c3\n\n"
        "  onboard verify --all --proxy http://10.0.0.5:3128 --json\n\n"
        "The exchange is the record's site (flows/okx.yaml), or the record's test target, "
        "or --base-url. ok/failed/pending are written to the record's metadata "
        "(verification, verified_at, verify_detail).\n\n"
        "Exit codes: 0 all ok; 9 any failed (withdraw enabled: CRITICAL; permissions, IPs "
        "or label differ; passphrase, secret or key refused; demo/live mismatch); "
        "1 any could not be tested (network, this machine's clock, record unreadable); "
        "10 pending (nothing failed): OKX refused this machine's IP (50110), expected on "
        "a client's machine - run verify from a whitelisted host or through --proxy; "
        "2 bad input."
    )
)
def verify(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Record id(s) from `onboard vault list`.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every stored record.")] = False,
    proxy: Annotated[
        str | None,
        typer.Option(help="Send through this proxy: http://host:port or socks5://host:port."),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Send OKX's x-simulated-trading header even for a record that does not say "
            "demo (records made with `run --demo` do).",
        ),
    ] = False,
    base_url: Annotated[
        str | None, typer.Option(help="Exchange base URL instead of the record's (the replica).")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of results on stdout.")
    ] = False,
) -> None:
    """Prove stored keys work: a signed GET /api/v5/account/config, checked against the request.

    Checks the key has exactly read_only,trade (withdraw is a CRITICAL failure), the
    requested IP allowlist and label, and explains every refusal with the next step.
    """
    from agent.cli_verify import run_verify

    raise typer.Exit(run_verify(list(ids or []), all_, proxy, demo, base_url, json_out))


@app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard subkeys --from 20260101T120000-a1b2c3 --sub-account desk-a --sub-account "
        "desk-b --label ICG-MM --ip 203.0.113.7\n\n"
        "  onboard subkeys --from 20260101T120000-a1b2c3 --all-sub-accounts --label ICG-MM "
        "--ip 203.0.113.7 --yes --json\n\n"
        "The main key (--from) must be the client's main-account key with Read + Trade, bound "
        "to IPs (OKX's rule for sub-account key management). Each new key: Read + Trade only, "
        "stored encrypted before anything else, then checked with its own signed request. "
        "Exit codes: 0 every key created (or already there) and stored, 2 bad input or not "
        "confirmed (nothing sent), 7 OKX refused, 8 a key could not be stored (it is deleted "
        "again), 9 a key's check failed, 1 anything else."
    )
)
def subkeys(
    from_id: Annotated[
        str, typer.Option("--from", help="Vault record of the client's main-account key.")
    ],
    label: Annotated[str, typer.Option(help="Name of each new key, e.g. ICG-MM.")],
    ip: Annotated[
        list[str], typer.Option("--ip", help="IP for each key's allowlist; repeat (max 20).")
    ],
    sub_account: Annotated[
        list[str] | None,
        typer.Option(help="Sub-account to create a key for; repeatable."),
    ] = None,
    all_sub_accounts: Annotated[
        bool,
        typer.Option(
            "--all-sub-accounts", help="Every sub-account OKX lists for the main account."
        ),
    ] = False,
    allow_private_ip: Annotated[
        bool,
        typer.Option("--allow-private-ip", help="Accept loopback/private IPs (test setups only)."),
    ] = False,
    base_url: Annotated[
        str | None, typer.Option(help="Exchange base URL instead of the record's (the replica).")
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Demo-trading main key: send OKX's x-simulated-trading header."
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="The client has agreed: do not ask (scripts).")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON result on stdout.")
    ] = False,
) -> None:
    """Create sub-account keys over OKX's REST API with the client's onboarded main key.

    No browser, human or 2FA prompt: for each sub-account the key list is read first (a
    rerun never makes a second key), one signed create call asks for Read + Trade only, and
    the new secret is stored encrypted before the key is checked with its own signed call.
    """
    from agent.cli_subkeys import run_subkeys

    raise typer.Exit(
        run_subkeys(
            from_id,
            label,
            list(ip),
            list(sub_account or []),
            all_sub_accounts,
            allow_private_ip,
            base_url,
            demo,
            yes,
            json_out,
        )
    )


@app.command()
def runs(
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list on stdout.")] = False,
) -> None:
    """Every run in the journal and what to do about it (e.g. a key that must be recreated).

    The vault has the last word: interrupted stores are completed first (one stderr line
    each), and a run killed after storing its keys but before its journal said so is ok.
    """
    import json

    from agent.cli_vault import recover
    from agent.config import Settings
    from agent.custody.vault import Vault
    from agent.journal import Journal, verdict

    settings = Settings()
    vault = Vault(settings)
    try:
        by_run = vault.by_run(leftovers=recover(vault))
    except OSError as exc:
        typer.echo(f"vault: cannot read {vault.dir} ({exc.strerror}): verdicts from the "
                   "journal alone", err=True)  # fmt: skip
        by_run = {}
    if not settings.journal_file.exists():
        rows = []
    else:
        j = Journal(settings.journal_file)
        rows = [{**r, "verdict": verdict(r, by_run.get(r["id"], []))} for r in j.all()]
        j.close()
    if json_out:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("run", "label", "account", "reached", "what to do", title="onboard runs")
    for r in rows:
        style = "red" if r["verdict"].startswith(("KEY MUST", "CHECK")) else ""
        table.add_row(r["id"], r["label"], r["account"], r["reached"], r["verdict"], style=style)
    Console().print(table if rows else "no runs yet")


@app.command(
    epilog=(
        "Examples:\n\n"
        "  onboard batch clients.yaml --concurrency 4\n\n"
        "  onboard batch clients.csv --headless --pace 0 --auto-submit --json\n\n"
        "  onboard batch clients.yaml --retry acct-7   (after deleting its key on the exchange)\n\n"
        "Re-running the same roster resumes its last batch: done entries are skipped, entries "
        "that stopped before submit start again, an entry that stopped after submit but before "
        "its key was stored is flagged (KEY MUST BE DELETED AND RECREATED / CHECK THE EXCHANGE) "
        "and not retried. Exit codes: 0 all ok, 1 some failed, 2 bad input (nothing opened), "
        "9 an entry is flagged, 130 interrupted."
    )
)
def batch(
    roster: Annotated[Path, typer.Argument(help="Roster: YAML (.yaml/.yml) or CSV (.csv).")],
    concurrency: Annotated[
        int, typer.Option(parser=Count(1, 16), help="Entries at once (one browser each, 1-16).")
    ] = 1,
    resume: Annotated[
        str | None, typer.Option(help="Resume this batch id (default: the roster's last batch).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start a new batch instead of resuming.")
    ] = False,
    retry: Annotated[
        list[str] | None,
        typer.Option(help="Run a flagged entry again (its key was deleted); repeatable."),
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Directory for the JSON and HTML reports.")
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    headless: Annotated[bool, typer.Option("--headless", help="No visible windows.")] = False,
    pace: Annotated[
        float, typer.Option(parser=Seconds(0, 10), help="Seconds per highlight (0-10).")
    ] = 0.6,
    auto_submit: Annotated[
        bool, typer.Option("--auto-submit", help="The agent clicks submit.")
    ] = False,
    login_timeout: Annotated[
        float, typer.Option(parser=Seconds(1), help="Seconds per login wait.")
    ] = 300,
    human_timeout: Annotated[
        float,
        typer.Option(parser=Seconds(1), help="Seconds per human step (roster may override)."),
    ] = 600,
    entry_timeout: Annotated[
        float | None,
        typer.Option(parser=Seconds(1), help="Seconds for a whole entry (roster: timeout)."),
    ] = None,
    verify: Annotated[
        bool | None,
        typer.Option("--verify/--no-verify", help="Signed REST check (default on with base_url)."),
    ] = None,
    flow: Annotated[str, typer.Option(help="Flow name or path.")] = "okx",
    recipient: Annotated[
        list[str] | None, typer.Option("--recipient", help="age recipient; repeatable.")
    ] = None,
    sink: Annotated[
        str,
        typer.Option(
            parser=_batch_sink_value,
            metavar="[vault|keyring|okx-toml:PREFIX]",
            autocompletion=_sink_choices,
            help="Where the keys go: vault (default), keyring, or okx-toml:PREFIX (the vault, "
            "then profile PREFIX-<entry id> in OKX's config.toml once the entry's checks pass).",
        ),
    ] = "vault",
    operator_codes: Annotated[
        bool,
        typer.Option(
            "--operator-codes",
            help="Read `<entry> <code>` lines at the terminal for code_prompt factors.",
        ),
    ] = False,
    browser_ws: Annotated[
        str | None,
        typer.Option(
            help="Playwright browser server for entries that name no profile, cdp or "
            "browser_ws of their own (roster: browser_ws)."
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="The clients agreed to the roster's sub_accounts_via: rest keys (required "
            "for them).",
        ),
    ] = False,
) -> None:
    """Onboard many accounts from a roster: N at once, journaled, resumable, with reports."""
    from agent.cli_batch import run_batch_command

    raise typer.Exit(
        run_batch_command(
            roster,
            concurrency,
            resume,
            fresh,
            list(retry or []),
            report,
            json_out,
            headless,
            pace,
            auto_submit,
            login_timeout,
            human_timeout,
            entry_timeout,
            verify,
            flow,
            list(recipient or []),
            sink,
            operator_codes,
            browser_ws,
            yes,
        )
    )


@app.command(
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
    from agent.cli_tools import doctor_cmd

    raise typer.Exit(doctor_cmd(json_out, base_url, flows, fixtures, timeout))


@app.command(
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
    flow: Annotated[str, typer.Option(help="Flow name or path.")] = "okx",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing set.")] = False,
    step_timeout: Annotated[
        float, typer.Option(parser=Seconds(1), help="--drive: seconds per step.")
    ] = 15,
) -> None:
    """Record a fixture set: a redacted snapshot of every page the flow passes through."""
    from agent.cli_tools import record_cmd

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


def main() -> None:
    """The CLI. A setting that cannot be used (ONBOARD_HOME a file, say) is one line, exit 2,
    whichever command met it first."""
    import os

    from agent.config import ConfigError

    if os.environ.get("_ONBOARD_COMPLETE"):  # a shell asking `onboard completion`'s script
        from typer.completion import completion_init

        completion_init()  # typer's bash/zsh/fish classes (add_completion=False skips this)
    try:
        app(prog_name="onboard", standalone_mode=True)
    except ConfigError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise SystemExit(int(exc.code)) from None


if __name__ == "__main__":
    main()
