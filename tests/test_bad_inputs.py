"""Bad input to every command that takes some: the exact one-line refusal, its exit code, and
nothing opened.

Each table row is one case: a command line (plus environment, plus a roster file's content for
`batch`) and the whole stderr line expected. The CLI runs in-process (typer's CliRunner on
agent.cli.app) with its own ONBOARD_HOME and none of the caller's ONBOARD_* variables, and with
Playwright replaced by a tripwire, so a case that would start a browser fails instead of
starting one; no `runs/` or `profiles/` directory may appear under ONBOARD_HOME either. A bad
option value (`--pace nan`), which typer checks, is one line too (not typer's usage box). A few
cases run as real subprocesses (tests.helpers.onboard), as a user runs them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import playwright.sync_api
import pytest
from click.testing import Result
from typer.testing import CliRunner

import agent.session
from agent.cli import app
from tests.helpers import onboard

# 203.0.113.7 is a documentation address (RFC 5737): it needs --allow-private-ip, as on a test setup.
OK = ["--label", "ICG-MM", "--ip", "203.0.113.7", "--allow-private-ip", "--headless", "--pace", "0"]
LABEL_CHARS = "has characters the exchange refuses (letters, numbers, spaces, - _ .)"
PRIV = "cannot reach OKX from the firm's servers (use the public address, or --allow-private-ip for test setups)"
SECRET_REF = (
    "secrets never go in a roster (reference them: totp_secret_env, sms_code_cmd, email_code_cmd)"
)
CREDS = "credentials in the URL (user:password@) are refused; they would be printed and logged"
B32 = "JBSWY3DPEHPK3PXP"  # a TOTP secret's shape (the RFC's example seed)
UUID = "5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01"
HEX32 = "9A1F3C5E7B2D4F6A8C0E1B3D5F7A9C2E"
FAST = 15.0  # seconds: a refusal is checks only (in-process, it takes milliseconds)


@dataclass
class Ran:
    """One in-process run: the result, where its data directory was, how long it took."""

    result: Result
    home: Path
    seconds: float


class BrowserStarted(AssertionError):
    """Raised in place of Playwright: a case reached the point of starting a browser."""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """Runs `onboard ARGS` in-process; `{tmp}` in an argument or variable is this test's tmp dir."""

    def tripwire(*_a: Any, **_k: Any) -> Any:
        raise BrowserStarted("a browser was about to start")

    monkeypatch.setattr(playwright.sync_api, "sync_playwright", tripwire)
    monkeypatch.setattr(agent.session, "sync_playwright", tripwire)
    monkeypatch.chdir(tmp_path)

    def run(args: list[str], env: dict[str, str] | None = None) -> Ran:
        fill = {"{tmp}": str(tmp_path)}
        args = [_fill(a, fill) for a in args]
        extra = {k: _fill(v, fill) for k, v in (env or {}).items()}
        full: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ONBOARD_")}
        full.update(DISPLAY=None, FORCE_COLOR=None, NO_COLOR="1", COLUMNS="200", TERM="dumb")
        full["ONBOARD_HOME"] = str(tmp_path / "home")
        full.update(extra)
        start = time.monotonic()
        result = CliRunner().invoke(app, args, env=full)
        return Ran(result, Path(full["ONBOARD_HOME"] or ""), time.monotonic() - start)

    return run


def _fill(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace(k, v)
    return text


def assert_refused(ran: Ran, line: str, code: int = 2) -> None:
    """Exactly `line` on stderr, nothing on stdout, exit `code`, no traceback, nothing opened."""
    res = ran.result
    crash = res.exception if not isinstance(res.exception, SystemExit) else None
    assert crash is None, f"{type(crash).__name__}: {crash}"
    assert res.stderr.splitlines() == [line]
    assert res.stdout == ""
    assert res.exit_code == code
    assert_nothing_opened(ran.home, ran.seconds)


def assert_nothing_opened(home: Path, seconds: float) -> None:
    if home.is_dir():
        assert not (home / "runs").exists()
        assert not (home / "profiles").exists()
    assert seconds < FAST


def assert_usage_line(ran: Ran, option: str, problem: str) -> None:
    """Typer's refusal of a bad option value, as one line like every other refusal (it was
    typer's five-line usage box: agent.cli.OneLineErrors)."""
    res = ran.result
    assert res.exit_code == 2
    said = problem.replace("Value error, ", "").rstrip(".")
    assert res.stderr.splitlines() == [res.stderr.rstrip("\n")], res.stderr
    assert res.stderr.startswith(f"error: Invalid value for '{option}': {said} (see `onboard ")
    assert res.stderr.endswith(" -h`)\n")
    assert res.stdout == ""
    assert_nothing_opened(ran.home, ran.seconds)


# -- onboard run -------------------------------------------------------------------------------
# (id, arguments after `run`, environment, the whole stderr line)
RUN: list[tuple[str, list[str], dict[str, str], str]] = [
    # the browser to launch
    (
        "executable-dir",
        [*OK, "--executable", "/etc"],
        {},
        "error: --executable /etc: a directory, not a browser executable",
    ),
    (
        "executable-not-exec",
        [*OK, "--executable", "/etc/passwd"],
        {},
        "error: --executable /etc/passwd: not executable (no execute permission)",
    ),
    (
        "executable-missing",
        [*OK, "--executable", "/nonexistent/chrome"],
        {},
        "error: --executable /nonexistent/chrome: no such file",
    ),
    # the environment
    (
        "recipients-not-json",
        OK,
        {"ONBOARD_RECIPIENTS": "age1notjson"},
        "error: not an age recipient: age1notjson…",
    ),
    (
        "recipients-two-not-json",
        OK,
        {"ONBOARD_RECIPIENTS": "age1one,age1two"},
        "error: not an age recipient: age1one…",
    ),
    (
        "recipients-broken-json",
        OK,
        {"ONBOARD_RECIPIENTS": '["age1'},
        "error: ONBOARD_RECIPIENTS is not a JSON list (Unterminated string starting at: line 1 "
        "column 2): give '[\"age1...\"]' or keys separated by commas",
    ),
    (
        "recipients-json-object",
        OK,
        {"ONBOARD_RECIPIENTS": '{"a": "age1x"}'},
        "error: ONBOARD_RECIPIENTS is not a JSON list of strings: give '[\"age1...\"]' or keys "
        "separated by commas",
    ),
    (
        "recipients-json-numbers",
        OK,
        {"ONBOARD_RECIPIENTS": "[1, 2]"},
        "error: ONBOARD_RECIPIENTS is not a JSON list of strings: give '[\"age1...\"]' or keys "
        "separated by commas",
    ),
    (
        "home-is-a-file",
        OK,
        {"ONBOARD_HOME": "/etc/passwd"},
        "error: data directory /etc/passwd (ONBOARD_HOME): not a directory",
    ),
    (
        "home-under-a-file",
        OK,
        {"ONBOARD_HOME": "/etc/passwd/onboard"},
        "error: data directory /etc/passwd/onboard (ONBOARD_HOME): /etc/passwd is not a directory",
    ),
    (
        "home-cannot-be-made",
        OK,
        {"ONBOARD_HOME": "/sys/onboard-home"},
        "error: data directory /sys/onboard-home (ONBOARD_HOME): cannot write in /sys "
        "(Permission denied)",
    ),
    # URLs: test target, client's Chrome, browser server
    (
        "base-url-port-99999",
        [*OK, "--base-url", "http://127.0.0.1:99999"],
        {},
        "error: --base-url 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "base-url-port-negative",
        [*OK, "--base-url", "http://127.0.0.1:-1"],
        {},
        "error: --base-url 'http://127.0.0.1:-1' is not a valid URL",
    ),
    (
        "base-url-file",
        [*OK, "--base-url", "file:///etc/passwd"],
        {},
        "error: --base-url 'file:///etc/passwd' is not an http(s) URL",
    ),
    (
        "base-url-ftp",
        [*OK, "--base-url", "ftp://127.0.0.1"],
        {},
        "error: --base-url 'ftp://127.0.0.1' is not an http(s) URL",
    ),
    (
        "base-url-no-host",
        [*OK, "--base-url", "http://"],
        {},
        "error: --base-url 'http://' is not an http(s) URL",
    ),
    (
        "base-url-userinfo",
        [*OK, "--base-url", "http://ops:hunter2@127.0.0.1:8700"],
        {},
        f"error: --base-url 'http://127.0.0.1:8700': {CREDS}",
    ),
    (
        "base-url-path",
        [*OK, "--base-url", "http://127.0.0.1:8700/account"],
        {},
        "error: --base-url 'http://127.0.0.1:8700/account' must be an origin only (no path or query)",
    ),
    (
        "base-url-query",
        [*OK, "--base-url", "http://127.0.0.1:8700?x=1"],
        {},
        "error: --base-url 'http://127.0.0.1:8700?x=1' must be an origin only (no path or query)",
    ),
    (
        "base-url-plain-http-remote",
        [*OK, "--base-url", "http://okx.example.invalid"],
        {},
        "error: --base-url http://okx.example.invalid: plain http:// to another host would carry "
        "the new key's secret unencrypted; use https:// or an SSH tunnel to a loopback port",
    ),
    (
        "base-url-bad-ipv6",
        [*OK, "--base-url", "http://[::1"],
        {},
        "error: --base-url is not a valid URL (Invalid IPv6 URL)",
    ),
    (
        "cdp-bad-ipv6",
        [*OK, "--cdp", "http://ops:pw@[::1:9222"],
        {},
        "error: --cdp '[::1:9222' is not a valid URL",  # (never the user info)
    ),
    (
        "cdp-port-99999",
        [*OK, "--cdp", "http://127.0.0.1:99999"],
        {},
        "error: --cdp 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "cdp-userinfo",
        [*OK, "--cdp", "http://ops:pw@127.0.0.1:9222"],
        {},
        f"error: --cdp 'http://127.0.0.1:9222': {CREDS}",
    ),
    (
        "cdp-ftp",
        [*OK, "--cdp", "ftp://127.0.0.1:9222"],
        {},
        "error: --cdp 'ftp://127.0.0.1:9222' is not a URL like http://127.0.0.1:9222",
    ),
    (
        "cdp-bare-port",
        [*OK, "--cdp", "9222"],
        {},
        "error: --cdp '9222' is not a URL like http://127.0.0.1:9222",
    ),
    (
        "browser-ws-http",
        [*OK, "--browser-ws", "http://127.0.0.1:3000/"],
        {},
        "error: --browser-ws 'http://127.0.0.1:3000/' is not a Playwright browser server URL like "
        "ws://127.0.0.1:3000/ (ws:// or wss://)",
    ),
    (
        "browser-ws-userinfo",
        [*OK, "--browser-ws", "ws://ops:pw@127.0.0.1:3000/"],
        {},
        f"error: --browser-ws 'ws://127.0.0.1:3000/': {CREDS}",
    ),
    (
        "browser-ws-plain-remote",
        [*OK, "--browser-ws", "ws://grid.example.invalid:3000/"],
        {},
        "error: --browser-ws ws://grid.example.invalid:3000/: plain ws:// to another host would "
        "carry the new key's secret unencrypted; use wss:// or an SSH tunnel to a loopback port",
    ),
    (
        "browser-ws-port-99999",
        [*OK, "--browser-ws", "ws://127.0.0.1:99999/"],
        {},
        "error: --browser-ws 'ws://127.0.0.1:99999/' is not a valid URL",
    ),
    (
        "cdp-and-browser-ws",
        [*OK, "--cdp", "http://127.0.0.1:9222", "--browser-ws", "ws://127.0.0.1:3000/"],
        {},
        "error: give only one of --cdp and --browser-ws",
    ),
    (
        "profile-and-browser-ws",
        [*OK, "--profile", "acme", "--browser-ws", "ws://127.0.0.1:3000/"],
        {},
        "error: give only one of --profile and --browser-ws (a remote browser has no local "
        "profile: it gets a fresh context)",
    ),
    (
        "profile-dotdot",
        [*OK, "--profile", "../acme"],
        {},
        "error: --profile '../acme': use letters, digits, '.', '_' or '-' (max 64)",
    ),
    (
        "profile-65",
        [*OK, "--profile", "p" * 65],
        {},
        f"error: --profile '{'p' * 65}': use letters, digits, '.', '_' or '-' (max 64)",
    ),
    # where verification codes come from
    (
        "sms-cmd-missing-program",
        [*OK, "--sms-code-cmd", "no-such-sms-reader --last"],
        {},
        "error: --sms-code-cmd: program 'no-such-sms-reader' not found on PATH",
    ),
    (
        "email-cmd-missing-program",
        [*OK, "--email-code-cmd", "no-such-mail-reader"],
        {},
        "error: --email-code-cmd: program 'no-such-mail-reader' not found on PATH",
    ),
    (
        "sms-cmd-not-executable",
        [*OK, "--sms-code-cmd", "/etc/passwd"],
        {},
        "error: --sms-code-cmd: /etc/passwd is not an executable file",
    ),
    (
        "sms-cmd-directory",
        [*OK, "--sms-code-cmd", "/etc"],
        {},
        "error: --sms-code-cmd: /etc is not an executable file",
    ),
    (
        "sms-cmd-missing-path",
        [*OK, "--sms-code-cmd", "./sms.sh"],
        {},
        "error: --sms-code-cmd: ./sms.sh is not an executable file",
    ),
    (
        "sms-cmd-unclosed-quote",
        [*OK, "--sms-code-cmd", "echo 'x"],
        {},
        "error: --sms-code-cmd: No closing quotation",
    ),
    ("email-cmd-empty", [*OK, "--email-code-cmd", ""], {}, "error: --email-code-cmd is empty"),
    ("sms-cmd-blank", [*OK, "--sms-code-cmd", "   "], {}, "error: --sms-code-cmd is empty"),
    (
        "totp-env-not-base32",
        [*OK, "--totp-secret-env", "T_SEED"],
        {"T_SEED": "hello!"},
        "error: --totp-secret-env T_SEED: not a base32 TOTP secret",
    ),
    (
        "totp-env-empty",
        [*OK, "--totp-secret-env", "T_SEED"],
        {"T_SEED": ""},
        "error: --totp-secret-env T_SEED: that variable is not set",
    ),
    # the key: label, IPs, sub-accounts, passphrase
    (
        "label-10k",
        ["--label", "A" * 10_000, *OK[2:]],
        {},
        "error: --label is 10000 characters; the exchange allows 50",
    ),
    (
        "label-10k-base32",
        ["--label", B32 * 625, *OK[2:]],
        {},
        "error: --label is 10000 characters; the exchange allows 50",
    ),
    (
        "label-totp-seed",
        ["--label", B32, *OK[2:]],
        {},
        "error: --label looks like a TOTP secret (16+ base32 characters); a key's name is shown in "
        "clear everywhere: give a name, not a secret",
    ),
    (
        "label-api-key",
        ["--label", UUID, *OK[2:]],
        {},
        "error: --label looks like an API key (a UUID); a key's name is shown in clear everywhere: "
        "give a name, not a secret",
    ),
    (
        "label-api-secret",
        ["--label", HEX32, *OK[2:]],
        {},
        "error: --label looks like an API secret (32 hex characters); a key's name is shown in "
        "clear everywhere: give a name, not a secret",
    ),
    ("label-slash", ["--label", "ICG/MM", *OK[2:]], {}, f"error: --label 'ICG/MM' {LABEL_CHARS}"),
    (
        "label-newline",
        ["--label", "ICG\nMM", *OK[2:]],
        {},
        f"error: --label 'ICG\\nMM' {LABEL_CHARS}",
    ),
    (
        "ip-loopback",
        ["--label", "ICG-MM", "--ip", "127.0.0.1"],
        {},
        f"error: loopback IP address 127.0.0.1 {PRIV}",
    ),
    # documentation addresses (RFC 5737, RFC 3849) are examples: refused without the flag
    (
        "ip-documentation",
        ["--label", "ICG-MM", "--ip", "203.0.113.7", "--headless", "--pace", "0"],
        {},
        f"error: documentation-range IP address 203.0.113.7 {PRIV}",
    ),
    (
        "ip-documentation-v6",
        ["--label", "ICG-MM", "--ip", "2001:db8::7", "--headless", "--pace", "0"],
        {},
        f"error: documentation-range IP address 2001:db8::7 {PRIV}",
    ),
    (
        "ip-cidr",
        ["--label", "ICG-MM", "--ip", "203.0.113.0/24"],
        {},
        "error: IP ranges are not accepted: 203.0.113.0/24 (give single addresses)",
    ),
    (
        "ip-hostname",
        ["--label", "ICG-MM", "--ip", "okx.com"],
        {},
        "error: not an IPv4 or IPv6 address: okx.com",
    ),
    (
        "ip-mapped",
        ["--label", "ICG-MM", "--ip", "::ffff:203.0.113.7"],
        {},
        "error: IPv4-mapped IPv6 address: ::ffff:203.0.113.7 (give 203.0.113.7 instead)",
    ),
    (
        "ip-twice",
        ["--label", "ICG-MM", "--ip", "203.0.113.7", "--ip", "203.0.113.7", "--allow-private-ip"],
        {},
        "error: duplicate IP address: 203.0.113.7",
    ),
    (
        "ip-21",
        [
            "--label",
            "ICG-MM",
            "--allow-private-ip",
            *[a for i in range(21) for a in ("--ip", f"203.0.113.{i}")],
        ],
        {},
        "error: 21 IP addresses given; the exchange allows at most 20",
    ),
    (
        "sub-account-twice",
        [*OK, "--sub-account", "s1", "--sub-account", "s1"],
        {},
        "error: --sub-account 's1' is given twice",
    ),
    (
        "sub-account-space",
        [*OK, "--sub-account", "not ok"],
        {},
        "error: --sub-account 'not ok' is not a valid sub-account name",
    ),
    (
        "sub-accounts-11",
        [*OK, *[a for i in range(11) for a in ("--sub-account", f"s{i}")]],
        {},
        "error: 11 sub-accounts given; one submission takes at most 10 keys",
    ),
    (
        "passphrase-env-and-prompt",
        [*OK, "--passphrase-env", "PP", "--passphrase-prompt"],
        {},
        "error: give only one of --passphrase-env and --passphrase-prompt",
    ),
    (
        "passphrase-with-space",
        [*OK, "--passphrase-env", "PP"],
        {"PP": "Abc 123!xyZ"},
        "error: passphrase must have no spaces",
    ),
    # where the credentials go, what else is written
    (
        "sink-stdout-and-json",
        [*OK, "--sink", "stdout", "--json"],
        {},
        "error: --sink stdout and --json both write to stdout: choose one",
    ),
    ("recipient-bad", [*OK, "--recipient", "age1bad"], {}, "error: not an age recipient: age1bad…"),
    (
        "record-into-a-file",
        [*OK, "--record", "/etc/hostname"],
        {},
        "error: --record /etc/hostname: already holds files (pick a new set name)",
    ),
    (
        "flow-not-yaml",
        [*OK, "--flow", "/etc/passwd"],
        {},
        "error: no flow named '/etc/passwd' (known: okx; or give a path to a .yaml file)",
    ),
]


@pytest.mark.parametrize(("args", "env", "line"), [pytest.param(*c[1:], id=c[0]) for c in RUN])
def test_run_refuses(
    cli: Callable[..., Ran], args: list[str], env: dict[str, str], line: str
) -> None:
    assert_refused(cli(["run", *args], env), line)


# Typer's checks of option values, said in one line: (id, command line, the option, the problem)
BOXES: list[tuple[str, list[str], str, str]] = [
    ("run-pace-nan", ["run", *OK[:5], "--pace", "nan"], "--pace", "'nan' is not a finite number"),
    ("run-pace-inf", ["run", *OK[:5], "--pace", "inf"], "--pace", "'inf' is not a finite number"),
    (
        "run-pace-neg-inf",
        ["run", *OK[:5], "--pace", "-inf"],
        "--pace",
        "'-inf' is not a finite number",
    ),
    (
        "run-pace-11",
        ["run", *OK[:5], "--pace", "11"],
        "--pace",
        "'11': give a number between 0 and 10",
    ),
    ("run-pace-word", ["run", *OK[:5], "--pace", "slow"], "--pace", "'slow' is not a number"),
    (
        "run-login-timeout-nan",
        ["run", *OK, "--login-timeout", "nan"],
        "--login-timeout",
        "'nan' is not a finite number",
    ),
    (
        "run-login-timeout-0",
        ["run", *OK, "--login-timeout", "0"],
        "--login-timeout",
        "'0': give a number at least 1",
    ),
    (
        "run-human-timeout-inf",
        ["run", *OK, "--human-timeout", "inf"],
        "--human-timeout",
        "'inf' is not a finite number",
    ),
    (
        "run-human-timeout-NaN",
        ["run", *OK, "--human-timeout", "NaN"],
        "--human-timeout",
        "'NaN' is not a finite number",
    ),
    (
        "batch-pace-nan",
        ["batch", "r.yaml", "--pace", "nan"],
        "--pace",
        "'nan' is not a finite number",
    ),
    (
        "batch-concurrency-0",
        ["batch", "r.yaml", "--concurrency", "0"],
        "--concurrency",
        "'0': give a whole number between 1 and 16",
    ),
    (
        "batch-concurrency-inf",
        ["batch", "r.yaml", "--concurrency", "inf"],
        "--concurrency",
        "'inf' is not a whole number",
    ),
    (
        "batch-entry-timeout-nan",
        ["batch", "r.yaml", "--entry-timeout", "nan"],
        "--entry-timeout",
        "'nan' is not a finite number",
    ),
    (
        "batch-login-timeout-inf",
        ["batch", "r.yaml", "--login-timeout", "inf"],
        "--login-timeout",
        "'inf' is not a finite number",
    ),
    (
        "batch-human-timeout-neg-inf",
        ["batch", "r.yaml", "--human-timeout", "-inf"],
        "--human-timeout",
        "'-inf' is not a finite number",
    ),
    (
        "doctor-timeout-nan",
        ["doctor", "--timeout", "nan"],
        "--timeout",
        "'nan' is not a finite number",
    ),
    (
        "doctor-timeout-100",
        ["doctor", "--timeout", "100"],
        "--timeout",
        "'100': give a number between 0.5 and 30",
    ),
    (
        "record-step-timeout-inf",
        ["record", "--out", "set", "--step-timeout", "inf"],
        "--step-timeout",
        "'inf' is not a finite number",
    ),
    (
        "vault-export-out-dir",
        ["vault", "export", "x", "--out", "/tmp"],
        "--out' / '-o",
        "file '/tmp' is a directory.",
    ),
    # the fixed sets (agent.choices): typer checks them, help lists them, shells complete them
    (
        "run-code-prompt-phone",
        ["run", *OK, "--code-prompt", "phone"],
        "--code-prompt",
        "Value error, 'phone' is not one of 'totp', 'sms', 'email'.",
    ),
    (
        "run-site-asia",
        ["run", *OK, "--site", "asia"],
        "--site",
        "Value error, 'asia' is not one of 'global', 'eea', 'us'.",
    ),
    (
        "run-sink-bogus",
        ["run", *OK, "--sink", "email"],
        "--sink",
        "'email': use vault, keyring, stdout or okx-toml:PROFILE",
    ),
    (
        "run-sink-okx-toml-unnamed",
        ["run", *OK, "--sink", "okx-toml"],
        "--sink",
        "'okx-toml': name the profile, e.g. okx-toml:acme",
    ),
    (
        "run-sink-okx-toml-bad-name",
        ["run", *OK, "--sink", "okx-toml:a b"],
        "--sink",
        "profile 'a b': use 1-64 letters, digits, - or _, starting with a letter or digit",
    ),
    (
        "run-sink-vault-named",
        ["run", *OK, "--sink", "vault:x"],
        "--sink",
        "'vault:x': only okx-toml takes a name (okx-toml:PROFILE)",
    ),
    (
        "batch-sink-stdout",
        ["batch", "r.csv", "--sink", "stdout"],
        "--sink",
        "'stdout': a batch never prints keys; use vault, keyring or okx-toml:PREFIX",
    ),
    (
        "batch-sink-okx-toml-unnamed",
        ["batch", "r.csv", "--sink", "okx-toml"],
        "--sink",
        "'okx-toml': name the profile, e.g. okx-toml:acme",
    ),
    (
        "record-site-mars",
        ["record", "--out", "set", "--site", "mars"],
        "--site",
        "Value error, 'mars' is not one of 'global', 'eea', 'us'.",
    ),
    (
        "vault-export-format-xml",
        ["vault", "export", "r1", "--format", "xml"],
        "--format' / '-f",
        "Value error, 'xml' is not one of 'json', 'env', 'ccxt', 'okx-toml'.",
    ),
    (
        "completion-tcsh",
        ["completion", "tcsh"],
        "shell",
        "Value error, 'tcsh' is not one of 'bash', 'zsh', 'fish'.",
    ),
]


@pytest.mark.parametrize(
    ("args", "option", "problem"), [pytest.param(*c[1:], id=c[0]) for c in BOXES]
)
def test_bad_option_values_get_one_line(
    cli: Callable[..., Ran], args: list[str], option: str, problem: str
) -> None:
    assert_usage_line(cli(args), option, problem)


# -- onboard batch: options and environment -----------------------------------------------------
GOOD_ROSTER = "- id: a\n  label: ICG-A\n  ips: [203.0.113.7]\n  allow_private_ip: true\n"
# (id, arguments after `batch r.yaml` (a good roster), environment, the whole stderr line)
BATCH: list[tuple[str, list[str], dict[str, str], str]] = [
    (
        "report-is-a-file",
        ["--report", "/etc/hostname"],
        {},
        "error: --report /etc/hostname: not a directory",
    ),
    (
        "report-under-a-file",
        ["--report", "/etc/hostname/out"],
        {},
        "error: --report /etc/hostname/out: /etc/hostname is not a directory",
    ),
    (
        "report-unwritable",
        ["--report", "/sys/onboard-report"],
        {},
        "error: --report /sys/onboard-report: cannot write in /sys (Permission denied)",
    ),
    (
        "home-is-a-file",
        [],
        {"ONBOARD_HOME": "/etc/passwd"},
        "error: data directory /etc/passwd (ONBOARD_HOME): not a directory",
    ),
    (
        "recipients-broken-json",
        [],
        {"ONBOARD_RECIPIENTS": "[age1"},
        "error: ONBOARD_RECIPIENTS is not a JSON list (Expecting value: line 1 column 2): give "
        "'[\"age1...\"]' or keys separated by commas",
    ),
    (
        "resume-and-fresh",
        ["--resume", "b-1", "--fresh"],
        {},
        "error: give only one of --resume and --fresh",
    ),
    (
        "browser-ws-http",
        ["--browser-ws", "http://127.0.0.1:3000/"],
        {},
        "error: --browser-ws 'http://127.0.0.1:3000/' is not a Playwright browser server URL like "
        "ws://127.0.0.1:3000/ (ws:// or wss://)",
    ),
    (
        "browser-ws-plain-remote",
        ["--browser-ws", "ws://grid.example.invalid:3000/"],
        {},
        "error: --browser-ws ws://grid.example.invalid:3000/: plain ws:// to another host would "
        "carry the new key's secret unencrypted; use wss:// or an SSH tunnel to a loopback port",
    ),
    (
        "browser-ws-userinfo",
        ["--browser-ws", "wss://ops:pw@grid.example.invalid/"],
        {},
        f"error: --browser-ws 'wss://grid.example.invalid/': {CREDS}",
    ),
    (
        "flow-unknown",
        ["--flow", "kraken"],
        {},
        "error: no flow named 'kraken' (known: okx; or give a path to a .yaml file)",
    ),
]


@pytest.mark.parametrize(("args", "env", "line"), [pytest.param(*c[1:], id=c[0]) for c in BATCH])
def test_batch_options_refused_before_any_entry(
    cli: Callable[..., Ran], tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    (tmp_path / "r.yaml").write_text(GOOD_ROSTER)
    ran = cli(["batch", "r.yaml", "--headless", *args], env)
    assert_refused(ran, line)
    assert not (ran.home / "journal.sqlite3").exists()


ROSTER_FILES: list[tuple[str, list[str], str]] = [
    ("missing", ["batch", "{tmp}/none.yaml"], "error: {tmp}/none.yaml: no such roster file"),
    (
        "a-directory",
        ["batch", "/etc"],
        "error: /etc: cannot read the roster ([Errno 21] Is a directory: '/etc')",
    ),
    (
        "not-yaml-or-csv",
        ["batch", "/etc/hostname"],
        "error: /etc/hostname: a roster is a .yaml, .yml or .csv file",
    ),
]


@pytest.mark.parametrize(("args", "line"), [pytest.param(*c[1:], id=c[0]) for c in ROSTER_FILES])
def test_batch_roster_files_refused(
    cli: Callable[..., Ran], tmp_path: Path, args: list[str], line: str
) -> None:
    assert_refused(cli(args), line.replace("{tmp}", str(tmp_path)))


# -- onboard batch: what a roster holds ---------------------------------------------------------
# lines 1-4; a field added is line 5
E = "- id: a\n  label: ICG-A\n  ips: [203.0.113.7]\n  allow_private_ip: true\n"


def _yaml(extra: str) -> str:
    return E + extra


# (id, file name, content, the whole stderr line)
ROSTERS: list[tuple[str, str, str, str]] = [
    # timeouts: positive and finite, each field, YAML and CSV
    *[
        (
            f"yaml-{fld}-{val.strip('.-')}{'-neg' if val.startswith('-') else ''}",
            "r.yaml",
            _yaml(f"  {fld}: {val}\n"),
            f"error: r.yaml:5: a: {fld} must be a positive, finite number of seconds (got {shown})",
        )
        for fld in ("human_timeout", "login_timeout", "timeout")
        for val, shown in ((".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("0", "0.0"))
    ],
    *[
        (
            f"csv-{fld}-{val}",
            "r.csv",
            f"id,label,ips,allow_private_ip,{fld}\na,ICG-A,203.0.113.7,true,{val}\n",
            f"error: r.csv:2: a: {fld} must be a positive, finite number of seconds (got {shown})",
        )
        for fld in ("human_timeout", "login_timeout", "timeout")
        for val, shown in (("nan", "nan"), ("inf", "inf"), ("-1", "-1.0"))
    ],
    (
        "csv-timeout-Infinity",
        "r.csv",
        "id,label,ips,allow_private_ip,timeout\na,ICG-A,203.0.113.7,true,Infinity\n",
        "error: r.csv:2: a: timeout must be a positive, finite number of seconds (got inf)",
    ),
    # keys given twice, keys that are not names
    (
        "yaml-label-twice",
        "r.yaml",
        "- id: a\n  label: ICG-A\n  label: ICG-B\n  ips: [203.0.113.7]\n",
        "error: r.yaml:3: key 'label' is given twice (first on line 2)",
    ),
    (
        "yaml-ips-twice-flow",
        "r.yaml",
        "- {id: a, label: ICG-A, ips: [203.0.113.7], ips: [203.0.113.8]}\n",
        "error: r.yaml:1: key 'ips' is given twice (first on line 1)",
    ),
    (
        "yaml-entries-twice",
        "r.yaml",
        "entries: []\nentries:\n  - {id: a, label: ICG-A, ips: [203.0.113.7]}\n",
        "error: r.yaml:2: key 'entries' is given twice (first on line 1)",
    ),
    (
        "yaml-defaults-key-twice",
        "r.yaml",
        "defaults:\n  profile: acme\n  profile: beta\nentries:\n  - {id: a, label: ICG-A, ips: [203.0.113.7]}\n",
        "error: r.yaml:3: key 'profile' is given twice (first on line 2)",
    ),
    (
        "yaml-complex-key-top",
        "r.yaml",
        "? [a, b]\n: c\n",
        "error: r.yaml:1: a key must be a plain name, not a list",
    ),
    (
        "yaml-complex-key-entry",
        "r.yaml",
        "- id: a\n  ? [a, b]\n  : c\n",
        "error: r.yaml:2: a key must be a plain name, not a list",
    ),
    (
        "yaml-complex-key-defaults",
        "r.yaml",
        "defaults:\n  ? {x: 1}\n  : c\nentries:\n  - {id: a, label: ICG-A, ips: [203.0.113.7]}\n",
        "error: r.yaml:2: a key must be a plain name, not a mapping",
    ),
    (
        "csv-label-column-twice",
        "r.csv",
        "id,label,ips,label\na,ICG-A,203.0.113.7,ICG-B\n",
        "error: r.csv:1: column 'label' appears twice in the header",
    ),
    (
        "csv-label-column-twice-spaced",
        "r.csv",
        "id, label,ips,label \na,ICG-A,203.0.113.7,ICG-B\n",
        "error: r.csv:1: column 'label' appears twice in the header",
    ),
    # not YAML, not CSV, not a roster
    (
        "yaml-python-tag",
        "r.yaml",
        "- id: !!python/name:os.system a\n  label: ICG-A\n  ips: [203.0.113.7]\n",
        "error: r.yaml:1: not valid YAML (could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/name:os.system')",
    ),
    (
        "yaml-nul",
        "r.yaml",
        "- id: a\x00\n",
        "error: r.yaml:1: not valid YAML (unacceptable "
        "character #x0000: special characters are not allowed)",
    ),
    (
        "yaml-tab-indent",
        "r.yaml",
        "- id: a\n\tlabel: x\n",
        "error: r.yaml:2: not valid YAML (found character '\\t' that cannot start any token)",
    ),
    (
        "yaml-two-documents",
        "r.yaml",
        f"{E}---\n{E}",
        "error: r.yaml:5: not valid YAML (expected a single document in the stream, but found "
        "another document)",
    ),
    (
        "yaml-unclosed",
        "r.yaml",
        "- id: a\n  label: [x\n",
        "error: r.yaml:3: not valid YAML (expected ',' or ']', but got '<stream end>')",
    ),
    ("yaml-empty", "r.yaml", "", "error: r.yaml: the roster is empty"),
    ("yaml-comment-only", "r.yaml", "# nobody yet\n", "error: r.yaml: the roster is empty"),
    ("yaml-scalar", "r.yaml", "acme\n", "error: r.yaml:1: the entries must be a YAML list"),
    (
        "yaml-unknown-top",
        "r.yaml",
        "clients: []\n",
        "error: r.yaml:1: unknown top-level key "
        "'clients' (a roster is a list of entries, or 'defaults', 'entries' and 'browser_pool')",
    ),
    (
        "yaml-defaults-list",
        "r.yaml",
        "defaults: [1]\nentries: []\n",
        "error: r.yaml:1: 'defaults' must be a mapping",
    ),
    (
        "yaml-no-entries",
        "r.yaml",
        "defaults: {profile: acme}\n",
        "error: r.yaml: no 'entries' list",
    ),
    ("yaml-entries-empty", "r.yaml", "entries: []\n", "error: r.yaml: the roster has no entries"),
    (
        "yaml-entry-scalar",
        "r.yaml",
        "- acme\n",
        "error: r.yaml:1: an entry must be a mapping of fields",
    ),
    (
        "yaml-defaults-id",
        "r.yaml",
        "defaults: {id: x, allow_private_ip: true}\nentries:\n  - {label: ICG-A, ips: [203.0.113.7]}\n",
        "error: r.yaml: defaults: 'id' must be given per entry",
    ),
    ("csv-empty", "r.csv", "", "error: r.csv: the roster is empty"),
    ("csv-header-only", "r.csv", "id,label,ips\n", "error: r.csv: the roster has no entries"),
    (
        "csv-cell-over-limit",
        "r.csv",
        "id,label,ips\na," + "x" * 131_073 + ",203.0.113.7\n",
        "error: r.csv:2: not valid CSV (field larger than field limit (131072))",
    ),
    (
        "csv-more-cells",
        "r.csv",
        "id,label,ips,allow_private_ip\na,ICG-A,203.0.113.7,true,extra\n",
        "error: r.csv:2: more cells than columns in the header",
    ),
    (
        "csv-bom-then-bad-ip",
        "r.csv",
        "\ufeffid,label,ips\na,ICG-A,10.0.0.1\n",
        f"error: r.csv:2: a: private IP address 10.0.0.1 {PRIV}",
    ),
    (
        "yaml-bom-then-bad-ip",
        "r.yaml",
        "\ufeff- id: a\n  label: ICG-A\n  ips: [10.0.0.2]\n",
        f"error: r.yaml:3: a: private IP address 10.0.0.2 {PRIV}",
    ),
    (
        "yaml-documentation-ip",
        "r.yaml",
        "- id: a\n  label: ICG-A\n  ips: [198.51.100.7]\n",
        f"error: r.yaml:3: a: documentation-range IP address 198.51.100.7 {PRIV}",
    ),
    (
        "csv-documentation-ip",
        "r.csv",
        "id,label,ips\na,ICG-A,2001:db8::7\n",
        f"error: r.csv:2: a: documentation-range IP address 2001:db8::7 {PRIV}",
    ),
    (
        "csv-allow-private-maybe",
        "r.csv",
        "id,label,ips,allow_private_ip\na,ICG-A,10.0.0.1,maybe\n",
        "error: r.csv:2: a: allow_private_ip: Input should be a valid boolean, unable to interpret input",
    ),
    # the label: `onboard run`'s rule, length first
    (
        "yaml-label-10k",
        "r.yaml",
        "- id: a\n  label: " + "A" * 10_000 + "\n  ips: [203.0.113.7]\n  allow_private_ip: true\n",
        "error: r.yaml:2: a: --label is 10000 characters; the exchange allows 50",
    ),
    (
        "csv-label-10k-base32",
        "r.csv",
        f"id,label,ips,allow_private_ip\na,{B32 * 625},203.0.113.7,true\n",
        "error: r.csv:2: a: --label is 10000 characters; the exchange allows 50",
    ),
    (
        "yaml-label-totp-seed",
        "r.yaml",
        f"- id: a\n  label: {B32}\n  ips: [203.0.113.7]\n  allow_private_ip: true\n",
        "error: r.yaml:2: a: --label looks like a TOTP secret (16+ base32 characters); a key's name "
        "is shown in clear everywhere: give a name, not a secret",
    ),
    (
        "csv-label-api-key",
        "r.csv",
        f"id,label,ips,allow_private_ip\na,{UUID},203.0.113.7,true\n",
        "error: r.csv:2: a: --label looks like an API key (a UUID); a key's name is shown in clear "
        "everywhere: give a name, not a secret",
    ),
    (
        "yaml-label-punctuation",
        "r.yaml",
        "- id: a\n  label: 'ICG!'\n  ips: [203.0.113.7]\n  allow_private_ip: true\n",
        f"error: r.yaml:2: a: --label 'ICG!' {LABEL_CHARS}",
    ),
    (
        "yaml-label-list",
        "r.yaml",
        "- id: a\n  label: [ICG]\n  ips: [203.0.113.7]\n",
        "error: r.yaml:2: a: label: Input should be a valid string",
    ),
    (
        "yaml-label-missing",
        "r.yaml",
        "- id: a\n  ips: [203.0.113.7]\n  allow_private_ip: true\n",
        "error: r.yaml:1: a: missing 'label'",
    ),
    # secrets, by field or by look
    (
        "yaml-totp-secret-field",
        "r.yaml",
        _yaml("  totp_secret: x\n"),
        "error: r.yaml:5: a: field 'totp_secret' would put a secret in the roster; refused (give "
        "totp_secret_env: the name of an environment variable that holds it)",
    ),
    (
        "csv-password-column",
        "r.csv",
        "id,label,ips,allow_private_ip,password\na,ICG-A,203.0.113.7,true,pw\n",
        "error: r.csv:2: a: field 'password' would put a secret in the roster; refused (the agent "
        "never types a password: the client logs in to the profile once)",
    ),
    (
        "yaml-api-key-field",
        "r.yaml",
        _yaml("  api_key: x\n"),
        "error: r.yaml:5: a: field 'api_key' would put a secret in the roster; refused (the exchange "
        "issues the key; the agent stores it encrypted)",
    ),
    (
        "yaml-profile-is-a-seed",
        "r.yaml",
        _yaml(f"  profile: {B32}\n"),
        f"error: r.yaml:5: a: profile: the value looks like a TOTP secret (16+ base32 characters); "
        f"{SECRET_REF}",
    ),
    (
        "yaml-cmd-holds-api-secret",
        "r.yaml",
        _yaml(f"  sms_code_cmd: echo {HEX32}\n"),
        f"error: r.yaml:5: a: sms_code_cmd: the value looks like an API secret (32 hex characters); "
        f"{SECRET_REF}",
    ),
    # the other fields
    (
        "yaml-unknown-field",
        "r.yaml",
        _yaml("  colour: red\n"),
        "error: r.yaml:5: a: unknown field 'colour' (known: id, label, ips, profile, cdp, browser_ws, "
        "login_state, account, sub_account, sub_accounts, site, base_url, allow_private_ip, totp_secret_env, "
        "sms_code_cmd, email_code_cmd, code_prompt, human_timeout, login_timeout, timeout, "
        "sub_accounts_via, from)",
    ),
    (
        "csv-bom-is-not-a-field",
        "r.csv",
        "\ufeffid,label,ips,allow_private_ip,colour\na,ICG-A,203.0.113.7,true,red\n",
        "error: r.csv:2: a: unknown field 'colour' (known: id, label, ips, profile, cdp, browser_ws, "
        "login_state, account, sub_account, sub_accounts, site, base_url, allow_private_ip, totp_secret_env, "
        "sms_code_cmd, email_code_cmd, code_prompt, human_timeout, login_timeout, timeout, "
        "sub_accounts_via, from)",
    ),
    (
        "yaml-id-bad",
        "r.yaml",
        "- id: 'a b'\n  label: ICG-A\n  ips: [203.0.113.7]\n  allow_private_ip: true\n",
        "error: r.yaml:1: a b: id 'a b': use letters, digits, '.', '_' or '-' (max 64)",
    ),
    (
        "yaml-id-twice",
        "r.yaml",
        E + "- id: a\n  label: ICG-B\n  ips: [203.0.113.8]\n  allow_private_ip: true\n",
        "error: r.yaml:5: id 'a' is used twice (first on line 1)",
    ),
    (
        "yaml-ips-empty",
        "r.yaml",
        "- id: a\n  label: ICG-A\n  ips: []\n",
        "error: r.yaml:3: a: give at least one IP: keys without an IP allowlist expire after 14 days "
        "and can be used from anywhere",
    ),
    (
        "yaml-ips-missing",
        "r.yaml",
        "- id: a\n  label: ICG-A\n",
        "error: r.yaml:1: a: missing 'ips': keys without an IP allowlist expire after 14 days and "
        "can be used from anywhere",
    ),
    (
        "csv-ip-range",
        "r.csv",
        "id,label,ips\na,ICG-A,203.0.113.0/24\n",
        "error: r.csv:2: a: IP ranges are not accepted: 203.0.113.0/24 (give single addresses)",
    ),
    (
        "yaml-ip-twice",
        "r.yaml",
        "- id: a\n  label: ICG-A\n  ips: [203.0.113.7, 203.0.113.7]\n  allow_private_ip: true\n",
        "error: r.yaml:3: a: duplicate IP address: 203.0.113.7",
    ),
    (
        "yaml-profile-and-cdp",
        "r.yaml",
        _yaml("  profile: acme\n  cdp: http://127.0.0.1:9222\n"),
        "error: r.yaml:6: a: give only one of profile and cdp",
    ),
    (
        "yaml-profile-slash",
        "r.yaml",
        _yaml("  profile: a/b\n"),
        "error: r.yaml:5: a: --profile 'a/b': use letters, digits, '.', '_' or '-' (max 64)",
    ),
    (
        "yaml-browser-ws-plain-remote",
        "r.yaml",
        _yaml("  browser_ws: ws://grid.example.invalid/\n"),
        "error: r.yaml:5: a: browser_ws ws://grid.example.invalid/: plain ws:// to another host "
        "would carry the new key's secret unencrypted; use wss:// or an SSH tunnel to a loopback port",
    ),
    (
        "yaml-base-url-port-99999",
        "r.yaml",
        _yaml("  base_url: http://127.0.0.1:99999\n"),
        "error: r.yaml:5: a: --base-url 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "yaml-base-url-userinfo",
        "r.yaml",
        _yaml("  base_url: https://ops:pw@okx.example.invalid\n"),
        f"error: r.yaml:5: a: --base-url 'https://okx.example.invalid': {CREDS}",
    ),
    (
        "csv-site-mars",
        "r.csv",
        "id,label,ips,allow_private_ip,site\na,ICG-A,203.0.113.7,true,mars\n",
        "error: r.csv:2: a: --site must be one of global, eea, us",
    ),
    (
        "yaml-account-twice",
        "r.yaml",
        _yaml("  account: main\n  sub_account: s1\n"),
        "error: r.yaml:6: a: give only one of account, sub_account",
    ),
    (
        "yaml-sub-accounts-11",
        "r.yaml",
        _yaml(f"  sub_accounts: [{', '.join(f's{i}' for i in range(11))}]\n"),
        "error: r.yaml:5: a: 11 sub-accounts; one submission takes at most 10 keys (split the entry)",
    ),
    (
        "yaml-sub-accounts-repeat",
        "r.yaml",
        _yaml("  sub_accounts: [s1, s1]\n"),
        "error: r.yaml:5: a: a sub-account is listed twice",
    ),
    (
        "yaml-code-prompt-phone",
        "r.yaml",
        _yaml("  code_prompt: [phone]\n"),
        "error: r.yaml:5: a: code_prompt 'phone': use totp, sms or email",
    ),
    (
        "yaml-totp-env-not-a-name",
        "r.yaml",
        _yaml("  totp_secret_env: 1-ACME\n"),
        "error: r.yaml:5: a: totp_secret_env '1-ACME' is not an environment variable name",
    ),
    (
        "yaml-totp-env-unset",
        "r.yaml",
        _yaml("  totp_secret_env: ONBOARD_TEST_UNSET_SEED\n"),
        "error: r.yaml:5: a: totp_secret_env ONBOARD_TEST_UNSET_SEED: that variable is not set",
    ),
    (
        "yaml-sms-cmd-missing-program",
        "r.yaml",
        _yaml("  sms_code_cmd: no-such-sms-reader\n"),
        "error: r.yaml:5: a: sms_code_cmd: program 'no-such-sms-reader' not found on PATH",
    ),
    (
        "csv-email-cmd-not-executable",
        "r.csv",
        "id,label,ips,allow_private_ip,email_code_cmd\na,ICG-A,203.0.113.7,true,/etc/passwd\n",
        "error: r.csv:2: a: email_code_cmd: /etc/passwd is not an executable file",
    ),
    (
        "yaml-timeout-word",
        "r.yaml",
        _yaml("  timeout: soon\n"),
        "error: r.yaml:5: a: timeout: Input should be a valid number, unable to parse string as a number",
    ),
]


@pytest.mark.parametrize(("name", "text", "line"), [pytest.param(*c[1:], id=c[0]) for c in ROSTERS])
def test_batch_roster_refused(
    cli: Callable[..., Ran], tmp_path: Path, name: str, text: str, line: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    ran = cli(["batch", name, "--headless", "--pace", "0"])
    assert_refused(ran, line)
    assert not (ran.home / "journal.sqlite3").exists()


# -- onboard verify, vault, record, doctor, replica ---------------------------------------------
# (id, command line, environment, the whole stderr line)
OTHERS: list[tuple[str, list[str], dict[str, str], str]] = [
    (
        "verify-nothing",
        ["verify"],
        {},
        "error: give record id(s) or --all (not both); `onboard vault` lists records",
    ),
    (
        "verify-ids-and-all",
        ["verify", "r1", "--all"],
        {},
        "error: give record id(s) or --all (not both); `onboard vault` lists records",
    ),
    (
        "verify-unknown-id",
        ["verify", "r1"],
        {},
        "error: no record 'r1' in the vault at {home}/vault",
    ),
    (
        "verify-unknown-id-recipients-not-json",
        ["verify", "r1"],
        {"ONBOARD_RECIPIENTS": "age1x"},
        "error: no record 'r1' in the vault at {home}/vault",
    ),
    (
        "verify-base-url-file",
        ["verify", "r1", "--base-url", "file:///etc/passwd"],
        {},
        "error: --base-url 'file:///etc/passwd' is not an http(s) URL",
    ),
    (
        "verify-base-url-plain-remote",
        ["verify", "r1", "--base-url", "http://okx.example.invalid"],
        {},
        "error: --base-url http://okx.example.invalid: plain http:// to another host would "
        "carry the API key and passphrase unencrypted; use https:// or an SSH tunnel to a loopback port",
    ),
    (
        "verify-base-url-userinfo",
        ["verify", "r1", "--base-url", "https://u:p@okx.example.invalid"],
        {},
        f"error: --base-url 'https://okx.example.invalid': {CREDS}",
    ),
    (
        "verify-base-url-port-99999",
        ["verify", "r1", "--base-url", "http://127.0.0.1:99999"],
        {},
        "error: --base-url 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "verify-proxy-ftp",
        ["verify", "r1", "--proxy", "ftp://127.0.0.1:21"],
        {},
        "error: --proxy 'ftp://127.0.0.1:21': give a URL like http://host:3128 or socks5://host:1080 "
        "(schemes: http, https, socks4, socks4a, socks5, socks5h)",
    ),
    (
        "vault-show-unknown",
        ["vault", "show", "r1"],
        {},
        "error: no record 'r1' in the vault at {home}/vault (see: onboard vault list)",
    ),
    (
        "vault-show-path",
        ["vault", "show", "../etc"],
        {},
        "error: no record '../etc' in the vault at {home}/vault (see: onboard vault list)",
    ),
    (
        "vault-export-over-a-file",
        ["vault", "export", "r1", "--out", "/etc/hostname"],
        {},
        "error: /etc/hostname already exists; refusing to overwrite (remove it or pick another --out)",
    ),
    (
        "vault-export-unknown",
        ["vault", "export", "r1"],
        {},
        "error: no record 'r1' in the vault at {home}/vault (see: onboard vault list)",
    ),
    (
        "vault-export-nothing",
        ["vault", "export", "-f", "ccxt"],
        {},
        "error: which records? give record ids, --all or --label",
    ),
    (
        "vault-export-ids-and-all",
        ["vault", "export", "r1", "--all"],
        {},
        "error: give record ids, --all or --label, only one of them",
    ),
    (
        "vault-export-all-and-label",
        ["vault", "export", "--all", "--label", "ICG-MM"],
        {},
        "error: give record ids, --all or --label, only one of them",
    ),
    (
        "vault-export-profile-for-env",
        ["vault", "export", "r1", "-f", "env", "--profile", "acme"],
        {},
        "error: --profile names an okx-toml or ccxt profile; --format env has none",
    ),
    (
        "vault-export-profile-bad-name",
        ["vault", "export", "r1", "-f", "okx-toml", "--profile", "acme/live"],
        {},
        "error: --profile 'acme/live': use 1-64 letters, digits, - or _, starting with a letter "
        "or digit",
    ),
    (
        "vault-export-force-for-json",
        ["vault", "export", "r1", "--force"],
        {},
        "error: --force replaces an okx-toml profile; other formats never replace a file",
    ),
    (
        "vault-export-label-unknown",
        ["vault", "export", "--label", "ICG-MM", "-f", "okx-toml"],
        {},
        "error: no record labelled 'ICG-MM' in the vault at {home}/vault (see: onboard vault list)",
    ),
    (
        "config-file-unknown-setting",
        ["config", "show"],
        {"ONBOARD_CONFIG": "{tmp}/bad-key.toml"},
        "error: config file {tmp}/bad-key.toml: unknown setting 'hom' (known: home, okx_config, "
        "recipients)",
    ),
    (
        "config-file-not-toml",
        ["config", "show"],
        {"ONBOARD_CONFIG": "{tmp}/not.toml"},
        "error: config file {tmp}/not.toml: not valid TOML (Invalid value (at end of document))",
    ),
    (
        "vault-rekey-nothing",
        ["vault", "rekey"],
        {},
        "error: which records? give record ids or --all",
    ),
    (
        "vault-rekey-ids-and-all",
        ["vault", "rekey", "r1", "--all"],
        {},
        "error: give record ids or --all, not both",
    ),
    (
        "vault-rekey-no-recipient",
        ["vault", "rekey", "r1"],
        {},
        "error: no recipients to re-encrypt to: pass --recipient age1... or set ONBOARD_RECIPIENTS",
    ),
    (
        "vault-rekey-bad-recipient",
        ["vault", "rekey", "r1", "--recipient", "age1bad"],
        {},
        "error: not an age recipient: age1bad…",
    ),
    (
        "vault-rekey-recipients-not-json",
        ["vault", "rekey", "r1"],
        {"ONBOARD_RECIPIENTS": "age1notjson"},
        "error: not an age recipient: age1notjson…",
    ),
    (
        "record-stage",
        ["record", "--out", "set", "--stage", "login"],
        {},
        "error: --stage 'login': use keys, create-form, verify-totp, verify-sms, verify-email, "
        "created, keys-listed",
    ),
    (
        "record-redact-env-unset",
        ["record", "--out", "set", "--redact-env", "ONBOARD_TEST_UNSET"],
        {},
        "error: --redact-env ONBOARD_TEST_UNSET: that variable is not set",
    ),
    (
        "record-flow",
        ["record", "--out", "set", "--flow", "kraken"],
        {},
        "error: no flow named 'kraken' (known: okx; or give a path to a .yaml file)",
    ),
    (
        "record-out-is-a-file",
        ["record", "--out", "/etc/hostname"],
        {},
        "error: --out /etc/hostname: already holds files (pick a new set name, or --force)",
    ),
    (
        "record-profile",
        ["record", "--out", "set", "--profile", "a/b"],
        {},
        "error: --profile 'a/b': use letters, digits, '.', '_' or '-' (max 64)",
    ),
    (
        "record-cdp",
        ["record", "--out", "set", "--cdp", "chrome"],
        {},
        "error: --cdp 'chrome' is not a URL like http://127.0.0.1:9222",
    ),
    (
        "record-label",
        ["record", "--out", "set", "--label", "a/b"],
        {},
        f"error: --label 'a/b' {LABEL_CHARS}",
    ),
    (
        "record-ip",
        ["record", "--out", "set", "--ip", "1.2.3"],
        {},
        "error: not an IPv4 or IPv6 address: 1.2.3",
    ),
    (
        "record-base-url-port",
        ["record", "--out", "set", "--base-url", "http://127.0.0.1:99999"],
        {},
        "error: --base-url 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "record-base-url-userinfo",
        ["record", "--out", "set", "--base-url", "http://u:p@127.0.0.1:8700"],
        {},
        f"error: --base-url 'http://127.0.0.1:8700': {CREDS}",
    ),
    (
        "record-sms-cmd-missing",
        ["record", "--out", "set", "--sms-code-cmd", "no-such-sms-reader"],
        {},
        "error: --sms-code-cmd: program 'no-such-sms-reader' not found on PATH",
    ),
    (
        "record-totp-env-unset",
        ["record", "--out", "set", "--totp-secret-env", "ONBOARD_TEST_UNSET"],
        {},
        "error: --totp-secret-env ONBOARD_TEST_UNSET: that variable is not set",
    ),
    (
        "record-home-is-a-file",
        ["record", "--out", "set"],
        {"ONBOARD_HOME": "/etc/passwd"},
        "error: data directory /etc/passwd (ONBOARD_HOME): not a directory",
    ),
    (
        "doctor-flows",
        ["doctor", "--flows", "/nonexistent"],
        {},
        "error: --flows /nonexistent: not a directory",
    ),
    (
        "doctor-fixtures",
        ["doctor", "--fixtures", "/etc/hostname"],
        {},
        "error: --fixtures /etc/hostname: not a directory",
    ),
    (
        "doctor-base-url-ftp",
        ["doctor", "--base-url", "ftp://127.0.0.1"],
        {},
        "error: --base-url 'ftp://127.0.0.1' is not an http(s) URL",
    ),
    (
        "doctor-base-url-userinfo",
        ["doctor", "--base-url", "https://u:p@okx.example.invalid"],
        {},
        f"error: --base-url 'https://okx.example.invalid': {CREDS}",
    ),
    (
        "doctor-base-url-port",
        ["doctor", "--base-url", "http://127.0.0.1:99999"],
        {},
        "error: --base-url 'http://127.0.0.1:99999' is not a valid URL",
    ),
    (
        "replica-scenario",
        ["replica", "--port", "0", "-s", "nope"],
        {},
        "error: unknown scenario 'nope' (known: account-selectable, all-factors, api-moved, aria, "
        "codes-autosubmit, covered, duplicate-label, grants-withdraw, interruptions, ip-chip-dropped, "
        "key-limit, lang-fr, logged-in, perm-checkboxes, phishing-redirect, prefixed, "
        "redirect-mid-codes, renamed, reordered, secret-masked, session-expires, slow, "
        "sub-key-limit, submit-error, totp-only, withdraw-preselected)",
    ),
]


@pytest.mark.parametrize(("args", "env", "line"), [pytest.param(*c[1:], id=c[0]) for c in OTHERS])
def test_other_commands_refuse(
    cli: Callable[..., Ran], tmp_path: Path, args: list[str], env: dict[str, str], line: str
) -> None:
    for name, text in CONFIG_FILES.items():
        (tmp_path / name).write_text(text)
    line = line.replace("{home}", str(tmp_path / "home")).replace("{tmp}", str(tmp_path))
    assert_refused(cli(args, env), line)


# config files the `config-file-*` cases point ONBOARD_CONFIG at
CONFIG_FILES = {
    "bad-key.toml": "hom = '/tmp'\n",
    "not.toml": "home = [\n",
}


def test_the_tables_hold_150_distinct_cases() -> None:
    """The count the README states; inputs are each distinct (ids: within their table)."""
    tables = (RUN, BOXES, BATCH, ROSTER_FILES, ROSTERS, OTHERS)
    ids = [(n, c[0]) for n, table in enumerate(tables) for c in table]
    assert len(ids) == len(set(ids))
    inputs = [repr(c[1:-1]) for c in (*RUN, *BATCH, *ROSTER_FILES, *OTHERS)] + [
        repr(c[1:3]) for c in ROSTERS
    ] + [repr(c[1]) for c in BOXES]  # fmt: skip
    assert len(inputs) == len(set(inputs))
    assert len(ids) >= 150


# -- the same, as a user runs it ----------------------------------------------------------------
SUBPROCESS: list[tuple[str, list[str], dict[str, str], str]] = [
    (
        "executable-dir",
        ["run", *OK, "--executable", "/etc"],
        {},
        "error: --executable /etc: a directory, not a browser executable",
    ),
    (
        "recipients-not-json",
        ["run", *OK],
        {"ONBOARD_RECIPIENTS": "age1notjson"},
        "error: not an age recipient: age1notjson…",
    ),
    (
        "home-is-a-file",
        ["run", *OK],
        {"ONBOARD_HOME": "/etc/passwd"},
        "error: data directory /etc/passwd (ONBOARD_HOME): not a directory",
    ),
    (
        "sms-cmd-missing-program",
        ["run", *OK, "--sms-code-cmd", "no-such-sms-reader"],
        {},
        "error: --sms-code-cmd: program 'no-such-sms-reader' not found on PATH",
    ),
    (
        "config-file-home-not-a-path",
        ["vault", "list"],
        {"ONBOARD_CONFIG": "{tmp}/home-int.toml", "ONBOARD_HOME": ""},
        "error: setting home (home in {tmp}/home-int.toml): Input is not a valid path",
    ),
    (
        "config-file-home-is-a-file",
        ["run", *OK],
        {"ONBOARD_CONFIG": "{tmp}/home-file.toml", "ONBOARD_HOME": ""},
        "error: data directory /etc/passwd (home in {tmp}/home-file.toml): not a directory",
    ),
]


@pytest.mark.parametrize(
    ("args", "env", "line"), [pytest.param(*c[1:], id=c[0]) for c in SUBPROCESS]
)
def test_as_a_subprocess(tmp_path: Path, args: list[str], env: dict[str, str], line: str) -> None:
    home = tmp_path / "home"
    (tmp_path / "home-int.toml").write_text("home = 3\n")
    (tmp_path / "home-file.toml").write_text("home = '/etc/passwd'\n")
    env = {k: v.replace("{tmp}", str(tmp_path)) for k, v in env.items()}
    start = time.monotonic()
    # ONBOARD_HOME "" is no value (the config file's `home` applies)
    proc = onboard(home, *args, env={"NO_COLOR": "1", **env}, timeout=60)
    assert proc.stderr.splitlines() == [line.replace("{tmp}", str(tmp_path))]
    assert (proc.returncode, proc.stdout) == (2, "")
    assert_nothing_opened(home, time.monotonic() - start)


def test_batch_report_checked_before_any_entry_as_a_subprocess(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("\ufeffid,label,ips\na,ICG-A,203.0.113.7\n")  # a BOM, as Excel writes
    home = tmp_path / "home"
    start = time.monotonic()
    proc = onboard(home, "batch", str(roster), "--headless", "--report", "/etc/hostname")
    assert proc.stderr.splitlines() == ["error: --report /etc/hostname: not a directory"]
    assert (proc.returncode, proc.stdout) == (2, "")
    assert not (home / "journal.sqlite3").exists()
    assert_nothing_opened(home, time.monotonic() - start)


def test_unreachable_cdp_is_one_line_exit_1(tmp_path: Path) -> None:
    """Nothing listens on port 9 (discard): the browser cannot be reached, said in one line."""
    proc = onboard(
        tmp_path / "home",
        "run", *OK, "--cdp", "http://127.0.0.1:9", "--json",
        timeout=120,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    message = json.loads(proc.stdout)["message"]
    assert message.startswith("cannot reach the browser at http://127.0.0.1:9: "), message
    assert "ECONNREFUSED" in message and "\n" not in message
