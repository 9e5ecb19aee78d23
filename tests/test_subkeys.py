"""`onboard subkeys` against the live replica: real HTTP server, real ccxt signing, real vault.

The main key is made the way the client makes it on the replica (the key page's own API:
submit, then every verification step with the codes the replica sent) and stored in the
vault as onboarding stores it. Every judgement is the replica's (what it issued, what each
REST call carried) and the vault's (what decrypts), never what the agent says.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from agent.config import Settings
from agent.custody.vault import Credential, Vault, VaultError
from agent.journal import Journal
from agent.subkeys import PERM, Consent, Engine, Plan
from agent.subkeys import run as run_all
from replica.server import ReplicaServer
from tests.helpers import onboard
from tests.leaks import Needles, scan

CLIENT = "client@replica.test"
PASSWORD = "Replica-Pass-1"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SUBS = ["icg-mm-sub1", "icg-mm-sub2", "icg-mm-sub3"]
IPS = ["127.0.0.1", "203.0.113.7"]


def page_made_key(
    base: str,
    label: str = "main-rw",
    perms: list[str] | None = None,
    ips: list[str] | None = None,
    account: str = "main",
) -> dict[str, Any]:
    """A key made through the key page's API as the client makes it (log in, submit, pass
    each verification step with the code the replica sent): the created dialog's data."""
    with httpx.Client(base_url=base, timeout=10) as c:
        r = c.post(
            "/priapi/v1/user/login",
            json={"email": CLIENT, "password": PASSWORD, "totp": pyotp.TOTP(TOTP).now()},
        )
        assert r.json()["code"] == "0", r.text
        draft = {
            "label": label,
            "account": account,
            "usedFor": "api_trading",
            "ips": ips if ips is not None else ["127.0.0.1"],
            "perms": perms or ["read_only", "trade"],
            "passphrase": "Main-Key-Pass-1!",
        }
        sub = c.post("/priapi/v5/account/api-keys/submit", json={"drafts": [draft]}).json()
        assert sub["code"] == "0", sub
        cid = sub["data"]["challengeId"]
        for step in sub["data"]["steps"]:
            factor = step["factor"]
            if factor == "totp":
                code = pyotp.TOTP(TOTP).now()
            else:
                msgs = c.get("/replica/outbox", params={"channel": factor}).json()["messages"]
                code = [m for m in msgs if m["challenge"] == cid][-1]["code"]
            v = c.post(
                "/priapi/v5/account/api-keys/verify",
                json={"challengeId": cid, "factor": factor, "code": code},
            ).json()
            assert v["code"] == "0", v
        (key,) = v["data"]["keys"]
        return {**key, "passphrase": draft["passphrase"]}


def store_main(home: Path, base: str, key: dict[str, Any]) -> str:
    """The vault record onboarding writes for that key (local identity, replica base URL)."""
    vault = Vault(Settings(home=home))
    return vault.store(
        Credential(
            exchange="okx",
            site="global",
            base_url=base,
            account=key["account"],
            label=key["label"],
            api_key=key["apiKey"],
            secret=key["secretKey"],
            passphrase=key["passphrase"],
            permissions=list(key["perms"]),
            ips=list(key["ips"]),
        )
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir(mode=0o700)
    return tmp_path / "home"


@pytest.fixture
def main_id(replica: ReplicaServer, home: Path) -> str:
    return store_main(home, replica.base_url, page_made_key(replica.base_url))


def rest_calls(base: str) -> list[dict[str, Any]]:
    return httpx.get(f"{base}/replica/rest-calls").json()["calls"]  # type: ignore[no-any-return]


def issued_rest(base: str) -> list[dict[str, Any]]:
    keys = httpx.get(f"{base}/replica/issued").json()["keys"]
    return [k for k in keys if k["account"] != "main"]


def subkeys(home: Path, *args: str) -> Any:
    ips = [a for ip in IPS for a in ("--ip", ip)]
    return onboard(home, "subkeys", "--label", "ICG-MM", *ips, "--allow-private-ip", *args)


def no_secret_anywhere(home: Path, outputs: dict[str, str], base: str) -> None:
    """tests/leaks.py's byte scan: every secret, passphrase and API key the replica issued
    (the main key's too), the seed's passwords and TOTP seeds and every code sent, in any
    form, in every file of the data directory (journal, vault, identity) and every output."""
    needles = Needles()
    needles.add_replica(base)
    needles.add_seed()
    found = scan({"home": home}, outputs, needles)
    assert found.named("journal.sqlite3") and found.named("vault/")
    assert found.hits == [], [str(h) for h in found.hits]


# -- the path that works -------------------------------------------------------------
def test_all_sub_accounts_created_stored_verified_then_rerun_creates_nothing(
    replica: ReplicaServer, home: Path, main_id: str
) -> None:
    res = subkeys(home, "--from", main_id, "--all-sub-accounts", "--yes", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert [(k["sub_account"], k["status"], k["verification"]) for k in out["keys"]] == [
        (s, "created", "ok") for s in SUBS
    ]
    issued = issued_rest(replica.base_url)
    assert sorted(k["account"] for k in issued) == SUBS
    vault = Vault(Settings(home=home))
    ident = vault.local_identity(create=False)
    for k in out["keys"]:
        meta = vault.meta(k["record_id"])
        assert meta["from_id"] == main_id and meta["created_via"] == "rest"
        assert meta["consent"]["how"] == "--yes" and meta["consent"]["agreed_at"] <= time.time()
        assert meta["verification"] == "ok"
        cred = vault.load(k["record_id"], ident)
        (mine,) = [i for i in issued if i["apiKey"] == cred.api_key]
        assert (cred.secret, cred.passphrase, cred.account) == (
            mine["secretKey"], mine["passphrase"], mine["account"]
        )  # fmt: skip
        assert mine["perms"] == ["read_only", "trade"] and mine["ips"] == IPS
    assert vault.meta(main_id)["subkeys_consent"][0]["sub_accounts"] == SUBS
    creates = [c for c in rest_calls(replica.base_url) if c["call"] == "create"]
    assert [c["perm"] for c in creates] == [PERM] * 3
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(creates)]
    assert all(g >= 0.95 for g in gaps), gaps  # OKX's 1 create per second, waited on time
    for line in (f"[{i}/3] {s}: created" for i, s in enumerate(SUBS, 1)):
        assert line in res.stderr
    no_secret_anywhere(home, {"stdout": res.stdout, "stderr": res.stderr}, replica.base_url)

    again = subkeys(home, "--from", main_id, "--all-sub-accounts", "--yes", "--json")
    assert again.returncode == 0, again.stderr
    assert [k["status"] for k in json.loads(again.stdout)["keys"]] == ["exists"] * 3
    assert len([c for c in rest_calls(replica.base_url) if c["call"] == "create"]) == 3
    assert len(issued_rest(replica.base_url)) == 3
    no_secret_anywhere(home, {"out2": again.stdout, "err2": again.stderr}, replica.base_url)


def test_named_sub_accounts_and_journal(replica: ReplicaServer, home: Path, main_id: str) -> None:
    res = subkeys(home, "--from", main_id, "--sub-account", "icg-mm-sub2", "--yes")
    assert res.returncode == 0, res.stderr
    assert "[1/1] icg-mm-sub2: created" in res.stderr
    assert "OKX API key(s) over OKX's REST API, signed with the client's main-account key" in (
        " ".join(res.stderr.split())
    )
    j = Journal(home / "journal.sqlite3")
    rows = j.all()
    j.close()
    assert [(r["account"], r["state"]) for r in rows] == [("icg-mm-sub2", "verified")]
    runs = onboard(home, "runs", "--json")
    assert json.loads(runs.stdout)[0]["verdict"].startswith("ok: credentials stored")


# -- refusals: one line naming OKX's code, nothing half-stored -----------------------
def only_main_in_vault(home: Path, main_id: str) -> None:
    assert Vault(Settings(home=home)).ids() == [main_id]


def refused_run(home: Path, main_id: str, *args: str) -> Any:
    res = subkeys(home, "--from", main_id, *args, "--yes")
    assert res.returncode == 7, res.stderr
    assert "fallback: the browser path drafts these keys" in res.stderr
    assert "onboard run --label ICG-MM" in res.stderr
    return res


def test_read_only_main_key_50120(replica: ReplicaServer, home: Path) -> None:
    key = page_made_key(replica.base_url, label="main-ro", perms=["read_only"])
    main_id = store_main(home, replica.base_url, key)
    res = refused_run(home, main_id, "--sub-account", "icg-mm-sub1", "--sub-account", "icg-mm-sub2")
    assert "OKX 50120: the main key …" in res.stderr and "lacks the Trade permission" in res.stderr
    assert "icg-mm-sub2: skipped: not attempted" in res.stderr
    only_main_in_vault(home, main_id)
    assert issued_rest(replica.base_url) == []


def test_main_key_without_ip_50035(replica: ReplicaServer, home: Path) -> None:
    key = page_made_key(replica.base_url, label="main-open", ips=[])
    main_id = store_main(home, replica.base_url, key)
    res = refused_run(home, main_id, "--sub-account", "icg-mm-sub1")
    assert "OKX 50035: the main key" in res.stderr and "not bound to IP addresses" in res.stderr
    only_main_in_vault(home, main_id)


def test_sub_account_key_is_not_a_main_key_59500(replica: ReplicaServer, home: Path) -> None:
    key = page_made_key(replica.base_url, label="sub-rw", account="icg-mm-sub3")
    main_id = store_main(home, replica.base_url, key)
    res = refused_run(home, main_id, "--sub-account", "icg-mm-sub1")
    assert "OKX 59500: the key …" in res.stderr and "not a main-account key" in res.stderr
    only_main_in_vault(home, main_id)


@pytest.mark.scenarios("sub-key-limit")
def test_sub_account_at_its_50_key_limit_59501(
    replica: ReplicaServer, home: Path, main_id: str
) -> None:
    res = refused_run(home, main_id, "--sub-account", "icg-mm-sub1", "--sub-account", "icg-mm-sub2")
    assert "OKX 59501: sub-account icg-mm-sub1 already has 50 API keys" in res.stderr
    assert "[2/2] icg-mm-sub2: created" in res.stderr  # one refusal does not stop the others
    assert "--sub-account icg-mm-sub1" in res.stderr.split("fallback:")[1]
    vault = Vault(Settings(home=home))
    assert sorted(vault.meta(i)["account"] for i in vault.ids()) == ["icg-mm-sub2", "main"]


@pytest.mark.scenarios("rest-label-race")
def test_label_taken_at_create_59502(replica: ReplicaServer, home: Path, main_id: str) -> None:
    res = refused_run(home, main_id, "--sub-account", "icg-mm-sub1")
    assert 'OKX 59502: sub-account icg-mm-sub1 already has a key named "ICG-MM"' in res.stderr
    only_main_in_vault(home, main_id)


def test_label_already_on_the_list_not_in_vault_sends_nothing(
    replica: ReplicaServer, home: Path, main_id: str
) -> None:
    page_made_key(replica.base_url, label="ICG-MM", account="icg-mm-sub1")
    res = subkeys(home, "--from", main_id, "--sub-account", "icg-mm-sub1", "--yes")
    assert res.returncode == 1, res.stderr
    assert 'already has a key named "ICG-MM"' in res.stderr and "nothing was sent" in res.stderr
    assert [c for c in rest_calls(replica.base_url) if c["call"] == "create"] == []
    only_main_in_vault(home, main_id)


def engine(home: Path, main_id: str, **plan: Any) -> tuple[Engine, Journal]:
    vault = Vault(Settings(home=home))
    main = vault.load(main_id, vault.local_identity(create=False))
    journal = Journal(home / "journal.sqlite3")
    args = {"from_id": main_id, "label": "ICG-MM", "ips": IPS, **plan}
    return Engine(Plan(**args), vault, journal, main), journal


CONSENT = Consent(how="--yes", agreed_at=0.0, statement="test")


def test_ip_refused_by_okx_51000(replica: ReplicaServer, home: Path, main_id: str) -> None:
    """The CLI refuses a bad address before sending; this is the engine meeting OKX's own
    refusal of one (an address the local check would not catch)."""
    eng, journal = engine(home, main_id, ips=["127.0.0.1", "not-an-ip"])
    (o,) = run_all(eng, ["icg-mm-sub1"], CONSENT)
    journal.close()
    assert (o.status, o.code, o.exit) == ("refused", "51000", 7)
    assert o.detail.startswith("OKX 51000 (Parameter ip error): OKX refused the IP allowlist")
    only_main_in_vault(home, main_id)


def test_store_failure_deletes_the_new_key(
    replica: ReplicaServer, home: Path, main_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng, journal = engine(home, main_id)

    def full(*_a: Any, **_k: Any) -> str:
        raise VaultError("cannot write the vault: No space left on device")

    monkeypatch.setattr(eng.vault, "store", full)
    (o,) = run_all(eng, ["icg-mm-sub1"], CONSENT)
    rows = journal.all()
    journal.close()
    assert (o.status, o.exit) == ("failed", 8)
    assert "it was deleted again on OKX" in o.detail
    assert len(issued_rest(replica.base_url)) == 1  # it was created ...
    with replica.world.lock:  # ... and is gone again: nothing on OKX without its secret
        assert replica.world.accounts[CLIENT].keys_of("icg-mm-sub1") == []
    assert rows[-1]["state"] == "not-created"


@pytest.mark.scenarios("grants-withdraw")
def test_key_created_with_withdraw_is_critical(
    replica: ReplicaServer, home: Path, main_id: str
) -> None:
    res = subkeys(home, "--from", main_id, "--sub-account", "icg-mm-sub1", "--yes", "--json")
    assert res.returncode == 9, res.stderr
    (k,) = json.loads(res.stdout)["keys"]
    assert k["critical"] and "CRITICAL" in k["detail"] and "WITHDRAW" in k["detail"]
    vault = Vault(Settings(home=home))
    assert vault.meta(k["record_id"])["unusable"]  # stored first, then marked unusable
    assert [c["perm"] for c in rest_calls(replica.base_url)] == [PERM]  # asked Read + Trade


# -- consent and bad input: one line, exit 2, nothing sent ------------------------------
def test_no_consent_without_a_terminal(replica: ReplicaServer, home: Path, main_id: str) -> None:
    res = subkeys(home, "--from", main_id, "--sub-account", "icg-mm-sub1")
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error: the client's consent is needed")
    assert rest_calls(replica.base_url) == []


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ([], "error: give the sub-accounts: --sub-account NAME (repeatable) or "
             "--all-sub-accounts (not both)"),
        (["--sub-account", "a", "--all-sub-accounts"], "error: give the sub-accounts"),
        (["--sub-account", "bad name"], "error: --sub-account 'bad name' is not a valid "
                                        "sub-account name"),
        (["--sub-account", "a", "--sub-account", "a"], "error: --sub-account 'a' is given twice"),
        (["--sub-account", "a", "--label", "x/y"], "error: --label 'x/y' has characters"),
        (["--sub-account", "a", "--ip", "10.0.0.1/8"], "error: IP ranges are not accepted"),
        (["--sub-account", "a", "--base-url", "http://10.0.0.5:8700"], "error: --base-url"),
    ],
)  # fmt: skip
def test_bad_input(
    replica: ReplicaServer, home: Path, main_id: str, args: list[str], line: str
) -> None:
    res = subkeys(home, "--from", main_id, "--yes", *args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(line) and res.stderr.count("\n") == 1, res.stderr
    assert rest_calls(replica.base_url) == []


def test_unknown_record(replica: ReplicaServer, home: Path) -> None:
    res = subkeys(home, "--from", "20260101T000000-abcdef", "--sub-account", "a", "--yes")
    assert res.returncode == 2
    assert res.stderr.startswith("error: --from 20260101T000000-abcdef: no record")
    assert rest_calls(replica.base_url) == []


def subkeys_at_a_terminal(home: Path, answer: str, *args: str) -> Any:
    """`onboard subkeys` with a terminal on its stdin (a pty), the operator typing `answer`
    at the consent prompt: the prompt's own path, not --yes."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "ONBOARD_HOME": str(home), "COLUMNS": "120"}
    env.pop("DISPLAY", None)
    ips = [a for ip in IPS for a in ("--ip", ip)]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "subkeys", "--label", "ICG-MM", *ips,
             "--allow-private-ip", *args],
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        os.close(slave)
        os.write(master, answer.encode())
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_consent_prompt_no_sends_nothing(replica: ReplicaServer, home: Path, main_id: str) -> None:
    res = subkeys_at_a_terminal(home, "n\n", "--from", main_id, "--sub-account", "icg-mm-sub1")
    assert res.returncode == 2, res.stderr
    said = " ".join(res.stderr.split())
    assert "This creates 1 OKX API key(s) over OKX's REST API" in said
    assert "Has the client agreed to this? [y/N]" in said
    assert res.stderr.rstrip().endswith("not confirmed: nothing was sent")
    assert rest_calls(replica.base_url) == []
    only_main_in_vault(home, main_id)
    assert "subkeys_consent" not in Vault(Settings(home=home)).meta(main_id)


def test_consent_prompt_yes_creates_and_records_it(
    replica: ReplicaServer, home: Path, main_id: str
) -> None:
    before = time.time()
    res = subkeys_at_a_terminal(
        home, "y\n", "--from", main_id, "--sub-account", "icg-mm-sub1", "--json"
    )
    assert res.returncode == 0, res.stderr
    assert "Has the client agreed to this? [y/N]" in " ".join(res.stderr.split())
    (k,) = json.loads(res.stdout)["keys"]
    assert k["status"] == "created"
    (made,) = issued_rest(replica.base_url)
    assert (made["account"], made["perms"]) == ("icg-mm-sub1", ["read_only", "trade"])
    vault = Vault(Settings(home=home))
    consent = vault.meta(k["record_id"])["consent"]
    assert consent["how"] == "confirmed at the prompt"
    assert before <= consent["agreed_at"] <= time.time()
    [logged] = vault.meta(main_id)["subkeys_consent"]
    assert (logged["how"], logged["sub_accounts"]) == ("confirmed at the prompt", ["icg-mm-sub1"])
