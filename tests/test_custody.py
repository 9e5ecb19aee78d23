"""The vault (age-encrypted, private files, never overwrites) and the redaction layer."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pyrage
import pytest

from agent.config import Settings
from agent.custody import redact as redact_mod
from agent.custody import vault as vault_mod
from agent.custody.redact import mask_key, redact, register_key, register_secret
from agent.custody.vault import CorruptRecord, Vault, VaultBusy, VaultError, held_message
from agent.journal import verdict
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


NOBODY = 65534  # the unprivileged user and group of Debian and most distributions


def as_unprivileged(fn: Callable[[], str]) -> str:
    """fn() where file permissions apply: as root (which ignores them) in a forked child that
    first becomes `nobody`; otherwise here. Its result, or its failure, comes back."""
    if os.geteuid() != 0:
        return fn()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code, out = 1, "no result"
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code, out = 0, fn()
        except BaseException as exc:  # pytest's failures too
            out = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write, out.encode())
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        out = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out


def test_unwritable_vault_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vault cannot be created (its data directory is read-only): a VaultError, nothing
    written. As an unprivileged user even on a root test machine (root ignores permissions).
    (A vault directory of one's own that is read-only is no test: the vault makes it 0700.)"""
    monkeypatch.delenv("ONBOARD_RECIPIENTS", raising=False)
    top = Path(tempfile.mkdtemp(prefix="onboard-perm-"))  # pytest's tmp dirs are root's (0700)
    if os.geteuid() == 0:
        os.chown(top, NOBODY, NOBODY)
    settings = Settings(home=top / "home")

    def attempt() -> str:
        v = Vault(settings)
        v.local_identity()
        settings.home.chmod(0o500)
        with pytest.raises(VaultError) as exc:
            v.store(make_cred())
        assert not settings.vault_dir.exists()  # nothing written
        return f"{os.geteuid()}: {exc.value}"

    try:
        uid, _, message = as_unprivileged(attempt).partition(": ")
        assert uid == str(NOBODY if os.geteuid() == 0 else os.geteuid())
        assert message == f"cannot write the vault at {settings.vault_dir}: Permission denied"
    finally:
        if settings.home.exists():
            settings.home.chmod(0o700)
        shutil.rmtree(top)


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


# -- interrupted stores and their recovery ----------------------------------------------------


def test_recover_rebuilds_the_metadata_of_an_orphan_record(settings: Settings) -> None:
    """An `.age` without its `.json` (an earlier version killed between the two): with the
    local identity the metadata is rebuilt from the record; said once, nothing else moves."""
    v = Vault(settings)
    cred = make_cred()
    rid = v.store(cred)
    meta_file = settings.vault_dir / f"{rid}.json"
    before = json.loads(meta_file.read_text())
    meta_file.unlink()
    [found] = v.recover()
    assert (found.rid, found.state) == (rid, "recovered") and "rebuilt" in found.detail
    after = v.meta(rid)
    assert after.pop("rebuilt_at") > before["created_at"]  # says it was rebuilt, and when
    assert after == before  # the same fields a store writes (no run id was given)
    assert v.recover() == []
    assert v.load(rid) == cred


def test_recover_publishes_an_earlier_versions_complete_temporary(settings: Settings) -> None:
    """`.ID.age.XXXX.tmp` left complete by an earlier version's store (nothing reported it):
    it decrypts to a credential record, so it is published as `ID.age` with its metadata."""
    v = Vault(settings)
    cred = make_cred()
    rid = v.store(cred)
    (settings.vault_dir / f"{rid}.json").unlink()
    (settings.vault_dir / f"{rid}.age").rename(settings.vault_dir / f".{rid}.age.0badc0de.tmp")
    assert v.ids() == []
    [found] = v.recover()
    assert (found.rid, found.state) == (rid, "recovered")
    assert v.load(rid) == cred and v.meta(rid)["label"] == cred.label
    assert sorted(p.name for p in settings.vault_dir.iterdir()) == [f"{rid}.age", f"{rid}.json"]


def test_recover_without_an_identity_reports_and_keeps(settings: Settings) -> None:
    """Encrypted to the firm: this machine cannot rebuild the metadata, so it says what is
    missing and how to rebuild it, and removes nothing."""
    firm = pyrage.x25519.Identity.generate()
    v = Vault(settings, recipients=[str(firm.to_public())])
    rid = v.store(make_cred())
    (settings.vault_dir / f"{rid}.json").unlink()
    [found] = v.recover()
    assert found.state == "unrecovered" and "--identity" in found.detail
    [entry] = v.list()
    assert f"{rid}.json" in entry["error"]
    [again] = v.recover(identities=[firm])
    assert again.state == "recovered" and v.meta(rid)["label"] == "ICG-MM"


def test_a_store_in_progress_is_never_taken_for_a_leftover(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (`vault list`, `onboard runs`) recovering while a batch stores: it
    waits for the store's lock and gives up rather than touch its temporaries."""
    blocked, release = threading.Event(), threading.Event()

    def point(name: str) -> None:
        if name == "store:during":
            blocked.set()
            release.wait(10)

    monkeypatch.setattr(vault_mod.faults, "point", point)
    v = Vault(settings)
    cred = make_cred()
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(v.store(cred)))
    t.start()
    try:
        assert blocked.wait(10)
        temps = sorted(p.name for p in settings.vault_dir.iterdir())
        assert len(temps) == 2 and all(n.endswith(".tmp") for n in temps)
        with pytest.raises(VaultBusy):
            Vault(settings).recover(wait=0.3)
        assert sorted(p.name for p in settings.vault_dir.iterdir()) == temps  # untouched
    finally:
        release.set()
        t.join(10)
    [rid] = out
    assert v.recover() == [] and v.load(rid) == cred


def test_update_meta_of_a_missing_metadata_file_is_a_vault_error(settings: Settings) -> None:
    v = Vault(settings)
    firm = pyrage.x25519.Identity.generate()
    rid = Vault(settings, recipients=[str(firm.to_public())]).store(make_cred())
    (settings.vault_dir / f"{rid}.json").write_text("{not json")
    with pytest.raises(CorruptRecord, match=f"{rid}.json"):
        v.update_meta(rid, verification="ok")
    assert (settings.vault_dir / f"{rid}.json").read_text() == "{not json"


def test_holding_finds_the_record_of_that_key(settings: Settings) -> None:
    """What a rerun's duplicate-name refusal consults: same exchange, site or base URL,
    account and label."""
    v = Vault(settings)
    cred = make_cred(account="sub-1")
    rid = v.store(cred)
    v.store(make_cred(label="OTHER", account="sub-1"))
    [held] = v.holding("okx", "global", None, "sub-1", "ICG-MM")
    assert held["id"] == rid
    assert v.holding("okx", "global", None, "main", "ICG-MM") == []
    assert v.holding("okx", "eea", None, "sub-1", "ICG-MM") == []
    assert v.holding("okx", "global", "http://127.0.0.1:1", "sub-1", "ICG-MM") == []
    text = held_message("ICG-MM", [held])
    assert f"the vault holds its credentials (record {rid}, key …{cred.api_key[-4:]})" in text
    assert f"onboard verify {rid}" in text and "delete" not in text
    v.mark_unusable(rid, "the exchange created it with Withdraw besides Read, Trade")
    [held] = v.holding("okx", "global", None, "sub-1", "ICG-MM")
    text = held_message("ICG-MM", [held])
    assert "marked unusable" in text and "delete that key" in text


def test_verdict_consults_the_vault(settings: Settings) -> None:
    """A run killed after storing one of its two keys: the stored one is not to be deleted."""
    row = {"id": "R1", "label": "ICG-MM", "account": "sub-1, sub-2", "state": "captured",
           "reached": "captured", "note": "", "vault_ids": ""}  # fmt: skip
    assert "KEY MUST BE DELETED" in verdict(row)
    held = [{"id": "X1", "account": "sub-1", "run_id": "R1", "api_key_masked": "…abcd"}]
    text = verdict(row, held)
    assert "KEY MUST BE DELETED AND RECREATED" in text and "sub-2" in text
    assert "stored (X1" in text and "sub-1" in text
    both = [*held, {"id": "X2", "account": "sub-2", "run_id": "R1", "api_key_masked": "…ef01"}]
    assert verdict(row, both).startswith("ok: credentials stored (X1, X2)")
