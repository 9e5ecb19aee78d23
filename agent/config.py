"""Where things live and who may decrypt: from ONBOARD_* variables, the config file, defaults.

Precedence, highest first: values given in code (a command's own option, e.g. `--recipient`),
ONBOARD_* environment variables, the TOML config file (`$ONBOARD_CONFIG`, else
`$XDG_CONFIG_HOME/onboard/config.toml`, else `~/.config/onboard/config.toml`), the defaults.
`onboard config show` prints each setting with where it came from.

A bad value (a data directory that is a file, a recipient list that does not parse, a key the
file does not know, a file that is not TOML) is refused when the settings are made, with one
line naming the variable or the file: a ConfigError, which is an AgentError with exit code 2,
so a command says it like any other bad input.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from agent.exitcodes import ConfigError as ConfigError  # where it lives: see there
from agent.lists import split_list


def _default_home() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "onboard"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "onboard"


RECIPIENTS_HINT = "give '[\"age1...\"]' or keys separated by commas"
ENV_PREFIX = "ONBOARD_"


def config_file() -> Path:
    """The TOML config file's path (it need not exist): $ONBOARD_CONFIG, else the XDG place."""
    explicit = os.environ.get("ONBOARD_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "onboard" / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    """The config file's settings ({} when there is none). A file that is not TOML, or names a
    setting that does not exist (a typo would otherwise be silently ignored), is a ConfigError."""
    if not path.exists():
        return {}
    import tomllib  # here: a run without a config file never needs it (~13 ms of CPU to import)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"config file {path}: cannot read it ({why})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        known = ", ".join(sorted(Settings.model_fields))
        raise ConfigError(f"config file {path}: unknown setting {unknown[0]!r} (known: {known})")
    return data


def setting_source(name: str) -> str:
    """Where a setting's value comes from: its ONBOARD_* variable, the config file, or default."""
    var = f"{ENV_PREFIX}{name.upper()}"
    if any(k.upper() == var and v for k, v in os.environ.items()):
        return var
    path = config_file()
    try:
        in_file = name in read_config_file(path)
    except ConfigError:
        in_file = False
    return f"{name} in {path}" if in_file else "default"


# A name that becomes a file or directory in the data dir: a profile, a sealed login (named
# after its profile by default, so the same rule), a batch entry id. One rule, one wording.
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def name_problem(what: str, value: str) -> str | None:
    """None when `value` is a usable name; else one line naming `what` and the rule."""
    if NAME_RE.fullmatch(value or ""):
        return None
    return f"{what} {value!r}: use letters, digits, '.', '_' or '-' (max 64)"


class _ConfigFileSource(PydanticBaseSettingsSource):
    """The TOML config file as a pydantic-settings source (below the environment)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self.data = read_config_file(config_file())

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


class Settings(BaseSettings):
    # An empty ONBOARD_* variable is no value (`ONBOARD_HOME= onboard ...` means the default),
    # as a shell user expects, rather than the path "" (the current directory).
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True)

    home: Path = Field(default_factory=_default_home)
    # age recipients (the firm's public keys); empty -> a local identity made on first use.
    # From the environment: a JSON list, or keys separated by commas (one key needs neither).
    recipients: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # OKX's own profile file (okx-trade-cli, okx-trade-mcp): `vault export --format okx-toml`
    # and `run --sink okx-toml:NAME` merge profiles into it.
    okx_config: Path = Field(default_factory=lambda: Path.home() / ".okx" / "config.toml")

    def __init__(self, **values: Any) -> None:
        """A value of the wrong type (from a variable or the file) is one line naming where it
        came from, not pydantic's report."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "?"
            where = "given" if name in values else setting_source(name)
            msg = re.sub(r" for <class '[^']*'>", "", str(err["msg"]))
            raise ConfigError(f"setting {name} ({where}): {msg}") from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))

    @field_validator("home", "okx_config", mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        """`~/...` in the config file means the home directory, as it does in a shell."""
        return value.expanduser()

    @field_validator("recipients", mode="before")
    @classmethod
    def _recipients(cls, value: Any) -> Any:
        """ONBOARD_RECIPIENTS=age1... is what people write; JSON is accepted too. An ssh key
        holds spaces, so only commas (and newlines) separate keys."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text.startswith(("[", "{", '"')):
            return split_list(text, ",\n")
        source = setting_source("recipients")
        name = "ONBOARD_RECIPIENTS" if source in ("default", "ONBOARD_RECIPIENTS") else source
        try:
            keys = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
            raise ConfigError(f"{name} is not a JSON list ({where}): {RECIPIENTS_HINT}") from None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"{name} is not a JSON list of strings: {RECIPIENTS_HINT}")
        return keys

    @model_validator(mode="after")
    def _home_is_a_directory(self) -> Settings:
        """Refused here, before a command reads "no records" from a file or a run fails
        half-way creating its directories. An existing directory is not required to be
        writable: reading a vault needs no more."""
        problem = dir_problem(self.home, writable=False)
        if problem:
            where = setting_source("home")
            where = "ONBOARD_HOME" if where == "default" else where
            raise ConfigError(f"data directory {self.home} ({where}): {problem}")
        return self

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) for `onboard config show`: paths and public keys
        only; this object holds no secret (an identity file's content is never read here)."""
        rows = [
            ("home", str(self.home), setting_source("home")),
            ("recipients", ", ".join(self.recipients) or "(none: a local identity)",
             setting_source("recipients")),
            ("okx_config", str(self.okx_config), setting_source("okx_config")),
        ]  # fmt: skip
        ident = self.identity_file
        derived = "from home"
        rows += [
            ("vault", str(self.vault_dir), derived),
            ("identity", f"{ident}{'' if ident.exists() else ' (not made yet)'}", derived),
            ("journal", str(self.journal_file), derived),
            ("profiles", str(self.profiles_dir), derived),
            ("runs", str(self.runs_dir), derived),
        ]
        return rows

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
