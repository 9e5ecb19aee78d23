"""A stored credential in the shapes trading systems read, and OKX's profile file merged safely.

- `env`: the names OKX's own toolkit (okx-trade-cli, okx-trade-mcp) reads: OKX_API_KEY,
  OKX_SECRET_KEY, OKX_PASSPHRASE, plus OKX_SITE, OKX_API_BASE_URL for a test target and
  OKX_DEMO=1 for a demo-trading key (the toolkit reads all three). OKX_API_SECRET and
  OKX_API_PASSPHRASE, the names earlier versions of onboard wrote, follow with the same
  values so systems set up from those files keep working. Values are quoted so that POSIX sh
  (`set -a; . FILE`) and python-dotenv read the same text; a value no quoting can give both
  is written for sh and said so (`EnvText.sh_only`).
- `ccxt`: the constructor config of ccxt's `okx` class: apiKey, secret, password, the REST
  host of the record's site (the flow's `rest`, the hosts ccxt's own `okx`, `myokx` and
  `okxus` classes use) or the record's test target, and `sandbox` for a demo-trading key.
- `okx-toml`: a `[profiles.NAME]` table of OKX's ~/.okx/config.toml (api_key, secret_key,
  passphrase, demo, site, base_url for a test target), merged by `merge_okx_profiles`: other
  profiles, comments and `default_profile` are kept, an existing profile is replaced only when
  asked, and the file is replaced atomically with mode 0600.

Nothing here prints: callers decide where the text goes (a file, or stdout when that is the
command's point). tomlkit is imported only when a profile file is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agent.choices import check_profile, profile_slug

if TYPE_CHECKING:
    from agent.custody.vault import Credential
    from agent.engine.flow import Flow

ENV_NAMES = ("OKX_API_KEY", "OKX_SECRET_KEY", "OKX_PASSPHRASE")
# What `vault export -f env` wrote before it used OKX's toolkit names: kept, same values.
LEGACY_ENV_NAMES = {"OKX_API_SECRET": "OKX_SECRET_KEY", "OKX_API_PASSPHRASE": "OKX_PASSPHRASE"}
_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=-]+")  # the same bare in sh, dotenv and docker
_DOUBLE_UNSAFE = re.compile(r"[$`]")  # sh expands these inside "..." but dotenv does not
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ExportError(Exception):
    """An export that cannot be written as asked; the message is one line for the user."""


Record = tuple[str, "Credential"]  # (vault record id, credential)


class ProfileExists(ExportError):
    """Profiles already in the file; the caller adds how to proceed (--force, another name)."""

    def __init__(self, names: list[str], path: Path) -> None:
        which = (
            f"profile {names[0]} already exists"
            if len(names) == 1
            else (f"profiles {', '.join(names)} already exist")
        )
        super().__init__(f"{which} in {path}")
        self.names = names
        self.path = path


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _about(rid: str, cred: Credential) -> list[str]:
    """What a reader of the exported file needs to know which key it is; never a secret."""
    return [
        f"onboard vault record {rid}",
        f"exchange: {cred.exchange} ({cred.site}{', demo trading' if cred.demo else ''}), "
        f"account: {cred.account}",
        f"label: {cred.label}",
        f"permissions: {', '.join(cred.permissions)}",
        f"ips: {', '.join(cred.ips)}",
    ]


# -- json ----------------------------------------------------------------------------------------
def json_text(records: list[Record]) -> str:
    """The whole record(s) as stored, with the id: an object for one, a list for several."""
    items = [{"id": rid, **asdict(cred)} for rid, cred in records]
    return json.dumps(items[0] if len(items) == 1 else items, indent=2) + "\n"


# -- ccxt ----------------------------------------------------------------------------------------
def ccxt_config(cred: Credential) -> dict[str, Any]:
    """`ccxt.okx(config)` for this key: credentials, and where its REST API is.

    A test target replaces both `api` and `test` URLs, so sandbox mode (demo trading, which
    swaps them) still reaches it. A demo record sets `sandbox`: ccxt then sends OKX's
    `x-simulated-trading: 1` header."""
    config: dict[str, Any] = {
        "apiKey": cred.api_key,
        "secret": cred.secret,
        "password": cred.passphrase,
    }
    if cred.base_url:
        rest = {"rest": cred.base_url.rstrip("/")}
        config["urls"] = {"api": rest, "test": dict(rest)}
    else:  # the site's REST host (the flow's `rest`: the hosts of ccxt's okx, myokx, okxus)
        config["hostname"] = urlsplit(_flow().rest_url(cred.site)).hostname
    if cred.demo:
        config["sandbox"] = True
    return config


def ccxt_text(records: list[Record], names: Mapping[str, str]) -> str:
    """One record: the config itself (`ccxt.okx(json.load(f))`). Several: an object keyed by
    their profile names (`ccxt.okx(json.load(f)["acme"])`)."""
    if len(records) == 1:
        return json.dumps(ccxt_config(records[0][1]), indent=2) + "\n"
    return json.dumps({names[rid]: ccxt_config(c) for rid, c in records}, indent=2) + "\n"


def _flow() -> Flow:
    """The bundled OKX flow: where the exchange's sites and REST hosts are written down."""
    from agent.exchanges import bundled_flow

    return bundled_flow()


# -- env -----------------------------------------------------------------------------------------
@dataclass
class EnvText:
    text: str
    sh_only: list[str] = field(default_factory=list)  # names python-dotenv would misread


def env_quote(value: str) -> tuple[str, bool]:
    """(quoted value, whether python-dotenv reads it as sh does).

    Bare when safe everywhere (sh, dotenv, docker --env-file); else single quotes (literal
    in both); else double quotes with \\ and " escaped (both decode those two); a value with
    ' or \\ and also $ or ` has no common form, so it is quoted for sh alone."""
    if _CONTROL.search(value):
        raise ExportError("a value holds a control character: an env file cannot carry it")
    if _BARE.fullmatch(value):
        return value, True
    if "'" not in value and "\\" not in value:
        return f"'{value}'", True
    if not _DOUBLE_UNSAFE.search(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"', True
    return "'" + value.replace("'", "'\"'\"'") + "'", False


def env_text(rid: str, cred: Credential) -> EnvText:
    """One record as an env file: the three names OKX's toolkit reads, its site, and the test
    target or demo flag when the record has one. Comments say which key it is."""
    pairs = [
        ("OKX_API_KEY", cred.api_key),
        ("OKX_SECRET_KEY", cred.secret),
        ("OKX_PASSPHRASE", cred.passphrase),
        ("OKX_SITE", cred.site),
    ]
    if cred.base_url:
        pairs.append(("OKX_API_BASE_URL", cred.base_url.rstrip("/")))
    if cred.demo:
        pairs.append(("OKX_DEMO", "1"))
    values = dict(pairs)
    pairs += [(old, values[new]) for old, new in LEGACY_ENV_NAMES.items()]
    out = EnvText("")
    lines = [f"# {_one_line(c)}" for c in _about(rid, cred)]
    for name, value in pairs:
        quoted, both = env_quote(value)
        lines.append(f"{name}={quoted}")
        if not both:
            out.sh_only.append(name)
    out.text = "\n".join(lines) + "\n"
    return out


# -- OKX's profile file ------------------------------------------------------------------------------
def okx_profile(cred: Credential) -> dict[str, Any]:
    """One `[profiles.NAME]` table as OKX's toolkit reads it (packages/core config/toml.ts)."""
    profile: dict[str, Any] = {
        "api_key": cred.api_key,
        "secret_key": cred.secret,
        "passphrase": cred.passphrase,
        "demo": cred.demo,
        "site": cred.site,
    }
    if cred.base_url:
        profile["base_url"] = cred.base_url.rstrip("/")
    return profile


def profile_names(records: list[tuple[str, str, str]], base: str | None) -> dict[str, str]:
    """(record id, label, account) -> record id -> profile name. One record: `base`, else its
    label. Several: `<base or label>-<account>`, so sub-accounts' keys land side by side.
    Names come from the clear metadata, so a clash is refused before anything is decrypted;
    two records that would share a name are refused: a profile must name one key."""
    names: dict[str, str] = {}
    for rid, label, account in records:
        stem = base or profile_slug(label)
        names[rid] = stem if len(records) == 1 else f"{stem}-{profile_slug(account)}"[:64]
    seen: dict[str, str] = {}
    for rid, name in names.items():
        try:
            check_profile(name)
        except ValueError as exc:
            raise ExportError(str(exc)) from None
        if name in seen:
            raise ExportError(
                f"records {seen[name]} and {rid} would both be profile {name!r} (same label "
                "and account): export them one at a time, each with its own --profile"
            )
        seen[name] = rid
    return names


@dataclass
class Merged:
    """What `merge_okx_profiles` did, for the one line the user reads (no secrets)."""

    path: Path
    added: list[str]
    replaced: list[str]
    default_profile: str | None  # the file's default profile after the merge


def check_okx_file(path: Path, names: list[str], force: bool = False) -> None:
    """ExportError when `names` cannot be merged into `path`: unreadable, not OKX's profile
    file, its directory not writable, or (ProfileExists) a profile already there without
    `force`. Asked before anything irreversible (a browser, a decryption); the merge asks again
    under the lock."""
    doc = _read_doc(path)
    _profiles_of(doc, path)
    _conflicts(doc, names, force, path)
    problem = _dir_problem(path)
    if problem:
        raise ExportError(problem)


def merge_okx_profiles(
    path: Path, profiles: Mapping[str, tuple[str, Credential]], force: bool = False
) -> Merged:
    """Add `profiles` (name -> (record id, credential)) to OKX's profile file at `path`.

    Other profiles, comments and `default_profile` are kept. A file with no profile yet gets
    the first new one as `default_profile` (the OKX CLI then uses it without `--profile`); a
    file that has profiles but no default keeps meaning what it meant (the toolkit then uses
    the profile named "default").
    Writers take the directory's lock, the file is rebuilt in a temporary (0600, fsync'ed)
    and renamed over the old one, then the directory is fsync'ed: a reader sees the old file
    or the new one, never half of either. A symlinked file is updated where it points."""
    import tomlkit

    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    _make_dir(target.parent)
    with _locked(target.parent):
        doc = _read_doc(target)
        table = _profiles_of(doc, target)
        had_profiles = bool(table)
        replaced = _conflicts(doc, list(profiles), force, target)
        for name, (rid, cred) in profiles.items():
            entry = tomlkit.table()
            entry.add(tomlkit.comment(_one_line(" | ".join(_about(rid, cred)[:3]))))
            for key, value in okx_profile(cred).items():
                entry.add(key, value)
            table[name] = entry
        if "default_profile" not in doc and not had_profiles and profiles:
            doc["default_profile"] = next(iter(profiles))  # tomlkit puts it before the tables
        _replace_file(target, tomlkit.dumps(doc).encode())
    default = doc.get("default_profile")
    return Merged(
        path=target,
        added=[n for n in profiles if n not in replaced],
        replaced=replaced,
        default_profile=str(default) if default is not None else None,
    )


def _read_doc(path: Path) -> Any:
    """The file as a tomlkit document (empty when missing); ExportError naming what is wrong."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    if not path.exists():
        return tomlkit.document()
    if not path.is_file():
        raise ExportError(f"{path}: not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ExportError(f"cannot read {path} ({why})") from None
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ExportError(
            f"{path} is not valid TOML ({_one_line(exc)}): fix it, or write to another file"
        ) from None


def _profiles_of(doc: Any, path: Path) -> Any:
    """The `profiles` table, created when missing; refused when the file has it as something
    else (then it is not OKX's profile file, and rewriting it would lose data)."""
    import tomlkit
    from tomlkit.items import Table

    if "profiles" not in doc:
        doc["profiles"] = tomlkit.table(is_super_table=True)
    table = doc["profiles"]
    if not isinstance(table, Table | dict) or any(
        not isinstance(v, Table | dict) for v in table.values()
    ):
        raise ExportError(
            f"{path}: 'profiles' is not a table of [profiles.NAME] tables; this is not OKX's "
            "profile file (write to another file)"
        )
    return table


def _conflicts(doc: Any, names: list[str], force: bool, path: Path) -> list[str]:
    """The names already in the file: returned with `force` (they are replaced), refused
    without it."""
    profiles = doc.get("profiles") or {}
    taken = [n for n in names if n in profiles]
    if taken and not force:
        raise ProfileExists(taken, path)
    return taken


def _dir_problem(path: Path) -> str | None:
    """Whether the file's directory exists or can be made, and can be written in."""
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create {path.parent}: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent} (permission denied)"
    return None


def _make_dir(directory: Path) -> None:
    """~/.okx is made 0700 when missing: it will hold secrets."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ExportError(f"cannot create {directory}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the directory: two onboard writers never lose each other's profile."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replace_file(path: Path, data: bytes) -> None:
    """temp (0600) + fsync, rename over `path`, fsync the directory."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
