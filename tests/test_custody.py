"""The vault (age-encrypted, private files, never overwrites) and the redaction layer."""

from __future__ import annotations

import json
import os
import stat
import uuid
from pathlib import Path

import pyrage
import pytest

from agent.config import Settings
from agent.custody import redact as redact_mod
from agent.custody import vault as vault_mod
from agent.custody.redact import mask_key, redact, register_key, register_secret
from agent.custody.vault import Vault, VaultError
from tests.helpers import make_cred


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("ONBOARD_RECIPIENTS", raising=False)
    monkeypatch.delenv("ONBOARD_HOME", raising=False)
    return Settings(home=tmp_path / "home")


def test_store_then_load_round_trips(settings: Settings) -> None:
    cred = make_cred()
    v = Vault(settings)
    rid = v.store(cred)
    back = Vault(settings).load(rid)
    assert back == cred


def test_encrypted_file_has_no_clear_text(settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    blob = (settings.vault_dir / f"{rid}.age").read_bytes()
    assert blob.startswith(b"age-encryption.org/v1")
    for clear in (cred.secret, cred.passphrase, cred.api_key, cred.api_key[-12:]):
        assert clear.encode() not in blob


def test_metadata_is_safe(settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    raw = (settings.vault_dir / f"{rid}.json").read_text()
    meta = json.loads(raw)
    assert meta["id"] == rid
    assert meta["api_key_last4"] == cred.api_key[-4:]
    assert meta["api_key_masked"] == "…" + cred.api_key[-4:]
    assert meta["verification"] == "pending"
    assert meta["ips"] == cred.ips and meta["label"] == "ICG-MM"
    assert "secret" not in meta and "passphrase" not in meta and "api_key" not in meta
    for clear in (cred.secret, cred.passphrase, cred.api_key):
        assert clear not in raw
    assert Vault(settings).list() == [meta]


def test_file_modes(settings: Settings) -> None:
    rid = Vault(settings).store(make_cred())
    assert mode(settings.vault_dir) == 0o700
    assert mode(settings.vault_dir / f"{rid}.age") == 0o600
    assert mode(settings.vault_dir / f"{rid}.json") == 0o600
    assert mode(settings.identity_file) == 0o600
    assert sorted(p.name for p in settings.vault_dir.iterdir()) == [f"{rid}.age", f"{rid}.json"]


def test_identity_generated_once(settings: Settings) -> None:
    a = Vault(settings).local_identity()
    first = settings.identity_file.read_text()
    b = Vault(settings).local_identity()
    assert str(a) == str(b) == first.strip()
    assert settings.identity_file.read_text() == first
    assert first.startswith("AGE-SECRET-KEY-")


def test_explicit_recipient_only_that_identity_decrypts(settings: Settings) -> None:
    firm = pyrage.x25519.Identity.generate()
    cred = make_cred()
    v = Vault(settings, recipients=[str(firm.to_public())])
    rid = v.store(cred)
    with pytest.raises(pyrage.DecryptError):
        v.load(rid)  # the local identity is not a recipient
    assert v.load(rid, identity=firm) == cred


def test_recipients_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    firm = pyrage.x25519.Identity.generate()
    monkeypatch.setenv("ONBOARD_RECIPIENTS", json.dumps([str(firm.to_public())]))
    s = Settings(home=tmp_path)
    cred = make_cred()
    rid = Vault(s).store(cred)
    assert Vault(s).load(rid, identity=firm) == cred


@pytest.mark.parametrize("bad", ["not-a-key", "age1", "AGE-SECRET-KEY-1XYZ", ""])
def test_bad_recipient_raises_vault_error(settings: Settings, bad: str) -> None:
    v = Vault(settings, recipients=[bad])
    with pytest.raises(VaultError, match="not an age recipient"):
        v.recipients()
    with pytest.raises(VaultError, match="not an age recipient"):
        v.store(make_cred())
    assert not settings.vault_dir.exists() or not list(settings.vault_dir.iterdir())


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_vault_dir(settings: Settings) -> None:
    v = Vault(settings)
    v.local_identity()
    settings.vault_dir.mkdir(mode=0o700)
    settings.vault_dir.chmod(0o500)
    try:
        with pytest.raises(VaultError, match="cannot write the vault at"):
            v.store(make_cred())
    finally:
        settings.vault_dir.chmod(0o700)


def test_vault_path_is_a_file(settings: Settings) -> None:
    """An OSError while preparing the vault is a VaultError (works as root too)."""
    v = Vault(settings)
    v.local_identity()
    settings.vault_dir.write_text("not a directory")
    with pytest.raises(VaultError, match=f"cannot write the vault at {settings.vault_dir}"):
        v.store(make_cred())


def test_two_stores_two_ids(settings: Settings) -> None:
    v = Vault(settings)
    c1 = make_cred()
    c2 = make_cred(created_at=c1.created_at)  # same second: the random suffix keeps them apart
    r1, r2 = v.store(c1), v.store(c2)
    assert r1 != r2
    assert v.load(r1) == c1 and v.load(r2) == c2
    assert len(list(settings.vault_dir.glob("*.age"))) == 2


def test_never_overwrites(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    v = Vault(settings)
    c1 = make_cred()
    monkeypatch.setattr(vault_mod.secrets, "token_hex", lambda n=None: "abcdef")
    r1 = v.store(c1)
    before = (settings.vault_dir / f"{r1}.age").read_bytes()
    c2 = make_cred(created_at=c1.created_at)
    with pytest.raises(VaultError, match="cannot write the vault"):
        v.store(c2)  # same id: refused, not replaced
    assert (settings.vault_dir / f"{r1}.age").read_bytes() == before
    assert v.load(r1) == c1
    assert not list(settings.vault_dir.glob(".*.tmp"))


def test_credential_repr_hides_secrets() -> None:
    cred = make_cred()
    assert cred.secret not in repr(cred) and cred.passphrase not in repr(cred)


# -- redaction -------------------------------------------------------------------------------


def test_registered_secret_redacted() -> None:
    secret = "S3CRET-" + uuid.uuid4().hex
    register_secret(secret)
    assert redact(f"boom: {secret} here, {secret}") == "boom: [REDACTED] here, [REDACTED]"


def test_registered_key_masked() -> None:
    key = str(uuid.uuid4())
    register_key(key)
    assert redact(f"key={key}.") == f"key=…{key[-4:]}."
    assert mask_key(key) == "…" + key[-4:]
    assert mask_key("") == ""


def test_unregistered_text_unchanged() -> None:
    text = "nothing secret " + uuid.uuid4().hex
    assert redact(text) == text
    assert redact("") == ""


def test_short_values_not_registered() -> None:
    register_secret("abc")
    register_key("1234567")
    register_secret(None)
    assert "abc" not in redact_mod._secrets
    assert redact("abc 1234567") == "abc 1234567"


def test_longer_secret_wins_over_its_prefix() -> None:
    short = "pfx-" + uuid.uuid4().hex[:6]
    long = short + "-and-more"
    register_secret(short)
    register_secret(long)
    assert redact(f"[{long}]") == "[[REDACTED]]"
