"""A roster's `sub_accounts_via: rest` entry end to end: the real CLI, a real browser for the
client's main key, then that key signing OKX's sub-account REST calls on the live replica.

Every judgement is the replica's (the keys it holds, the REST calls it was sent) and the
vault's (what decrypts), never what the agent says about itself.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from replica.server import ReplicaServer
from tests.helpers import login_profiles, onboard
from tests.leaks import Needles, scan

from .conftest import issued, journal_rows, write_roster

SUBS = ["icg-mm-sub1", "icg-mm-sub2"]
MAIN_IPS = ["127.0.0.1"]  # the tests' host: OKX takes sub-account calls from the main key's IPs
SUB_IPS = ["127.0.0.1", "203.0.113.7"]


def creates(replica: ReplicaServer) -> list[dict[str, Any]]:
    calls = httpx.get(f"{replica.base_url}/replica/rest-calls").json()["calls"]
    return [c for c in calls if c["call"] == "create"]


def no_secret_left(home: Path, tmp: Path, outputs: dict[str, str], base: str) -> None:
    """tests/leaks.py's scan of everything the agent wrote (journal, vault, runs, reports)
    and printed, for every secret, passphrase and key the replica issued. The client's
    browser profile is the client's, not the agent's output: left out."""
    copy = tmp / "scanned"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("profiles"))
    needles = Needles()
    needles.add_replica(base)
    found = scan({"home": copy}, outputs, needles)
    assert found.named("journal.sqlite3") and found.named("vault/")
    assert found.hits == [], [str(h) for h in found.hits]


@pytest.mark.scenarios("totp-only")
def test_main_key_in_the_browser_then_sub_account_keys_over_rest_then_rerun(
    replica: ReplicaServer, tmp_path: Path, totp_env: dict[str, str]
) -> None:
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1"])
    # The REST entry comes first and two entries may run at once: it must still wait for
    # the main key's entry to be stored and verified.
    roster = write_roster(
        tmp_path / "clients.yaml",
        [
            {"id": "acme-subs", "label": "ICG-MM", "ips": SUB_IPS, "sub_accounts_via": "rest",
             "from": "acme-main", "sub_accounts": SUBS},
            {"id": "acme-main", "label": "B-MAIN", "ips": MAIN_IPS, "profile": "p1",
             "totp_secret_env": "CLIENT_TOTP"},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    args = ["batch", str(roster), "--concurrency", "2", "--headless", "--pace", "0",
            "--auto-submit", "--login-timeout", "10", "--json"]  # fmt: skip

    # Without --yes: one line, nothing opened, nothing sent.
    refused = onboard(home, *args, env=totp_env)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith(
        "error: clients.yaml: the sub_accounts_via: rest entries (acme-subs) create keys over "
        "OKX's REST API with each client's main key, with no one at a prompt: pass --yes once "
        "each client has agreed"
    )
    assert issued(replica) == [] and creates(replica) == []

    before = time.time()
    proc = onboard(home, *args, "--yes", env=totp_env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    by_id = {e["id"]: e for e in out["entries"]}
    assert (by_id["acme-main"]["outcome"], by_id["acme-subs"]["outcome"]) == ("ok", "ok")
    assert by_id["acme-subs"]["account"] == "icg-mm-sub1, icg-mm-sub2"

    # The replica's ground truth: one main key from the browser, one key per sub-account
    # over REST, each exactly Read + Trade, with the entry's IPs and label.
    made = issued(replica)
    assert sorted((k["label"], k["account"]) for k in made) == [
        ("B-MAIN", "main"), ("ICG-MM", "icg-mm-sub1"), ("ICG-MM", "icg-mm-sub2"),
    ]  # fmt: skip
    for k in made:
        assert k["perms"] == ["read_only", "trade"], k["perms"]
        assert k["ips"] == (MAIN_IPS if k["account"] == "main" else SUB_IPS)
    assert [c["subAcct"] for c in creates(replica)] == SUBS
    assert all(c["perm"] == "read_only,trade" for c in creates(replica))

    # The vault: every key decrypts to what the replica issued; the sub-account keys point
    # to the main key's record and carry the batch's consent.
    vault = Vault(Settings(home=home))
    ident = vault.local_identity(create=False)
    metas = {m["account"]: m for m in vault.list()}
    main_id = metas["main"]["id"]
    for k in made:
        meta = metas[k["account"]]
        cred = vault.load(meta["id"], ident)
        assert (cred.api_key, cred.secret, cred.passphrase) == (
            k["apiKey"], k["secretKey"], k["passphrase"],
        )  # fmt: skip
    for sub in SUBS:
        meta = vault.meta(metas[sub]["id"])
        assert (meta["from_id"], meta["created_via"], meta["verification"]) == (
            main_id, "rest", "ok",
        )  # fmt: skip
        assert meta["consent"]["how"] == "onboard batch --yes"
        assert before <= meta["consent"]["agreed_at"] <= time.time()
        assert (
            "signed with the client's main-account key (record " + main_id
            in (meta["consent"]["statement"])
        )
    [logged] = vault.meta(main_id)["subkeys_consent"]
    assert (logged["sub_accounts"], logged["how"]) == (SUBS, "onboard batch --yes")

    # The journal: the main key's run verified before the first REST run started; one run
    # per sub-account key, as the entry's attempts, each verified.
    rows = journal_rows(home, "select entry_id, account, reached, started, updated from runs")
    [main_run] = [r for r in rows if r["entry_id"] == "acme-main"]
    sub_runs = [r for r in rows if r["entry_id"] == "acme-subs"]
    assert main_run["reached"] == "verified"
    assert [(r["account"], r["reached"]) for r in sub_runs] == [(s, "verified") for s in SUBS]
    assert min(r["started"] for r in sub_runs) >= main_run["updated"]
    no_secret_left(home, tmp_path, {"stdout": proc.stdout, "stderr": proc.stderr}, replica.base_url)

    # The same roster again: the batch resumes, both entries are done, nothing is created.
    again = onboard(home, *args, "--yes", env=totp_env, timeout=300)
    assert again.returncode == 0, again.stderr
    out2 = json.loads(again.stdout)
    assert (out2["batch_id"], out2["resumed"]) == (out["batch_id"], True)
    assert {e["id"]: e["outcome"] for e in out2["entries"]} == {
        "acme-subs": "skipped", "acme-main": "skipped",
    }  # fmt: skip
    assert len(creates(replica)) == 2 and len(issued(replica)) == 3

    # A new roster naming the main key's vault record: the REST entry lists first, finds
    # both keys held by the vault, and creates nothing.
    by_record = write_roster(
        tmp_path / "more.yaml",
        [{"id": "acme-subs", "label": "ICG-MM", "ips": SUB_IPS, "sub_accounts_via": "rest",
          "from": main_id, "sub_accounts": SUBS}],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    third = onboard(home, "batch", str(by_record), "--json", "--yes", timeout=120)
    assert third.returncode == 0, third.stderr
    [entry] = json.loads(third.stdout)["entries"]
    assert entry["outcome"] == "ok"
    assert [k["status"] for k in entry["result"]["keys"]] == ["exists", "exists"]
    assert len(creates(replica)) == 2 and len(issued(replica)) == 3
    assert len(vault.ids()) == 3
    no_secret_left(
        home, tmp_path / "2", {"out2": again.stdout, "err2": again.stderr,
                               "out3": third.stdout, "err3": third.stderr}, replica.base_url,
    )  # fmt: skip


@pytest.mark.scenarios("totp-only")
def test_rest_entry_waits_for_its_main_key_entry_and_is_not_run_when_it_fails(
    replica: ReplicaServer, tmp_path: Path, totp_env: dict[str, str]
) -> None:
    """The main key's entry times out at the human step (nobody enters the codes): the
    REST entry sends nothing and says why; a rerun tries again."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1"])
    roster = write_roster(
        tmp_path / "clients.yaml",
        [
            {"id": "acme-main", "label": "B-MAIN", "ips": MAIN_IPS, "profile": "p1",
             "human_timeout": 3},
            {"id": "acme-subs", "label": "ICG-MM", "ips": SUB_IPS, "sub_accounts_via": "rest",
             "from": "acme-main", "sub_accounts": SUBS},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    proc = onboard(home, "batch", str(roster), "--headless", "--pace", "0", "--auto-submit",
                   "--login-timeout", "10", "--json", "--yes", timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    by_id = {e["id"]: e for e in json.loads(proc.stdout)["entries"]}
    assert by_id["acme-main"]["outcome"] == "failed"
    assert by_id["acme-subs"]["outcome"] == "failed"
    assert by_id["acme-subs"]["result"]["message"] == (
        "not run: entry 'acme-main' (the client's main key) did not end ok (failed); "
        "re-run the batch once it has"
    )
    assert issued(replica) == [] and creates(replica) == []
    assert journal_rows(home, "select * from runs where entry_id = 'acme-subs'") == []
