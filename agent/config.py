"""Where things live and who may decrypt: from the environment (ONBOARD_*) or defaults.

A bad value (a data directory that is a file, a recipient list that does not parse) is refused
when the settings are made, with one line naming the variable: a ConfigError, which is an
AgentError with exit code 2, so a command says it like any other bad input.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent.exitcodes import AgentError, Exit


class ConfigError(AgentError):
    """An ONBOARD_* value that cannot be used, phrased for the user (one line, exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Exit.BAD_INPUT)


def _default_home() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "onboard"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onboard"


RECIPIENTS_HINT = "give '[\"age1...\"]' or keys separated by commas"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARD_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    # age recipients (the firm's public keys); empty -> a local identity made on first use.
    # From the environment: a JSON list, or keys separated by commas (one key needs neither).
    recipients: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        """ONBOARD_RECIPIENTS=age1... is what people write; JSON is accepted too. An ssh key
        holds spaces, so only commas (and newlines) separate keys."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text.startswith(("[", "{", '"')):
            return [k.strip() for k in text.replace("\n", ",").split(",") if k.strip()]
        try:
            keys = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
            raise ConfigError(
                f"ONBOARD_RECIPIENTS is not a JSON list ({where}): {RECIPIENTS_HINT}"
            ) from None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(
                f"ONBOARD_RECIPIENTS is not a JSON list of strings: {RECIPIENTS_HINT}"
            )
        return keys

    @model_validator(mode="after")
    def _home_is_a_directory(self) -> Settings:
        """Refused here, before a command reads "no records" from a file or a run fails
        half-way creating its directories. An existing directory is not required to be
        writable: reading a vault needs no more."""
        problem = dir_problem(self.home, writable=False)
        if problem:
            raise ConfigError(f"data directory {self.home} (ONBOARD_HOME): {problem}")
        return self

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


def dir_problem(path: Path, writable: bool = True) -> str | None:
    """Why `path` cannot be, or be made, a directory to write in ("not a directory", ...), or
    None. Nothing is created or left behind, so it can be asked before anything starts.
    `writable=False`: an existing directory is accepted as it is."""
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            return "not a directory"
        return _write_problem(path) if writable else None
    parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if not parent.is_dir():
        return f"{parent} is not a directory"
    return _write_problem(parent)


def _write_problem(directory: Path) -> str | None:
    """Whether a file can be made in `directory`: tried (the mode bits say nothing for root, or
    on a read-only mount), then removed."""
    try:
        fd, name = tempfile.mkstemp(prefix=".onboard-probe-", dir=directory)
    except OSError as exc:
        return f"cannot write in {directory} ({exc.strerror or exc})"
    os.close(fd)
    os.unlink(name)
    return None
