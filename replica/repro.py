"""The agent command line the fuzz runs against a mutated replica.

`onboard replica --mutate SEED` prints it and `tests/fuzz` runs it, from this one place, so
a seed is reproduced by hand exactly as the fuzz ran it: headless, `--pace 0`,
`--auto-submit`, automatic codes (the authenticator secret from an environment variable,
SMS and email from the replica's outbox), a short human timeout, JSON on stdout.
"""

from __future__ import annotations

import shlex
import sys

IPS = ["203.0.113.7", "2001:db8::7"]  # documentation addresses (RFC 5737, RFC 3849)
LABEL = "ICG-MM"
TOTP_ENV = "CLIENT_TOTP"
HUMAN_TIMEOUT = 5  # seconds: nobody is there; a wait for a person ends quickly


def outbox(base: str, channel: str, python: str = sys.executable) -> str:
    return f"{python} -m replica.outbox --base {base} --channel {channel}"


def run_args(
    base: str,
    accounts: list[str] | None = None,
    python: str = sys.executable,
    human_timeout: float = HUMAN_TIMEOUT,
) -> list[str]:
    """`onboard run` arguments (without the program) for these sub-accounts (none: main)."""
    args = ["run", "--label", LABEL]
    for ip in IPS:
        args += ["--ip", ip]
    for sub in accounts or []:
        args += ["--sub-account", sub]
    return [
        *args,
        "--allow-private-ip", "--base-url", base, "--headless", "--pace", "0", "--auto-submit",
        "--totp-secret-env", TOTP_ENV,
        "--sms-code-cmd", outbox(base, "sms", python),
        "--email-code-cmd", outbox(base, "email", python),
        "--human-timeout", f"{human_timeout:g}", "--json",
    ]  # fmt: skip


def shell_line(base: str, totp_secret: str, accounts: list[str] | None = None) -> str:
    """The whole command as one shell line, `onboard` as the program."""
    args = run_args(base, accounts, python="python")
    return f"{TOTP_ENV}={shlex.quote(totp_secret)} onboard " + shlex.join(args)
