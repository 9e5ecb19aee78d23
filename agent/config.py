"""Where things live and who may decrypt: from the environment (ONBOARD_*) or defaults."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "onboard"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onboard"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARD_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    # age recipients (the firm's public keys); empty -> a local identity made on first use
    recipients: list[str] = Field(default_factory=list)

    @property
    def vault_dir(self) -> Path:
        return self.home / "vault"

    @property
    def identity_file(self) -> Path:
        return self.home / "identity.age.txt"

    @property
    def profiles_dir(self) -> Path:
        return self.home / "profiles"

    @property
    def journal_file(self) -> Path:
        return self.home / "journal.sqlite3"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"


def private_dir(path: Path) -> Path:
    """A directory only this user can enter (0700), created if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path
