"""`vault export` in the shapes trading systems read, each loaded by its real consumer.

- ccxt: `ccxt.okx(json.load(f))` signs a private request the replica's REST accepts (live and
  demo-trading keys; the demo one only because the JSON turns sandbox mode on).
- env: POSIX sh (`env -i sh -c 'set -a; . FILE'`) and python-dotenv read back every value.
- okx-toml: tomllib reads OKX's profile file back; other profiles, comments and
  `default_profile` survive; an existing profile needs --force; the file stays 0600.
- unusable records (more than Read + Trade) are refused by every path.

The CLI runs as a subprocess with its own ONBOARD_HOME, as a user runs it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
import uuid
from pathlib import Path

import ccxt
import httpx
import pytest
from dotenv import dotenv_values

from agent.config import Settings
from agent.custody import formats
from agent.custody.sinks import OkxTomlSink, make_sink
from agent.custody.vault import Credential, Vault, VaultError
from replica.server import ReplicaServer
from replica.state import ApiKey
from tests.helpers import CLIENT, login_profiles, make_cred, onboard, outbox_cmd

ROOT = Path(__file__).resolve().parents[2]
# passphrases OKX accepts that are hard to quote: each must come back byte for byte
AWKWARD = [
    "Pp$HOME`id`!A1x",  # $ and ` (sh would expand them inside "...")
    "It's-a#Pass\"1x",  # ' # "
    "Back\\slash n0!Xy",  # \ and a space
    "a'b\\c$d-Zz9!",  # ' and \ with $: no quoting both sh and dotenv read alike
]


def cli(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("ONBOARD_")}
    full.update(ONBOARD_HOME=str(home), COLUMNS="200", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=ROOT, env=full, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def clean(proc: subprocess.CompletedProcess[str], *creds: Credential) -> None:
    """No secret on stderr (stdout is the export's own output when that is the target)."""
    for c in creds:
        for value in (c.secret, c.passphrase, c.api_key):
            assert value not in proc.stderr


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def vault(home: Path) -> Vault:
    return Vault(Settings(home=home))


def issued(replica: ReplicaServer, *, demo: bool = False, account: str = "main") -> Credential:
    """A key the replica's REST knows (Read + Trade, allowed from loopback), as the vault
    would hold it."""
    key = ApiKey(
        label="ICG-MM",
        account="main",
        api_key=str(uuid.uuid4()),
        secret=uuid.uuid4().hex.upper(),
        passphrase=f"Exp-{uuid.uuid4().hex[:12]}$'1!",
        perms=["read_only", "trade"],
        ips=["127.0.0.1"],
        demo=demo,
    )
    with replica.world.lock:
        replica.world.accounts[CLIENT].keys.append(key)
    return make_cred(
        base_url=replica.base_url, account=account, api_key=key.api_key, secret=key.secret,
        passphrase=key.passphrase, ips=["127.0.0.1"], demo=demo,
    )  # fmt: skip


# -- ccxt ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("demo", [False, True], ids=["live", "demo-trading"])
def test_ccxt_json_builds_a_client_the_replica_accepts(
    replica: ReplicaServer, home: Path, vault: Vault, demo: bool
) -> None:
    cred = issued(replica, demo=demo)
    rid = vault.store(cred)
    proc = cli(home, "vault", "export", rid, "--format", "ccxt")
    assert proc.returncode == 0, proc.stderr
    clean(proc, cred)
    config = json.loads(proc.stdout)
    assert (config["apiKey"], config["secret"], config["password"]) == (
        cred.api_key, cred.secret, cred.passphrase,
    )  # fmt: skip
    ex = ccxt.okx(config)
    assert ex.headers.get("x-simulated-trading") == ("1" if demo else None)
    reply = ex.private_get_account_config()  # signed: key, timestamp, signature, passphrase
    assert reply["code"] == "0"
    [acct] = reply["data"]
    assert acct["perm"] == "read_only,trade" and acct["label"] == "ICG-MM"
    # the demo flag is what makes it work: the same key without sandbox mode is refused (50101)
    wrong = (
        {k: v for k, v in config.items() if k != "sandbox"} if demo else {**config, "sandbox": True}
    )
    with pytest.raises(ccxt.BaseError, match="50101"):
        ccxt.okx(wrong).private_get_account_config()


@pytest.mark.parametrize(
    ("site", "ccxt_class"), [("global", "okx"), ("eea", "myokx"), ("us", "okxus")]
)
def test_ccxt_json_uses_the_rest_host_ccxt_has_for_the_site(site: str, ccxt_class: str) -> None:
    """The host is the one ccxt's own class for that site uses (okx, myokx, okxus), given to the
    okx class, so one config shape serves every site."""
    config = formats.ccxt_config(make_cred(site=site))
    ex = ccxt.okx(config)
    host = getattr(ccxt, ccxt_class)().hostname
    assert ex.implode_hostname(ex.urls["api"]["rest"]) == f"https://{host}"
    assert "sandbox" not in config


def test_ccxt_several_records_keyed_by_profile(home: Path, vault: Vault) -> None:
    a, b = make_cred(), make_cred(account="sub-1")
    ra, rb = vault.store(a), vault.store(b)
    proc = cli(home, "vault", "export", "--label", "ICG-MM", "-f", "ccxt", "--profile", "acme")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"acme-main", "acme-sub-1"}
    assert out["acme-main"]["secret"] == a.secret and out["acme-sub-1"]["secret"] == b.secret
    assert ra != rb


# -- env -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("passphrase", AWKWARD)
def test_env_file_reads_back_in_sh_and_dotenv(
    home: Path, vault: Vault, tmp_path: Path, passphrase: str
) -> None:
    cred = make_cred(passphrase=passphrase, base_url="http://127.0.0.1:8700", demo=True)
    rid = vault.store(cred)
    out = tmp_path / "okx.env"
    proc = cli(home, "vault", "export", rid, "-f", "env", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    clean(proc, cred)
    assert proc.stdout == "" and mode(out) == 0o600
    want = {
        "OKX_API_KEY": cred.api_key,
        "OKX_SECRET_KEY": cred.secret,
        "OKX_PASSPHRASE": cred.passphrase,
        "OKX_SITE": "global",
        "OKX_API_BASE_URL": "http://127.0.0.1:8700",
        "OKX_DEMO": "1",
        "OKX_API_SECRET": cred.secret,
        "OKX_API_PASSPHRASE": cred.passphrase,
    }
    # sh, with nothing else in the environment: every value exactly
    script = f"set -a; . '{out}'; " + "; ".join(f'printf "%s\\0" "${n}"' for n in want)
    sh = subprocess.run(["env", "-i", "sh", "-c", script], capture_output=True, text=True)
    assert sh.returncode == 0, sh.stderr
    assert dict(zip(want, sh.stdout.split("\0")[:-1], strict=True)) == want
    # python-dotenv: every value, unless the file says it could not quote one for both
    sh_only = "'" in passphrase and "\\" in passphrase and ("$" in passphrase or "`" in passphrase)
    read = dotenv_values(out)
    if sh_only:
        assert "note: OKX_PASSPHRASE's value" in proc.stderr
        assert {k: v for k, v in read.items() if "PASSPHRASE" not in k} == {
            k: v for k, v in want.items() if "PASSPHRASE" not in k
        }
    else:
        assert read == want
        assert "note:" not in proc.stderr


def test_env_holds_one_key(home: Path, vault: Vault) -> None:
    vault.store(make_cred())
    vault.store(make_cred(account="sub-1"))
    proc = cli(home, "vault", "export", "--all", "-f", "env")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: an env file holds one key and 2 records are selected: export each with its own "
        "--out (or use --format okx-toml or ccxt)"
    ]


# -- OKX's profile file --------------------------------------------------------------------------
EXISTING = """\
# my OKX profiles
default_profile = "desk"

[profiles.desk]
api_key = "11111111-2222-3333-4444-555555555555"
secret_key = "AAAA"
passphrase = "keep-me"
demo = false  # live
"""


def test_okx_toml_merges_keeps_others_and_refuses_to_overwrite(
    home: Path, vault: Vault, tmp_path: Path
) -> None:
    target = tmp_path / ".okx" / "config.toml"
    target.parent.mkdir()
    target.write_text(EXISTING)
    target.chmod(0o644)
    cred = make_cred(passphrase=AWKWARD[1], site="eea")
    rid = vault.store(cred)
    env = {"ONBOARD_OKX_CONFIG": str(target)}  # the setting, as a user would set it
    proc = cli(home, "vault", "export", rid, "-f", "okx-toml", "--profile", "acme", env=env)
    assert proc.returncode == 0, proc.stderr
    clean(proc, cred)
    assert proc.stdout == ""
    assert f"wrote profile acme to {target} (mode 0600)" in proc.stderr
    assert mode(target) == 0o600
    text = target.read_text()
    assert text.startswith("# my OKX profiles\n") and "demo = false  # live" in text
    doc = tomllib.loads(text)
    assert doc["default_profile"] == "desk"
    assert doc["profiles"]["desk"] == tomllib.loads(EXISTING)["profiles"]["desk"]
    assert doc["profiles"]["acme"] == {
        "api_key": cred.api_key,
        "secret_key": cred.secret,
        "passphrase": cred.passphrase,
        "demo": False,
        "site": "eea",
    }
    # again: refused in one line, the file byte for byte as it was
    again = cli(home, "vault", "export", rid, "-f", "okx-toml", "--profile", "acme", env=env)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr.splitlines() == [
        f"error: profile acme already exists in {target}; refusing to overwrite it (add --force "
        "to replace it, or pick another --profile)"
    ]
    assert target.read_text() == text
    # --force replaces that profile only
    other = make_cred()
    rid2 = vault.store(other)
    forced = cli(home, "vault", "export", rid2, "-f", "okx-toml", "--profile", "acme", "--force",
                 env=env)  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert "acme (replaced)" in forced.stderr
    doc = tomllib.loads(target.read_text())
    assert doc["profiles"]["acme"]["secret_key"] == other.secret
    assert doc["profiles"]["desk"]["passphrase"] == "keep-me" and doc["default_profile"] == "desk"
    assert mode(target) == 0o600
    assert not list(target.parent.glob(".*.tmp"))


def test_okx_toml_new_file_gets_a_default_profile(home: Path, vault: Vault, tmp_path: Path) -> None:
    """A new file: the profile becomes default_profile (the OKX CLI uses it without --profile);
    the directory is made 0700. --out names the file instead of the okx_config setting."""
    target = tmp_path / "new" / "config.toml"
    a, b = make_cred(demo=True), make_cred(account="sub-1", base_url="http://127.0.0.1:9/")
    vault.store(a)
    vault.store(b)
    proc = cli(home, "vault", "export", "--label", "ICG-MM", "-f", "okx-toml", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(target.read_text())
    assert doc["default_profile"] == "ICG-MM-main"
    assert doc["profiles"]["ICG-MM-main"]["demo"] is True
    assert doc["profiles"]["ICG-MM-sub-1"]["base_url"] == "http://127.0.0.1:9"
    assert doc["profiles"]["ICG-MM-sub-1"]["secret_key"] == b.secret
    assert mode(target) == 0o600 and mode(target.parent) == 0o700


def test_okx_toml_profiles_without_default_keep_meaning_default(tmp_path: Path) -> None:
    """A file with profiles but no default_profile: OKX's tools use [profiles.default]; adding
    a profile must not change that."""
    target = tmp_path / "config.toml"
    target.write_text('[profiles.default]\napi_key = "k"\n')
    merged = formats.merge_okx_profiles(target, {"acme": ("r1", make_cred())})
    assert merged.default_profile is None
    assert "default_profile" not in tomllib.loads(target.read_text())


def test_okx_toml_refuses_a_file_that_is_not_okx_profiles(
    home: Path, vault: Vault, tmp_path: Path
) -> None:
    rid = vault.store(make_cred())
    for name, text, why in [
        ("broken.toml", "profiles = [\n", "is not valid TOML"),
        ("other.toml", "profiles = 3\n", "this is not OKX's profile file"),
    ]:
        target = tmp_path / name
        target.write_text(text)
        proc = cli(home, "vault", "export", rid, "-f", "okx-toml", "-o", str(target))
        assert proc.returncode == 2, proc.stderr
        [line] = proc.stderr.splitlines()
        assert line.startswith("error: ") and why in line
        assert target.read_text() == text


# -- unusable records ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "env", "ccxt", "okx-toml"])
def test_an_unusable_record_is_never_exported(
    home: Path, vault: Vault, tmp_path: Path, fmt: str
) -> None:
    bad, good = make_cred(account="sub-1"), make_cred()
    rbad, rgood = vault.store(bad), vault.store(good)
    vault.mark_unusable(rbad, "the exchange shows Withdraw")
    target = tmp_path / f"out.{fmt}"
    named = cli(home, "vault", "export", rbad, "-f", fmt, "-o", str(target))
    assert named.returncode == 9 and named.stdout == ""
    assert named.stderr.splitlines() == [
        f"error: record {rbad} is marked unusable (the exchange shows Withdraw): delete that key "
        "on the exchange; it is not exported"
    ]
    assert not target.exists()
    # --all leaves it out, says so, and exports the rest
    if fmt == "env":
        every = cli(home, "vault", "export", "--all", "-f", fmt)  # one left: env takes it
    else:
        every = cli(home, "vault", "export", "--all", "-f", fmt, "-o", str(target))
    assert every.returncode == 0, every.stderr
    assert f"left out {rbad}: marked unusable" in every.stderr
    written = every.stdout if fmt == "env" else target.read_text()
    assert bad.secret not in written and good.secret in written
    clean(every, bad, good)
    assert rgood


def test_all_unusable_is_exit_9(home: Path, vault: Vault) -> None:
    rid = vault.store(make_cred())
    vault.mark_unusable(rid, "withdraw")
    proc = cli(home, "vault", "export", "--all", "-f", "ccxt")
    assert proc.returncode == 9 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1] == "error: nothing to export: all 1 record(s) were left out"


# -- the okx-toml sink ---------------------------------------------------------------------------
def sink_for(home: Path, target: Path, accounts: list[str] | None = None) -> OkxTomlSink:
    settings = Settings(home=home, okx_config=target)
    sink = make_sink("okx-toml:acme", settings, accounts=accounts or ["main"])
    assert isinstance(sink, OkxTomlSink) and sink.name == "vault"
    return sink


def test_sink_writes_the_profile_only_when_the_run_passed(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    sink = sink_for(home, target)
    sink.check()
    cred = make_cred()
    rid = sink.store(cred)
    assert not target.exists()  # stored in the vault only, until the checks are done
    assert Vault(Settings(home=home)).load(rid) == cred
    note = sink.finish(ok=True)
    assert note == f"OKX profile acme in {target}"
    profile = tomllib.loads(target.read_text())["profiles"]["acme"]
    assert (profile["api_key"], profile["secret_key"], profile["passphrase"]) == (
        cred.api_key, cred.secret, cred.passphrase,
    )  # fmt: skip
    assert sink.describe([rid]).startswith(f"vault: {rid}")
    # a second run to the same name is refused before anything starts
    with pytest.raises(VaultError, match="profile acme already exists"):
        sink_for(home, target).check()


@pytest.mark.parametrize("why", ["failed", "unusable"])
def test_sink_never_writes_a_failed_or_unusable_key(home: Path, tmp_path: Path, why: str) -> None:
    target = tmp_path / "config.toml"
    sink = sink_for(home, target)
    cred = make_cred()
    rid = sink.store(cred)
    if why == "unusable":
        sink.vault.mark_unusable(rid, "withdraw")
    note = sink.finish(ok=why == "unusable")
    assert not target.exists()
    assert "OKX profile not written" in note and cred.secret not in note
    if why == "failed":
        assert f"onboard vault export {rid} -f okx-toml --profile acme" in note


def test_sink_several_accounts_checked_by_their_profile_names(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text('[profiles.acme-sub-1]\napi_key = "x"\n')
    sink_for(home, target, ["main"]).check()  # "acme" alone is free
    with pytest.raises(VaultError, match="profile acme-sub-1 already exists"):
        sink_for(home, target, ["main", "sub-1"]).check()


# -- the real run --------------------------------------------------------------------------------
def test_run_sink_okx_toml_then_ccxt_from_the_profile(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    """`onboard run --sink okx-toml:acme` (headless, replica): the key is in the vault and in
    OKX's profile file, and a ccxt client built from that profile signs a request the replica
    accepts (the key allows loopback, so the run's own signed REST check passes too)."""
    home = tmp_path / "home"
    target = tmp_path / ".okx" / "config.toml"
    acct = login_profiles(replica, home, ["acme"])
    outbox = outbox_cmd(replica.base_url)
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", "--ip", "127.0.0.1", "--allow-private-ip",
        "--base-url", replica.base_url, "--profile", "acme", "--headless", "--pace", "0",
        "--auto-submit", "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--login-timeout", "5", "--json",
        "--sink", "okx-toml:acme",
        env={"CLIENT_TOTP": acct.totp_secret, "ONBOARD_OKX_CONFIG": str(target)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok" and result["verification"]["signed REST"] == "ok"
    assert result["stored"] == f"vault: {result['vault_ids'][0]}; OKX profile acme in {target}"
    [made] = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    for value in (made["secretKey"], made["passphrase"], made["apiKey"]):
        assert value not in proc.stdout + proc.stderr
    assert mode(target) == 0o600
    doc = tomllib.loads(target.read_text())
    assert doc["default_profile"] == "acme"
    profile = doc["profiles"]["acme"]
    assert (profile["api_key"], profile["secret_key"], profile["passphrase"]) == (
        made["apiKey"], made["secretKey"], made["passphrase"],
    )  # fmt: skip
    assert profile["base_url"] == replica.base_url.rstrip("/") and profile["demo"] is False
    ex = ccxt.okx({"apiKey": profile["api_key"], "secret": profile["secret_key"],
                   "password": profile["passphrase"]})  # fmt: skip
    ex.urls["api"] = {"rest": profile["base_url"]}
    assert ex.private_get_account_config()["data"][0]["perm"] == "read_only,trade"
