"""`onboard batch` end to end: the real CLI, N real browsers, the live replica, the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import Settings
from agent.custody.vault import Vault
from tests.helpers import login_profiles, onboard

from .conftest import issued, journal_rows, write_roster


def secrets_of(keys: list[dict]) -> list[str]:
    return [v for k in keys for v in (k["apiKey"], k["secretKey"], k["passphrase"])]


def scan(home: Path, texts: list[str], needles: list[str]) -> None:
    """No issued secret in any output, report, journal or run log."""
    blobs = list(texts)
    for p in home.rglob("*"):
        if p.is_file() and p.suffix in (".json", ".html", ".jsonl", ".sqlite3", ".sqlite3-wal"):
            blobs.append(p.read_bytes().decode("latin-1"))
    for needle in needles:
        for blob in blobs:
            assert needle not in blob


@pytest.mark.scenarios("totp-only", "duplicate-label")
def test_mixed_batch_then_rerun_resumes(replica, tmp_path, totp_env):
    """4 entries, 2 at once: main, sub-account, an existing label (exit 7), no codes (timeout)."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2", "p3", "p4"])
    roster = write_roster(
        tmp_path / "clients.yaml",
        [
            {"id": "acct-1", "label": "B-ONE", "ips": ["203.0.113.7"], "profile": "p1",
             "totp_secret_env": "CLIENT_TOTP"},
            {"id": "acct-2", "label": "B-TWO", "ips": ["203.0.113.8", "2001:db8::8"],
             "profile": "p2", "sub_account": "icg-mm-sub1", "totp_secret_env": "CLIENT_TOTP"},
            {"id": "acct-3", "label": "ICG-MM", "ips": ["203.0.113.9"], "profile": "p3",
             "totp_secret_env": "CLIENT_TOTP"},
            {"id": "acct-4", "label": "B-FOUR", "ips": ["203.0.113.10"], "profile": "p4",
             "human_timeout": 3},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,  # documentation addresses, as in any test setup
    )  # fmt: skip
    report_dir = tmp_path / "reports"
    args = ["batch", str(roster), "--concurrency", "2", "--headless", "--pace", "0",
            "--auto-submit", "--login-timeout", "10", "--report", str(report_dir), "--json"]  # fmt: skip
    proc = onboard(home, *args, env=totp_env, timeout=300)
    assert proc.returncode == 1, proc.stderr  # entries failed, none flagged: nothing is unaccounted
    out = json.loads(proc.stdout)
    by_id = {e["id"]: e for e in out["entries"]}
    assert by_id["acct-1"]["outcome"] == "ok"
    assert by_id["acct-2"]["outcome"] == "ok"
    assert by_id["acct-2"]["account"] == "icg-mm-sub1"
    assert by_id["acct-3"]["outcome"] == "failed"
    assert by_id["acct-3"]["result"]["exit_code"] == 7
    assert (
        'A key named "ICG-MM" already exists on this account'
        in by_id["acct-3"]["result"]["message"]
    )
    assert by_id["acct-3"]["reached"] in ("opened", "pending")  # refused before anything was filled
    # Nobody entered the codes: the agent read the key list, found no B-FOUR, so it says so
    # (no "delete it" advice for a key that does not exist) and the entry may simply run again.
    assert by_id["acct-4"]["outcome"] == "failed"
    assert by_id["acct-4"]["result"]["exit_code"] == 3
    assert by_id["acct-4"]["reached"] == "not-created"
    assert "CHECK THE EXCHANGE" not in by_id["acct-4"]["next"]
    assert "nothing was created" in by_id["acct-4"]["next"]
    assert "acct-4: waiting for the human" in proc.stderr
    made = issued(replica)
    assert sorted((k["label"], k["account"]) for k in made) == [
        ("B-ONE", "main"), ("B-TWO", "icg-mm-sub1"),
    ]  # fmt: skip
    # every issued key: the entry's IPs (in any order), as the exchange recorded them
    assert {k["label"]: sorted(k["ips"]) for k in made} == {
        "B-ONE": ["203.0.113.7"], "B-TWO": sorted(["203.0.113.8", "2001:db8::8"]),
    }  # fmt: skip
    assert [k["completeClicks"] for k in made] == [1, 1]
    vault = Vault(Settings(home=home))
    for k in made:
        [meta] = [m for m in vault.list() if m.get("label") == k["label"]]
        cred = vault.load(meta["id"])
        assert (cred.api_key, cred.secret, cred.passphrase) == (
            k["apiKey"], k["secretKey"], k["passphrase"],
        )  # fmt: skip
    # Reports: JSON + one self-contained HTML with the masked screenshots inline.
    html = Path(out["report"]["html"]).read_text()
    assert Path(out["report"]["html"]).parent == report_dir
    assert "data:image/webp;base64," in html and "data:image/png" not in html
    assert (
        "<link" not in html
        and "<script" not in html
        and "http://" not in html.split("<body>")[1].split(replica.base_url)[0]
    )
    for eid in ("acct-1", "acct-2", "acct-3", "acct-4"):
        assert f"id='{eid}'" in html
    summary = json.loads(Path(out["report"]["json"]).read_text())
    assert summary["counts"] == {"ok": 2, "failed": 2}
    e1 = next(e for e in summary["entries"] if e["id"] == "acct-1")
    assert [s["state"] for s in e1["steps"] if "state" in s][:3] == [
        "opened",
        "filled",
        "submitted",
    ]
    assert e1["result"]["verification"]["key list"] == "ok"
    [one] = [k for k in made if k["label"] == "B-ONE"]  # two at once: either may be issued first
    assert e1["result"]["api_key_masked"] == "…" + one["apiKey"][-4:]
    scan(home, [proc.stdout, proc.stderr, html, json.dumps(summary)], secrets_of(made))
    scan(report_dir, [], secrets_of(made))

    # The same roster again: resumes the batch; done entries skipped, the failed ones retried.
    again = onboard(home, *args, env=totp_env, timeout=300)
    assert again.returncode == 1, again.stderr
    out2 = json.loads(again.stdout)
    assert out2["batch_id"] == out["batch_id"]
    assert out2["resumed"] is True
    by_id2 = {e["id"]: e for e in out2["entries"]}
    assert by_id2["acct-1"]["outcome"] == "skipped"
    assert by_id2["acct-2"]["outcome"] == "skipped"
    assert by_id2["acct-3"]["outcome"] == "failed"  # tried again: nothing was created
    assert by_id2["acct-4"]["outcome"] == "failed"  # tried again: the key list showed none
    assert "CHECK THE EXCHANGE" not in again.stderr
    assert len(issued(replica)) == 2
    runs = journal_rows(home, "select entry_id, count(*) n from runs group by entry_id")
    assert {r["entry_id"]: r["n"] for r in runs} == {
        "acct-1": 1,
        "acct-2": 1,
        "acct-3": 2,
        "acct-4": 2,
    }


@pytest.mark.scenarios("totp-only", "slow", "submit-error", "key-limit", "duplicate-label")
@pytest.mark.slow
def test_mixed_scenarios_end_in_the_right_states(replica, tmp_path, totp_env):
    """Slow exchange, a failing first submit, the main account at its key limit and holding
    ICG-MM, one entry nobody verifies: each entry ends where it must, the others go on."""
    home = tmp_path / "home"
    login_profiles(replica, home, ["p1", "p2", "p3", "p4", "p5"])
    totp = {"totp_secret_env": "CLIENT_TOTP"}
    roster = write_roster(
        tmp_path / "mixed.yaml",
        [
            {"id": "full-main", "label": "B-MAIN", "ips": ["203.0.113.7"], "profile": "p1", **totp},
            {"id": "dup-main", "label": "ICG-MM", "ips": ["203.0.113.7"], "profile": "p2", **totp},
            {"id": "sub-ok", "label": "B-SUB", "ips": ["203.0.113.8"], "profile": "p3",
             "sub_account": "icg-mm-sub1", **totp},
            {"id": "subs-ok", "label": "B-SUBS", "ips": ["203.0.113.9"], "profile": "p4",
             "sub_accounts": ["icg-mm-sub2", "icg-mm-sub3"], **totp},
            {"id": "no-codes", "label": "B-WAIT", "ips": ["203.0.113.10"], "profile": "p5",
             "sub_account": "icg-mm-sub1", "human_timeout": 3},
        ],
        base_url=replica.base_url,
        allow_private_ip=True,
    )  # fmt: skip
    proc = onboard(home, "batch", str(roster), "--concurrency", "3", "--headless", "--pace", "0",
                   "--auto-submit", "--json", env=totp_env, timeout=600)  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # entries failed, none flagged
    by_id = {e["id"]: e for e in json.loads(proc.stdout)["entries"]}
    outcome = {k: (v["outcome"], v["result"].get("exit_code")) for k, v in by_id.items()}
    assert outcome == {
        "full-main": ("failed", 7), "dup-main": ("failed", 7), "sub-ok": ("ok", 0),
        "subs-ok": ("ok", 0), "no-codes": ("failed", 3),
    }, {k: v["result"].get("message") for k, v in by_id.items()}  # fmt: skip
    assert "maximum number of API keys" in by_id["full-main"]["result"]["message"]
    assert 'A key named "ICG-MM" already exists' in by_id["dup-main"]["result"]["message"]
    assert by_id["no-codes"]["reached"] == "not-created"  # the key list read after the stop
    made = sorted((k["label"], k["account"], k["ips"]) for k in issued(replica))
    assert made == [
        ("B-SUB", "icg-mm-sub1", ["203.0.113.8"]),
        ("B-SUBS", "icg-mm-sub2", ["203.0.113.9"]),
        ("B-SUBS", "icg-mm-sub3", ["203.0.113.9"]),
    ]
    rows = journal_rows(home, "select entry_id, reached from runs")
    assert {r["entry_id"]: r["reached"] for r in rows}["sub-ok"] == "verified"
