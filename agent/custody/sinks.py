"""Where a captured credential goes, behind one interface.

- `VaultSink` (default): the embedded age vault (`agent.custody.vault`).
- `KeyringSink`: the OS keychain through `keyring` (service "onboard", username
  `<exchange>:<account>:<label>:<api key last 4>`, value the JSON record).
- `StdoutSink`: the plaintext JSON record on stdout, for piping straight into
  another secret store; only when constructed with `reveal=True`.

Every sink raises `VaultError` (with a message fit for one terminal line) when it
cannot store, so the caller can stop before clicking Complete.
"""

from __future__ import annotations

import json
import sys
from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any, TextIO

from agent.config import Settings
from agent.custody.vault import Credential, Vault, VaultError

SINKS = ("vault", "keyring", "stdout")
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


def make_sink(
    name: str,
    settings: Settings | None = None,
    reveal: bool = False,
    recipients: list[str] | None = None,
) -> Sink:
    """ "vault" | "keyring" | "stdout" -> a Sink. `recipients` overrides the vault's config."""
    if name == "vault":
        return VaultSink(Vault(settings or Settings(), recipients=recipients or None))
    if name == "keyring":
        return KeyringSink()
    if name == "stdout":
        return StdoutSink(reveal=reveal)
    raise VaultError(f"unknown sink {name!r}: use {', '.join(SINKS)}")
