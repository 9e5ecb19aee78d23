"""What one verification found (`VerifyResult`: ok | failed | pending | error, in plain words,
and what of it goes into the vault's clear metadata), and the exit code of several."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.exitcodes import Exit


class VerifyInputError(ValueError):
    """Bad arguments (proxy URL, site, record id): nothing was sent."""


@dataclass
class VerifyResult:
    id: str
    label: str
    api_key_masked: str
    status: str  # ok | failed | pending | error
    detail: str  # plain words, with the next step when it is not ok
    endpoint: str = ""
    demo: bool = False
    proxy: str | None = None  # scheme://host:port, never credentials
    code: str | None = None  # OKX's error code when the exchange refused
    critical: bool = False  # withdraw is enabled
    checks: dict[str, str] = field(default_factory=dict)
    seen: dict[str, str] = field(default_factory=dict)  # perm/ip/label as the exchange shows
    clock_offset_s: float | None = None
    verified_at: float = field(default_factory=time.time)

    @property
    def verification(self) -> str:
        """The string stored as the record's `verification`: ok | failed: ... | pending: ..."""
        return "ok" if self.status == "ok" else f"{self.status}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verification": self.verification}

    def meta_detail(self) -> dict[str, Any]:
        """What goes into the vault metadata: no secret, no full key."""
        return {
            k: v
            for k, v in {
                "status": self.status,
                "endpoint": self.endpoint,
                "demo": self.demo,
                "proxy": self.proxy,
                "code": self.code,
                "critical": self.critical,
                "checks": self.checks,
                "seen": self.seen,
                "detail": self.detail,
            }.items()
            if v not in (None, {}, "")
        }


def overall_exit(results: list[VerifyResult]) -> Exit:
    """9 if any failed, else 1 if any could not be tested, else 10 if any pending, else 0."""
    statuses = {r.status for r in results}
    if "failed" in statuses:
        return Exit.VERIFY_FAILED
    if "error" in statuses:
        return Exit.FAILED
    if "pending" in statuses:
        return Exit.PENDING
    return Exit.OK
