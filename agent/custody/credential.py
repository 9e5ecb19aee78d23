"""A credential as the exchange issued it, and what of it may be shown in clear (`meta`: no
secret, no passphrase, the key masked). The vault stores it encrypted; nothing else keeps it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from agent.custody.redact import mask_key


@dataclass
class Credential:
    exchange: str
    site: str
    base_url: str | None
    account: str
    label: str
    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)
    permissions: list[str]
    ips: list[str]
    created_at: float = field(default_factory=time.time)
    # A demo-trading key (OKX's simulated trading): its REST calls need the
    # x-simulated-trading header. Records stored before demo support are live keys.
    demo: bool = False

    def meta(self) -> dict[str, Any]:
        """What may be shown and written in clear: no secret, no passphrase, key masked."""
        return {
            "exchange": self.exchange,
            "site": self.site,
            "base_url": self.base_url,
            "account": self.account,
            "label": self.label,
            "api_key_last4": self.api_key[-4:],
            "api_key_masked": mask_key(self.api_key),
            "permissions": self.permissions,
            "ips": self.ips,
            "created_at": self.created_at,
            "demo": self.demo,
        }
