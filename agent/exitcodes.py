"""Documented exit codes: scripts and the batch runner branch on these."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # anything not listed below
    BAD_INPUT = 2  # request, flags or flow file invalid: nothing was opened
    HUMAN_TIMEOUT = 3  # login or verification not done in time
    UI_NOT_UNDERSTOOD = 4  # no locator candidate matched exactly one element
    AUDIT_MISMATCH = 5  # the form read back differs from the request: not submitted
    ORIGIN_REFUSED = 6  # the page left the allowed origins (phishing guard)
    EXCHANGE_REFUSED = 7  # the exchange refused (limit, duplicate name, server error)
    CUSTODY_FAILED = 8  # credentials could not be stored: Complete was not clicked
    VERIFY_FAILED = 9  # created, stored, but what the exchange shows differs
    PENDING = 10  # verify: OKX refused this machine's IP (50110); run from a whitelisted host
    INTERRUPTED = 130


class AgentError(Exception):
    """A stop with a plain-words reason and the exit code that names it."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ConfigError(AgentError):
    """An ONBOARD_* value that cannot be used, phrased for the user (one line, exit 2). Here,
    not in agent.config: the CLI's entry point catches it without importing pydantic."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.BAD_INPUT)
