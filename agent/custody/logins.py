"""A client's login carried as Playwright storage state, sealed like a vault record.

Why: a persistent profile needs a browser of its own (Chromium opens a user data directory
in one process), so a batch cannot reuse its warm browser for it. The same login as
storage state (cookies and local storage) goes into a fresh context of a browser that is
already running, here or on a browser server. That state IS the client's session: whoever
holds it is logged in. So it is age-encrypted at rest (0600, written atomically, never over
another file), to this machine's own identity (the one place that uses it must read it
back; the firm's recipients make the vault write-only here), decrypted only into memory
for the context that uses it, and its cookie values are registered with the redaction
layer the moment they are read, so no artifact can carry one.

`onboard login-state save PROFILE` seals a profile's login; a roster entry names it with
`login_state: NAME`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyrage

from agent.config import Settings, name_problem, private_dir
from agent.custody import redact
from agent.custody.age import read_identities
from agent.custody.errors import VaultError
from agent.custody.files import replace_atomic


class LoginStateError(VaultError):
    """A sealed login that cannot be used, in one line naming the file."""


def logins_dir(settings: Settings) -> Path:
    return settings.home / "logins"


def path_of(settings: Settings, name: str) -> Path:
    if problem := name_problem("login_state", name):
        raise LoginStateError(problem)
    return logins_dir(settings) / f"{name}.age"


def _identity(settings: Settings, create: bool) -> Any:
    path = settings.identity_file
    if path.exists():
        return read_identities(path)[0]
    if not create:
        raise LoginStateError(f"no identity to decrypt sealed logins with: {path} is missing")
    from agent.custody.vault import Vault

    return Vault(settings).local_identity(create=True)


def register(state: dict[str, Any]) -> None:
    """Every cookie value and stored item of `state` becomes a secret for the redaction layer."""
    for cookie in state.get("cookies") or []:
        redact.register_secret(str(cookie.get("value") or ""))
    for origin in state.get("origins") or []:
        for item in origin.get("localStorage") or []:
            redact.register_secret(str(item.get("value") or ""))


def seal(settings: Settings, name: str, state: dict[str, Any]) -> Path:
    """Encrypt `state` to this machine's identity and write it (replacing an older seal of
    the same name atomically: a login refreshed is the same login)."""
    path = path_of(settings, name)
    register(state)
    recipient = _identity(settings, create=True).to_public()
    blob: bytes = pyrage.encrypt(json.dumps(state).encode(), [recipient])
    try:
        private_dir(path.parent)
        replace_atomic(path, blob, 0o600)
    except OSError as exc:
        raise LoginStateError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def exists(settings: Settings, name: str) -> bool:
    return path_of(settings, name).is_file()


def unseal(settings: Settings, name: str) -> dict[str, Any]:
    """The storage state, in memory only, its values registered as secrets."""
    path = path_of(settings, name)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise LoginStateError(
            f"login_state {name!r}: no sealed login at {path} (seal one with "
            f"`onboard login-state save PROFILE --name {name}`)"
        ) from None
    except OSError as exc:
        raise LoginStateError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        state: Any = json.loads(pyrage.decrypt(blob, [_identity(settings, create=False)]))
    except (pyrage.DecryptError, ValueError) as exc:
        raise LoginStateError(f"{path.name}: cannot be decrypted here ({exc})") from None
    if not isinstance(state, dict):
        raise LoginStateError(f"{path.name}: not a storage state")
    register(state)
    return state
