"""`onboard vault ...` through the real CLI (subprocesses), and the sinks in-process."""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pyrage
import pytest

from agent.config import Settings
from agent.custody.sinks import KeyringSink, StdoutSink, VaultSink, make_sink
from agent.custody.vault import Credential, NotARecipient, Vault, VaultError
from tests.helpers import make_cred

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ONBOARD_RECIPIENTS", raising=False)
    monkeypatch.delenv("ONBOARD_HOME", raising=False)
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home)


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    full.update(ONBOARD_HOME=str(home), COLUMNS="300", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "agent", "vault", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def secrets_of(cred: Credential) -> list[str]:
    return [cred.secret, cred.passphrase, cred.api_key]


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


# -- list --------------------------------------------------------------------------------------


def test_list_shows_masked_data_and_status(home: Path, settings: Settings) -> None:
    v = Vault(settings)
    c1, c2 = make_cred(), make_cred(label="ICG-ARB", account="sub-7", ips=["198.51.100.9"])
    r1, r2 = v.store(c1), v.store(c2)
    v.update_meta(r2, verification="ok")
    res = cli(home, "list")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    for rid in (r1, r2):
        assert rid in out
    assert "ICG-MM" in out and "ICG-ARB" in out and "sub-7" in out
    assert "…" + c1.api_key[-4:] in out and "…" + c2.api_key[-4:] in out
    assert "read_only, trade" in out and "203.0.113.7, 2001:db8::7" in out
    assert "198.51.100.9" in out
    assert "pending" in out and "ok" in out
    for clear in [*secrets_of(c1), *secrets_of(c2)]:
        assert clear not in out + res.stderr

    res = cli(home, "list", "--json")
    assert res.returncode == 0
    entries = json.loads(res.stdout)
    assert [e["id"] for e in entries] == [r1, r2]
    assert entries[1]["verification"] == "ok"
    assert entries[0]["api_key_last4"] == c1.api_key[-4:]
    for clear in [*secrets_of(c1), *secrets_of(c2)]:
        assert clear not in res.stdout


def test_list_empty(home: Path) -> None:
    res = cli(home, "list")
    assert res.returncode == 0 and "no records" in res.stdout


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"garbage, not age at all",
        lambda b: b[:40],  # truncated inside the header
        lambda b: b"",
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_list_survives_corrupt_age_and_json(home: Path, settings: Settings, damage: Any) -> None:
    v = Vault(settings)
    good, bad_age, bad_json = make_cred(), make_cred(label="BAD-AGE"), make_cred(label="BAD-JSON")
    rg, ra, rj = v.store(good), v.store(bad_age), v.store(bad_json)
    age = settings.vault_dir / f"{ra}.age"
    age.write_bytes(damage(age.read_bytes()))
    (settings.vault_dir / f"{rj}.json").write_text('{"id": "truncat')

    res = cli(home, "list")
    assert res.returncode == 1
    out = res.stdout
    assert f"{ra}.age" in out and f"{rj}.json" in out  # named
    assert rg in out and "ICG-MM" in out and "…" + good.api_key[-4:] in out  # the rest listed
    assert "BAD-AGE" in out  # its metadata is still shown next to the error
    assert "damaged" in res.stderr

    entries = {e["id"]: e for e in json.loads(cli(home, "list", "--json").stdout)}
    assert "error" not in entries[rg]
    assert f"{ra}.age" in entries[ra]["error"]
    assert f"{rj}.json" in entries[rj]["error"]

    # in-process too
    listed = {e["id"]: e for e in v.list()}
    assert set(listed) == {rg, ra, rj} and "error" not in listed[rg]


def test_list_reports_missing_halves(home: Path, settings: Settings) -> None:
    """A lost `.age` is reported by name. A lost `.json` (a store killed between the two
    files by an earlier version) is rebuilt from the record with the local identity, and
    the listing says so; without an identity that can decrypt it, it is reported."""
    v = Vault(settings)
    r1, r2, r3 = v.store(make_cred()), v.store(make_cred()), v.store(make_cred())
    (settings.vault_dir / f"{r1}.json").unlink()
    (settings.vault_dir / f"{r2}.age").unlink()
    res = cli(home, "list")
    assert res.returncode == 1
    assert f"{r2}.age" in res.stdout and r3 in res.stdout
    assert f"recovered {r1}" in res.stderr and "rebuilt" in res.stderr
    assert (settings.vault_dir / f"{r1}.json").exists()
    assert cli(home, "list").stderr.count("recovered") == 0  # once

    settings.identity_file.unlink()  # e.g. records encrypted to the firm's recipients
    (settings.vault_dir / f"{r3}.json").unlink()
    res = cli(home, "list", "--json")
    assert res.returncode == 1
    entries = {e["id"]: e for e in json.loads(res.stdout)}
    assert f"{r3}.json" in entries[r3]["error"] and "--identity" in entries[r3]["error"]
    assert (settings.vault_dir / f"{r3}.age").exists()  # kept


def test_list_check_finds_payload_damage(home: Path, settings: Settings) -> None:
    """A flipped byte in the payload passes the structural check; decryption catches it."""
    v = Vault(settings)
    rg, rb = v.store(make_cred()), v.store(make_cred())
    age = settings.vault_dir / f"{rb}.age"
    blob = bytearray(age.read_bytes())
    blob[-3] ^= 0xFF
    age.write_bytes(bytes(blob))
    assert cli(home, "list").returncode == 0  # no identity used: cannot tell
    res = cli(home, "list", "--check")
    assert res.returncode == 1
    entries = {e["id"]: e for e in json.loads(cli(home, "list", "--check", "--json").stdout)}
    assert entries[rg]["check"] == "ok"
    assert f"{rb}.age" in entries[rb]["error"]


# -- show ------------------------------------------------------------------------------------


def test_show_without_reveal_hides_secrets(home: Path, settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    res = cli(home, "show", rid)
    assert res.returncode == 0, res.stderr
    assert rid in res.stdout and "ICG-MM" in res.stdout and cred.api_key[-4:] in res.stdout
    assert "pending" in res.stdout
    assert "--reveal" in res.stdout + res.stderr  # says how
    for clear in secrets_of(cred):
        assert clear not in res.stdout + res.stderr


def test_show_reveal_refuses_a_pipe(home: Path, settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    res = cli(home, "show", rid, "--reveal")
    assert res.returncode == 2
    assert "--force-pipe" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    for clear in secrets_of(cred):
        assert clear not in res.stdout + res.stderr


def test_show_reveal_with_force_pipe(home: Path, settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    res = cli(home, "show", rid, "--reveal", "--force-pipe")
    assert res.returncode == 0, res.stderr
    assert cred.secret in res.stdout and cred.passphrase in res.stdout
    assert cred.api_key in res.stdout and rid in res.stdout


def test_help_documents_the_pipe_rule(home: Path) -> None:
    res = cli(home, "show", "--help")
    assert res.returncode == 0 and "--force-pipe" in res.stdout and "pipe" in res.stdout


# -- export ----------------------------------------------------------------------------------


def test_export_json(home: Path, settings: Settings) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    res = cli(home, "export", rid, "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["id"] == rid
    assert Credential(**{k: v for k, v in data.items() if k != "id"}) == cred


def test_export_env(home: Path, settings: Settings) -> None:
    cred = make_cred(passphrase="a$b'c d!Zz9#")  # needs quoting
    rid = Vault(settings).store(cred)
    res = cli(home, "export", rid, "--format", "env")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    values = {}
    for line in lines:
        if line.startswith("#") or not line:
            continue
        name, _, raw = line.partition("=")
        (values[name],) = shlex.split(raw)
    assert values == {
        "OKX_API_KEY": cred.api_key,
        "OKX_SECRET_KEY": cred.secret,  # OKX's toolkit's names
        "OKX_PASSPHRASE": cred.passphrase,
        "OKX_SITE": "global",
        "OKX_API_SECRET": cred.secret,  # the names earlier versions wrote, kept
        "OKX_API_PASSPHRASE": cred.passphrase,
    }
    comments = "\n".join(ln for ln in lines if ln.startswith("#"))
    assert "ICG-MM" in comments and "203.0.113.7, 2001:db8::7" in comments and rid in comments
    # the shell agrees with the quoting
    sh = subprocess.run(
        ["sh", "-c", f'{res.stdout}\nprintf %s "$OKX_API_PASSPHRASE"'],
        capture_output=True,
        text=True,
    )
    assert sh.stdout == cred.passphrase


def test_export_out_file_0600_and_no_overwrite(
    home: Path, settings: Settings, tmp_path: Path
) -> None:
    cred = make_cred()
    rid = Vault(settings).store(cred)
    out = tmp_path / "okx.env"
    res = cli(home, "export", rid, "--format", "env", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # nothing secret on stdout
    assert mode(out) == 0o600
    text = out.read_text()
    assert f"OKX_SECRET_KEY={cred.secret}" in text
    assert not list(tmp_path.glob(".*.tmp"))

    res = cli(home, "export", rid, "--format", "json", "--out", str(out))
    assert res.returncode == 2
    assert "refusing to overwrite" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert out.read_text() == text


def test_export_bad_format(home: Path, settings: Settings) -> None:
    rid = Vault(settings).store(make_cred())
    res = cli(home, "export", rid, "--format", "yaml")
    assert res.returncode == 2 and "Invalid value for '--format'" in res.stderr
    assert "'json', 'env', 'ccxt', 'okx-toml'" in res.stderr and res.stdout == ""


# -- rekey -----------------------------------------------------------------------------------


def test_rekey_to_new_recipient(home: Path, settings: Settings, tmp_path: Path) -> None:
    v = Vault(settings)
    c1, c2 = make_cred(), make_cred()
    r1, r2 = v.store(c1), v.store(c2)  # encrypted to the local identity
    old = v.local_identity(create=False)
    metas = {r: (settings.vault_dir / f"{r}.json").read_bytes() for r in (r1, r2)}
    new = pyrage.x25519.Identity.generate()
    new_file = tmp_path / "firm.key"
    new_file.write_text(f"# created: today\n# public key: {new.to_public()}\n{new}\n")

    res = cli(home, "rekey", "--all", "--recipient", str(new.to_public()))
    assert res.returncode == 0, res.stderr
    assert r1 in res.stdout and r2 in res.stdout

    for rid, cred in ((r1, c1), (r2, c2)):
        with pytest.raises(NotARecipient):
            v.load(rid, old)
        assert v.load(rid, new) == cred
        assert (settings.vault_dir / f"{rid}.json").read_bytes() == metas[rid]
        assert mode(settings.vault_dir / f"{rid}.age") == 0o600
    assert sorted(p.name for p in settings.vault_dir.iterdir()) == sorted(
        [f"{r1}.age", f"{r1}.json", f"{r2}.age", f"{r2}.json"]
    )

    # the old (local) identity is refused now; the firm's file works through the CLI
    res = cli(home, "show", r1, "--reveal", "--force-pipe")
    assert res.returncode == 2 and "--identity" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = cli(home, "show", r1, "--reveal", "--force-pipe", "--identity", str(new_file))
    assert res.returncode == 0 and c1.secret in res.stdout

    # and back again, one id, decrypting with the firm's file, to two recipients
    other = pyrage.x25519.Identity.generate()
    res = cli(
        home,
        "rekey",
        r1,
        "-r",
        str(old.to_public()),
        "-r",
        str(other.to_public()),
        "--identity",
        str(new_file),
    )
    assert res.returncode == 0, res.stderr
    assert v.load(r1, old) == c1 and v.load(r1, other) == c1


def test_rekey_uses_configured_recipients_and_refuses_without(
    home: Path, settings: Settings
) -> None:
    rid = Vault(settings).store(make_cred())
    res = cli(home, "rekey", "--all")
    assert res.returncode == 2 and "ONBOARD_RECIPIENTS" in res.stderr
    res = cli(home, "rekey")
    assert res.returncode == 2
    res = cli(home, "rekey", "--all", "--recipient", "not-a-key")
    assert res.returncode == 2 and "not an age recipient" in res.stderr
    firm = pyrage.x25519.Identity.generate()
    res = cli(home, "rekey", rid, env={"ONBOARD_RECIPIENTS": json.dumps([str(firm.to_public())])})
    assert res.returncode == 0, res.stderr
    assert Vault(settings).load(rid, firm).label == "ICG-MM"


def test_rekey_with_wrong_identity_changes_nothing(home: Path, settings: Settings) -> None:
    firm = pyrage.x25519.Identity.generate()
    v = Vault(settings, recipients=[str(firm.to_public())])
    rid = v.store(make_cred())
    before = (settings.vault_dir / f"{rid}.age").read_bytes()
    Vault(settings).local_identity()  # an identity that is not a recipient
    res = cli(home, "rekey", rid, "-r", str(pyrage.x25519.Identity.generate().to_public()))
    assert res.returncode == 2 and rid in res.stderr
    assert (settings.vault_dir / f"{rid}.age").read_bytes() == before


# -- recipients only, errors -------------------------------------------------------------------


def test_recipients_only_store_creates_no_identity(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    firm = pyrage.x25519.Identity.generate()
    monkeypatch.setenv("ONBOARD_RECIPIENTS", json.dumps([str(firm.to_public())]))
    s = Settings(home=home)
    cred = make_cred()
    rid = Vault(s).store(cred)
    assert not s.identity_file.exists()
    assert mode(s.vault_dir) == 0o700
    with pytest.raises(VaultError, match="no identity"):
        Vault(s).load(rid)
    assert not s.identity_file.exists()

    env = {"ONBOARD_RECIPIENTS": json.dumps([str(firm.to_public())])}
    res = cli(home, "list", env=env)  # no identity needed to list
    assert res.returncode == 0 and rid in res.stdout
    res = cli(home, "show", rid, "--reveal", "--force-pipe", env=env)
    assert res.returncode == 2
    assert res.stderr.startswith("error: no identity") and "--identity" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    res = cli(home, "export", rid, env=env)
    assert res.returncode == 2 and "no identity" in res.stderr
    assert not s.identity_file.exists()

    firm_file = tmp_path / "firm.key"
    firm_file.write_text(str(firm) + "\n")
    res = cli(home, "export", rid, "--identity", str(firm_file), env=env)
    assert res.returncode == 0 and json.loads(res.stdout)["secret"] == cred.secret


@pytest.mark.parametrize("command", ["show", "export", "rekey"])
def test_unknown_id(home: Path, settings: Settings, command: str) -> None:
    Vault(settings).store(make_cred())
    extra = ["-r", str(pyrage.x25519.Identity.generate().to_public())] if command == "rekey" else []
    for rid in ("20990101T000000-ffffff", "../identity.age"):
        res = cli(home, command, rid, *extra)
        assert res.returncode == 2
        assert res.stderr.startswith("error: no record") and rid in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1


def test_bad_identity_file(home: Path, settings: Settings, tmp_path: Path) -> None:
    rid = Vault(settings).store(make_cred())
    bad = tmp_path / "bad.key"
    bad.write_text("hello\n")
    res = cli(home, "export", rid, "--identity", str(bad))
    assert res.returncode == 2 and "not an age identity" in res.stderr
    res = cli(home, "export", rid, "--identity", str(tmp_path / "missing.key"))
    assert res.returncode == 2 and "does not exist" in res.stderr


# -- sinks (in-process) ------------------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Any:
    before = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(before)


def test_keyring_sink_round_trips(memory_keyring: MemoryKeyring, settings: Settings) -> None:
    cred = make_cred()
    sink = make_sink("keyring", settings)
    assert isinstance(sink, KeyringSink) and sink.name == "keyring"
    sink.check()
    ref = sink.store(cred)
    user = f"okx:main:ICG-MM:{cred.api_key[-4:]}"
    assert ref == f"keyring:onboard/{user}"
    assert Credential(**json.loads(memory_keyring.items[("onboard", user)])) == cred
    assert sink.load("okx", "main", "ICG-MM", cred.api_key[-4:]) == cred
    with pytest.raises(VaultError, match="refusing to overwrite"):
        sink.store(cred)
    assert not settings.vault_dir.exists()  # nothing went to the embedded vault


def test_keyring_sink_without_backend_fails_clearly() -> None:
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        sink = KeyringSink()
        with pytest.raises(VaultError, match="no usable OS keychain"):
            sink.check()
        with pytest.raises(VaultError, match="no usable OS keychain"):
            sink.store(make_cred())
    finally:
        keyring.set_keyring(before)


def test_keyring_sink_backend_error_is_vault_error(memory_keyring: MemoryKeyring) -> None:
    def boom(*_a: Any) -> None:
        raise keyring.errors.PasswordSetError("locked")

    memory_keyring.set_password = boom  # type: ignore[method-assign]
    with pytest.raises(VaultError, match=r"cannot write to the OS keychain.*locked"):
        KeyringSink().store(make_cred())


def test_stdout_sink_refuses_without_reveal(settings: Settings) -> None:
    with pytest.raises(VaultError, match="reveal"):
        StdoutSink()
    with pytest.raises(VaultError, match="reveal"):
        make_sink("stdout", settings)


def test_stdout_sink_prints_with_reveal() -> None:
    buf = io.StringIO()
    cred = make_cred()
    sink = StdoutSink(reveal=True, stream=buf)
    assert sink.store(cred) == "stdout"
    assert Credential(**json.loads(buf.getvalue())) == cred


def test_vault_sink_and_factory(settings: Settings) -> None:
    cred = make_cred()
    sink = make_sink("vault", settings)
    assert isinstance(sink, VaultSink) and sink.name == "vault"
    sink.check()
    rid = sink.store(cred)
    assert Vault(settings).load(rid) == cred
    assert sink.describe([rid]) == f"vault: {rid}"
    with pytest.raises(VaultError, match="--sink 's3': use vault, keyring, stdout or okx-toml"):
        make_sink("s3", settings)


def test_vault_sink_recipients_override(settings: Settings) -> None:
    firm = pyrage.x25519.Identity.generate()
    sink = make_sink("vault", settings, recipients=[str(firm.to_public())])
    rid = sink.store(make_cred())
    assert not settings.identity_file.exists()
    assert Vault(settings).load(rid, firm).label == "ICG-MM"
    with pytest.raises(VaultError, match="not an age recipient"):
        make_sink("vault", settings, recipients=["nope"]).check()
