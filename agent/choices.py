"""The fixed sets the command line offers, as enums: help lists them, shells complete them,
and a value outside them is refused by the parser itself (one line, exit 2), not by a check
written again in each command.

Standard library only: `agent.cli` imports this at start-up, and `onboard --help` stays instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Site(StrEnum):
    """OKX's regional sites (flows/okx.yaml `sites`; the same ids as OKX's own toolkit)."""

    GLOBAL = "global"
    EEA = "eea"
    US = "us"


class Factor(StrEnum):
    """A security-verification factor the operator can type at the terminal."""

    TOTP = "totp"
    SMS = "sms"
    EMAIL = "email"


class ExportFormat(StrEnum):
    """`vault export --format`: the shapes trading systems read."""

    JSON = "json"  # the whole record, as stored
    ENV = "env"  # OKX_API_KEY / OKX_SECRET_KEY / OKX_PASSPHRASE (OKX's toolkit)
    CCXT = "ccxt"  # ccxt's constructor config: apiKey / secret / password (+ host)
    OKX_TOML = "okx-toml"  # a profile in OKX's ~/.okx/config.toml


class SinkKind(StrEnum):
    """`run --sink`: where a captured credential goes."""

    VAULT = "vault"
    KEYRING = "keyring"
    STDOUT = "stdout"
    OKX_TOML = "okx-toml"  # the vault, then a profile in OKX's config.toml (okx-toml:NAME)


class Shell(StrEnum):
    """`onboard completion SHELL`."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


# A profile name OKX's CLI takes as `--profile NAME` and TOML takes as a bare key.
PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
PROFILE_RULE = "1-64 letters, digits, - or _, starting with a letter or digit"
SINK_HELP = "vault, keyring, stdout or okx-toml:PROFILE"


@dataclass(frozen=True)
class SinkSpec:
    """A parsed `--sink` value: the kind, and the profile name for okx-toml."""

    kind: SinkKind
    profile: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.profile}" if self.profile else str(self.kind)

    def for_entry(self, entry_id: str) -> SinkSpec:
        """A batch entry's own sink: okx-toml:PREFIX writes profile `PREFIX-<entry id>`, so
        entries never share (or overwrite) a profile; the other kinds are shared as they are."""
        if self.kind is not SinkKind.OKX_TOML:
            return self
        return SinkSpec(self.kind, f"{self.profile}-{profile_slug(entry_id)}"[:64])


def parse_sink(text: str) -> SinkSpec:
    """`vault` | `keyring` | `stdout` | `okx-toml:NAME` -> SinkSpec; ValueError says what to
    give. The profile is named up front so a clash is refused before a browser opens."""
    kind_text, colon, profile = text.partition(":")
    try:
        kind = SinkKind(kind_text)
    except ValueError:
        raise ValueError(f"{text!r}: use {SINK_HELP}") from None
    if kind is SinkKind.OKX_TOML:
        if not profile:
            raise ValueError(f"{text!r}: name the profile, e.g. okx-toml:acme")
        check_profile(profile)
    elif colon:
        raise ValueError(f"{text!r}: only okx-toml takes a name (okx-toml:PROFILE)")
    return SinkSpec(kind, profile)


def check_profile(name: str) -> str:
    """`name` when it is a usable OKX profile name; ValueError otherwise."""
    if not PROFILE_RE.fullmatch(name):
        raise ValueError(f"profile {name!r}: use {PROFILE_RULE}")
    return name


def profile_slug(text: str) -> str:
    """A profile name made from a label or account name (spaces and dots become -)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:64]
    return slug or "okx"
