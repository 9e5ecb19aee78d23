"""The vault's errors: one family (VaultError), each a message a person can act on. The two
about decryption are also pyrage's DecryptError, so a caller catching that one still sees them."""

from __future__ import annotations

from pathlib import Path

import pyrage


class VaultError(Exception):
    pass


class UnknownRecord(VaultError):
    """No record with that id in the vault."""


class NoIdentity(VaultError, pyrage.DecryptError):  # type: ignore[misc]  # pyrage: no stubs
    """No identity file to decrypt with (so, like a wrong identity, nothing decrypts)."""


class RecordUnreadable(VaultError):
    """A record that exists but cannot be read (damaged, or not for this identity)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotARecipient(RecordUnreadable, pyrage.DecryptError):  # type: ignore[misc]  # pyrage: no stubs
    """The identity given is not one of the record's recipients."""


class CorruptRecord(RecordUnreadable):
    """The file is damaged: truncated, garbage, or not a record."""


class VaultBusy(VaultError):
    """Another process kept the vault's lock (a store in progress) for longer than we wait."""
