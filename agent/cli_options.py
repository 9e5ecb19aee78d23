"""The command line's options, declared once: the value parsers (bounded seconds and counts,
`--sink`) and a typer `Annotated` alias per option, so `run`, `batch`, `demo` and the rest
name an option by its alias and hold no declaration of their own.

An option several commands take is one declaration (flag names, parser, metavar, completion)
made by one function here; where the commands word its help differently (`run` explains at
length, `batch` in a few words), each wording is an alias built by that same function, side by
side. Standard library and typer only: `agent.cli` imports this at start-up and `onboard
--help` stays instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.choices import Factor, SinkKind, Site, parse_sink


# -- parsers -------------------------------------------------------------------------
def Seconds(lo: float, hi: float | None = None) -> Callable[[str | float], float]:
    """A parser for a number of seconds within [lo, hi], and finite: `nan` or `inf` would
    mean no bound at all."""
    return _bounded(lo, hi, whole=False)  # type: ignore[return-value]


def Count(lo: int, hi: int) -> Callable[[str | int], int]:
    """A parser for a whole number within [lo, hi]."""
    return _bounded(lo, hi, whole=True)  # type: ignore[return-value]


def _bounded(lo: float, hi: float | None, whole: bool) -> Callable[[str | float], float | int]:
    def parse(value: str | float) -> float | int:
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


def sink_value(text: str) -> str:
    """`--sink`: one of the kinds, `okx-toml` with its profile name; checked by the parser so
    help lists the choices and a typo is refused before anything starts."""
    try:
        return str(parse_sink(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def batch_sink_value(text: str) -> str:
    """`batch --sink`: as `run --sink`, but never stdout (many keys, unattended); okx-toml:NAME
    names a prefix, each entry's profile being NAME-<entry id>."""
    spec = parse_sink(sink_value(text))
    if spec.kind is SinkKind.STDOUT:
        raise typer.BadParameter(
            f"{text!r}: a batch never prints keys; use vault, keyring or okx-toml:PREFIX"
        )
    return str(spec)


def sink_choices(incomplete: str) -> list[str]:
    return [c for c in ("vault", "keyring", "stdout", "okx-toml:") if c.startswith(incomplete)]


# -- one declaration per option ------------------------------------------------------
def _flag(name: str, help: str) -> Any:
    """An off-unless-given switch, `--name` alone."""
    return typer.Option(name, help=help)


def _json(help: str) -> Any:
    return typer.Option("--json", help=help)


def _pace(help: str) -> Any:
    return typer.Option(parser=Seconds(0, 10), help=help)


def _seconds(help: str) -> Any:
    return typer.Option(parser=Seconds(1), help=help)


def _verify(help: str) -> Any:
    return typer.Option("--verify/--no-verify", help=help)


def _plain(help: str) -> Any:
    return typer.Option(help=help)


def _recipient(help: str) -> Any:
    return typer.Option("--recipient", help=help)


def _sink(parser: Callable[[str], str], metavar: str, help: str) -> Any:
    return typer.Option(parser=parser, metavar=metavar, autocompletion=sink_choices, help=help)


# -- run and batch: the same options, each command's wording -----------------------------------
Headless = Annotated[bool, _flag("--headless", "No visible window (tests, ops).")]
BatchHeadless = Annotated[bool, _flag("--headless", "No visible windows.")]
RunPace = Annotated[float, _pace("Seconds each highlight stays before the agent moves on (0-10).")]
Pace = Annotated[float, _pace("Seconds per highlight (0-10).")]  # batch, demo
AutoSubmit = Annotated[
    bool,
    _flag(
        "--auto-submit",
        "The agent clicks the submit button after the audit (default: the human does).",
    ),
]
BatchAutoSubmit = Annotated[bool, _flag("--auto-submit", "The agent clicks submit.")]
LoginTimeout = Annotated[float, _seconds("Seconds to wait for the client to log in.")]
BatchLoginTimeout = Annotated[float, _seconds("Seconds per login wait.")]
HumanTimeout = Annotated[float, _seconds("Seconds to wait for each human step.")]
BatchHumanTimeout = Annotated[float, _seconds("Seconds per human step (roster may override).")]
Verify = Annotated[
    bool | None,
    _verify("Signed REST check of the stored key at the end (default: on with --base-url)."),
]
BatchVerify = Annotated[bool | None, _verify("Signed REST check (default on with base_url).")]
RunFlow = Annotated[str, _plain("Flow name in flows/ or a path to a flow YAML.")]
Flow = Annotated[str, _plain("Flow name or path.")]  # batch, record
RunJson = Annotated[bool, _json("Print one machine-readable JSON result on stdout.")]
BatchJson = Annotated[bool, _json("Print a JSON summary on stdout.")]
Recipients = Annotated[
    list[str] | None,
    _recipient(
        "age recipient (age1...) to encrypt to; repeatable; default ONBOARD_RECIPIENTS. "
        "This machine then needs no identity and cannot read back what it stored."
    ),
]
BatchRecipients = Annotated[list[str] | None, _recipient("age recipient; repeatable.")]
Sink = Annotated[
    str,
    _sink(
        sink_value,
        "[vault|keyring|stdout|okx-toml:NAME]",
        "Where credentials go: vault (age-encrypted, default); keyring (OS keychain); "
        "stdout (plaintext JSON; needs --reveal); okx-toml:NAME (the vault, then profile "
        "NAME in OKX's ~/.okx/config.toml once the checks pass).",
    ),
]
BatchSink = Annotated[
    str,
    _sink(
        batch_sink_value,
        "[vault|keyring|okx-toml:PREFIX]",
        "Where the keys go: vault (default), keyring, or okx-toml:PREFIX (the vault, "
        "then profile PREFIX-<entry id> in OKX's config.toml once the entry's checks pass).",
    ),
]
BrowserWs = Annotated[
    str | None,
    _plain(
        "Use a browser a remote Playwright server launches (`playwright run-server`), "
        "e.g. wss://10.0.0.5:3000/: a fresh context, no profile, so the login wait applies."
    ),
]
BatchBrowserWs = Annotated[
    list[str] | None,
    typer.Option(
        metavar="URL",
        help="Playwright browser server (`playwright run-server`) for entries that name no "
        "profile, cdp or browser_ws of their own; repeat it for a pool the batch spreads "
        "them over (health-checked first; an entry whose server dies before submit runs "
        "again on another). Roster: browser_pool.",
    ),
]
AllowPrivateIp = Annotated[  # run, subkeys
    bool, _flag("--allow-private-ip", "Accept loopback/private IPs (test setups only).")
]
RecordBaseUrl = Annotated[  # verify, subkeys
    str | None, _plain("Exchange base URL instead of the record's (the replica).")
]

# -- run only -------------------------------------------------------------------------
Label = Annotated[str, _plain("API key name to create, e.g. ICG-MM.")]
Ips = Annotated[
    list[str], typer.Option("--ip", help="IP for the allowlist; repeat for each (max 20).")
]
RunSite = Annotated[Site, _plain("Regional site (its origins are in flows/okx.yaml).")]
BaseUrl = Annotated[
    str | None, _plain("Test target instead of OKX (the replica); joins the origin allowlist.")
]
SubAccounts = Annotated[
    list[str] | None,
    _plain(
        "Create the key for this sub-account; repeat it for one key per sub-account, "
        "drafted together and submitted at once (one verification)."
    ),
]
Demo = Annotated[
    bool,
    _flag(
        "--demo",
        "A demo-trading key: OKX's demo key page; the record says demo and is "
        "verified with the x-simulated-trading header.",
    ),
]
Profile = Annotated[
    str | None, _plain("Persistent browser profile for this client (kept 0700 in the data dir).")
]
Cdp = Annotated[
    str | None, _plain("Attach to the client's running Chrome, e.g. http://127.0.0.1:9222.")
]
Channel = Annotated[str | None, _plain("Browser channel, e.g. chrome or msedge.")]
Executable = Annotated[str | None, _plain("Browser executable path.")]
PassphraseEnv = Annotated[
    str | None,
    _plain("Take the passphrase from this environment variable (default: generate one)."),
]
PassphrasePrompt = Annotated[
    bool, _flag("--passphrase-prompt", "The client types the passphrase at a hidden prompt.")
]
TotpSecretEnv = Annotated[
    str | None, _plain("Env var holding the authenticator secret (firm-owned accounts only).")
]
SmsCodeCmd = Annotated[str | None, _plain("Command that prints the SMS code.")]
EmailCodeCmd = Annotated[str | None, _plain("Command that prints the email code.")]
CodePrompt = Annotated[
    list[Factor] | None, _plain("Factor the operator types at the terminal; repeatable.")
]
Trace = Annotated[
    bool, _flag("--trace", "Record a Playwright trace (paused while secrets are on the page).")
]
Record = Annotated[
    Path | None,
    _plain(
        "Also save each stage the flow passes through as a redacted fixture set in "
        "this new directory, e.g. fixtures/okx/2026-12-01-global (see `onboard record`)."
    ),
]
Reveal = Annotated[bool, _flag("--reveal", "Allow --sink stdout to print the secret in clear.")]

# -- batch only -----------------------------------------------------------------------
Roster = Annotated[Path, typer.Argument(help="Roster: YAML (.yaml/.yml) or CSV (.csv).")]
Concurrency = Annotated[
    int,
    typer.Option(
        parser=Count(1, 16), help="Entries at once (1-16; one shared browser, a context each)."
    ),
]
Resume = Annotated[str | None, _plain("Resume this batch id (default: the roster's last batch).")]
Fresh = Annotated[bool, _flag("--fresh", "Start a new batch instead of resuming.")]
Retry = Annotated[
    list[str] | None, _plain("Run a flagged entry again (its key was deleted); repeatable.")
]
ReportDir = Annotated[Path | None, _plain("Directory for the JSON and HTML reports.")]
EntryTimeout = Annotated[float | None, _seconds("Seconds for a whole entry (roster: timeout).")]
OperatorCodes = Annotated[
    bool,
    _flag(
        "--operator-codes", "Read `<entry> <code>` lines at the terminal for code_prompt factors."
    ),
]
Yes = Annotated[
    bool,
    _flag(
        "--yes",
        "The clients agreed to the roster's sub_accounts_via: rest keys (required for them).",
    ),
]
