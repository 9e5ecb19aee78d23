"""The human's part: what we need from them, where codes come from, and how we wait.

Waiting is bounded and visible: the page shows a banner and a pulsing box,
the terminal a spinner with elapsed time. A `StandIn` (the demo's scripted
client) can act in the page during a wait exactly where a person would.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Literal, Protocol

from playwright.sync_api import Page

from agent import warm
from agent.exitcodes import AgentError, Exit


@dataclass
class Need:
    kind: Literal["login", "submit", "code", "act"]
    say: str
    factor: str | None = None


class StandIn(Protocol):
    """Something that does the human's part in the page (the demo's scripted client)."""

    def act(self, page: Page, need: Need) -> None: ...


class Reporter(Protocol):
    def step(self, n: int, total: int, caption: str, status: str, detail: str = "") -> None: ...
    def waiting(self, say: str, elapsed: float, limit: float) -> None: ...
    def done_waiting(self) -> None: ...
    def info(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        """What the operator types (not echoed); `timeout`: seconds left to answer (the
        human timeout), shown and enforced. Raises AgentError on timeout or no terminal."""
        ...


@dataclass
class CodeSources:
    """Per factor: None -> the human types it in the page; else how the agent gets it."""

    totp_secret_env: str | None = None
    sms_cmd: str | None = None
    email_cmd: str | None = None
    prompt: set[str] = field(default_factory=set)  # factors the operator types at the terminal

    def automatic(self, factor: str) -> bool:
        return bool(
            (factor == "totp" and self.totp_secret_env)
            or (factor == "sms" and self.sms_cmd)
            or (factor == "email" and self.email_cmd)
            or factor in self.prompt
        )

    def get(
        self, factor: str, reporter: Reporter, name: str | None = None, timeout: float | None = None
    ) -> str:
        """The factor's code. `name` is the page's name for it (the flow's `names`, e.g.
        "Authenticator code"); `timeout` the seconds the operator has to type it."""
        name = name or f"{factor} code"
        if factor == "totp" and self.totp_secret_env:
            import pyotp

            secret = os.environ.get(self.totp_secret_env, "").strip()
            if not secret:
                raise AgentError(f"${self.totp_secret_env} is empty", Exit.BAD_INPUT)
            return pyotp.TOTP(secret).now()
        cmd = self.sms_cmd if factor == "sms" else self.email_cmd if factor == "email" else None
        if cmd:
            try:
                args = shlex.split(cmd)
                # In a warm batch slot the others run on while the command runs (agent.warm).
                out = warm.blocking(
                    lambda: (
                        subprocess.run(
                            args, capture_output=True, text=True, timeout=120, check=True
                        ).stdout
                    )
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise AgentError(f"the {name} command failed: {exc}", Exit.HUMAN_TIMEOUT) from None
            m = re.search(r"\b(\d{6})\b", out)
            if not m:
                raise AgentError(f"the {name} command printed no 6-digit code", Exit.HUMAN_TIMEOUT)
            return m.group(1)
        code = reporter.ask_secret(f"{name} (as the client reads it out)", timeout).strip()
        if not re.fullmatch(r"\d{6}", code):
            raise AgentError("a code is six digits", Exit.BAD_INPUT)
        return code


def validate_code_sources(src: CodeSources) -> None:
    """Bad references fail before a browser opens."""
    if src.totp_secret_env:
        val = os.environ.get(src.totp_secret_env)
        if not val:
            raise AgentError(
                f"--totp-secret-env {src.totp_secret_env}: that variable is not set", Exit.BAD_INPUT
            )
        import base64
        import binascii

        try:
            base64.b32decode(val.strip().upper() + "=" * (-len(val.strip()) % 8))
        except (binascii.Error, ValueError):
            raise AgentError(
                f"--totp-secret-env {src.totp_secret_env}: not a base32 TOTP secret", Exit.BAD_INPUT
            ) from None
    for flag, cmd in (("--sms-code-cmd", src.sms_cmd), ("--email-code-cmd", src.email_cmd)):
        if cmd is not None:
            try:
                parts = shlex.split(cmd)
            except ValueError as exc:
                raise AgentError(f"{flag}: {exc}", Exit.BAD_INPUT) from None
            if not parts:
                raise AgentError(f"{flag} is empty", Exit.BAD_INPUT)
            problem = program_problem(parts[0])
            if problem:
                raise AgentError(f"{flag}: {problem}", Exit.BAD_INPUT)


def program_problem(program: str) -> str | None:
    """Why a code command's program cannot run, or None. Found out now, not when the exchange
    asks for the code with a browser open and the human waiting."""
    if shutil.which(program) is not None:
        return None
    if os.sep in program or (os.altsep is not None and os.altsep in program):
        return f"{program} is not an executable file"
    return f"program {program!r} not found on PATH"
