"""Where a captured credential goes, behind one interface.

- `VaultSink` (default): the embedded age vault (`agent.custody.vault`).
- `KeyringSink`: the OS keychain through `keyring` (service "onboard", username
  `<exchange>:<account>:<label>:<api key last 4>`, value the JSON record).
- `StdoutSink`: the plaintext JSON record on stdout, for piping straight into
  another secret store; only when constructed with `reveal=True`.
- `OkxTomlSink` (`okx-toml:NAME`): the vault, then a profile NAME in OKX's own
  ~/.okx/config.toml (`agent.custody.formats`), written by `finish` once the run's checks
  passed, so a key found unusable never reaches it.

Every sink raises `VaultError` (with a message fit for one terminal line) when it
cannot store, so the caller can stop before clicking Complete.
"""

from __future__ import annotations

import json
import sys
from abc import ABC, abstractmethod
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from agent.choices import SinkKind, parse_sink
from agent.config import Settings
from agent.custody import formats
from agent.custody.vault import Credential, Vault, VaultError

KEYRING_SERVICE = "onboard"


class Sink(ABC):
    """Stores a credential durably and returns a reference to it."""

    name: str = ""

    def check(self) -> None:  # noqa: B027  (optional hook, a no-op by default)
        """Raise VaultError now if `store` cannot work (called before a browser opens)."""

    @abstractmethod
    def store(self, cred: Credential, run_id: str = "") -> str:
        """Store `cred`; return a reference (e.g. a vault record id). Raises VaultError.

        `run_id` is the journal's run, kept beside the record where the sink can (the
        vault's metadata), so a crash's verdict can find the run's stored keys."""

    def describe(self, refs: list[str]) -> str:
        """One line for the result panel: where the credentials are."""
        return f"{self.name}: {', '.join(refs)}"

    def finish(self, ok: bool) -> str:
        """Called once when the run's checks are done (`ok`: they passed and no key has more
        than Read + Trade); what it did, in one line without secrets, or "". A sink that hands
        keys on to other tools does it here, never before."""
        return ""


class VaultSink(Sink):
    name = "vault"

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def check(self) -> None:
        self.vault.recipients()

    def store(self, cred: Credential, run_id: str = "") -> str:
        return self.vault.store(cred, run_id)


def _record_json(cred: Credential) -> str:
    return json.dumps(asdict(cred), indent=2)


class KeyringSink(Sink):
    name = "keyring"

    def __init__(self, service: str = KEYRING_SERVICE, backend: Any | None = None) -> None:
        self.service = service
        self._backend = backend

    @staticmethod
    def username(cred: Credential) -> str:
        return f"{cred.exchange}:{cred.account}:{cred.label}:{cred.api_key[-4:]}"

    def backend(self) -> Any:
        """The keyring backend in use; VaultError when none is usable on this machine."""
        try:
            import keyring

            kr = self._backend or keyring.get_keyring()
            priority = type(kr).priority
        except Exception as exc:
            raise VaultError(f"no usable OS keychain: {exc}") from None
        if priority <= 0:  # keyring's fail / null backends, or an empty chain
            raise VaultError(
                f"no usable OS keychain on this machine (keyring backend: {type(kr).__name__}); "
                "unlock or install one (Secret Service, macOS Keychain, Windows Credential "
                "Locker) or use the vault sink"
            )
        return kr

    def check(self) -> None:
        self.backend()

    def store(self, cred: Credential, run_id: str = "") -> str:
        kr = self.backend()
        user = self.username(cred)
        ref = f"keyring:{self.service}/{user}"
        value = _record_json(cred)
        try:
            if kr.get_password(self.service, user) is not None:
                raise VaultError(f"{ref} already exists in the keychain; refusing to overwrite")
            kr.set_password(self.service, user, value)
            if kr.get_password(self.service, user) != value:
                raise VaultError(f"{ref}: the keychain did not keep the record (read-back differs)")
        except VaultError:
            raise
        except Exception as exc:
            raise VaultError(
                f"cannot write to the OS keychain: {type(exc).__name__}: {exc}"
            ) from None
        return ref

    def load(self, exchange: str, account: str, label: str, last4: str) -> Credential:
        kr = self.backend()
        user = f"{exchange}:{account}:{label}:{last4}"
        value = kr.get_password(self.service, user)
        if value is None:
            raise VaultError(f"keyring:{self.service}/{user}: not in the keychain")
        return Credential(**json.loads(value))


class StdoutSink(Sink):
    """Prints the plaintext record; refuses to exist without an explicit reveal."""

    name = "stdout"

    def __init__(self, reveal: bool = False, stream: TextIO | None = None) -> None:
        if not reveal:
            raise VaultError(
                "the stdout sink prints the secret in clear: it needs an explicit reveal (--reveal)"
            )
        self.reveal = reveal
        self.stream = stream

    def store(self, cred: Credential, run_id: str = "") -> str:
        if not self.reveal:
            raise VaultError("the stdout sink needs reveal=True")
        out = self.stream or sys.stdout
        try:
            out.write(_record_json(cred) + "\n")
            out.flush()
        except OSError as exc:
            raise VaultError(f"cannot write the record to stdout: {exc.strerror or exc}") from None
        return "stdout"


class OkxTomlSink(VaultSink):
    """The vault first (the custody of record, durable before Complete), then a profile in
    OKX's profile file for the OKX CLI and MCP server.

    `name` stays "vault": the records are in the vault, so the run verifies them and marks a
    key with more than Read + Trade unusable there, as for the vault sink. The profile is
    written by `finish`, which the run calls once its checks are done: only when they passed
    and no record is marked unusable, so a key that must be deleted never reaches a trading
    tool. Several keys (sub-accounts) become `NAME-<account>` profiles.
    """

    def __init__(self, vault: Vault, profile: str, path: Path, accounts: list[str]) -> None:
        super().__init__(vault)
        self.profile = profile
        self.path = path
        self.accounts = accounts or ["main"]
        self._held: list[tuple[str, Credential]] = []

    def _names(self, items: list[tuple[str, str, str]]) -> dict[str, str]:
        return formats.profile_names(items, self.profile)

    def check(self) -> None:
        """The vault's recipients, then the profile file: readable TOML of OKX's shape, the
        profiles this run will write not already there, its directory writable. Before any
        browser opens, so a clash costs the client nothing."""
        super().check()
        planned = self._names([(a, "", a) for a in self.accounts])
        try:
            formats.check_okx_file(self.path, list(planned.values()))
        except formats.ProfileExists as exc:
            raise VaultError(
                f"--sink okx-toml:{self.profile}: {exc}; refusing to overwrite it (pick another "
                "name, or remove that profile from the file first)"
            ) from None
        except formats.ExportError as exc:
            raise VaultError(f"--sink okx-toml:{self.profile}: {exc}") from None

    def store(self, cred: Credential, run_id: str = "") -> str:
        rid = super().store(cred, run_id)
        self._held.append((rid, cred))
        return rid

    def finish(self, ok: bool) -> str:
        if not self._held:
            return ""
        ids = " ".join(rid for rid, _ in self._held)
        later = f"onboard vault export {ids} -f okx-toml --profile {self.profile}"
        if any(self.vault.unusable(rid) for rid, _ in self._held):
            return "OKX profile not written: a record is marked unusable"
        if not ok:
            return (
                "OKX profile not written (the run's checks did not pass); once the key is "
                f"checked: {later}"
            )
        try:
            names = self._names([(rid, c.label, c.account) for rid, c in self._held])
            merged = formats.merge_okx_profiles(
                self.path, {names[rid]: (rid, c) for rid, c in self._held}
            )
        except formats.ExportError as exc:
            return f"OKX profile NOT written ({exc}); the key is safe in the vault: {later}"
        return f"OKX profile {', '.join(merged.added)} in {merged.path}"


def make_sink(
    name: str,
    settings: Settings | None = None,
    reveal: bool = False,
    recipients: list[str] | None = None,
    accounts: list[str] | None = None,
    vault: Vault | None = None,
) -> Sink:
    """A `--sink` value ("vault", "keyring", "stdout", "okx-toml:NAME") -> a Sink.
    `vault` (the run's own) or else `recipients` over the config make the vault; `accounts`
    (the run's, "main" for the main account) name the profiles an okx-toml sink writes."""
    try:
        spec = parse_sink(name)
    except ValueError as exc:
        raise VaultError(f"--sink {exc}") from None
    if spec.kind is SinkKind.KEYRING:
        return KeyringSink()
    if spec.kind is SinkKind.STDOUT:
        return StdoutSink(reveal=reveal)
    settings = settings or Settings()  # only the vault's sinks read the settings
    vault = vault or Vault(settings, recipients=recipients or None)
    if spec.kind is SinkKind.VAULT:
        return VaultSink(vault)
    return OkxTomlSink(vault, spec.profile, settings.okx_config, list(accounts or []))
