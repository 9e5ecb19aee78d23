"""A roster's `sub_accounts_via: rest` entries: checked when the roster is read, and by the
batch before anything opens (one line each, exit 2, no browser, no journal, nothing sent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.roster import load
from tests.helpers import make_cred, onboard

from .test_roster import one, problems

MAIN = "- {id: m, label: ICG-M, ips: [203.0.113.7], allow_private_ip: true, profile: acme}\n"
REST = "  label: ICG-S\n  ips: [203.0.113.8]\n  allow_private_ip: true\n  sub_accounts_via: rest\n"


def test_a_rest_entry_after_its_main_key_entry(tmp_path: Path, monkeypatch) -> None:
    """`from` may name an entry further down; the browser fields of the defaults stay with
    the browser entries; more than the 10 drafts of one submission are fine over REST."""
    monkeypatch.setenv("T1", "JBSWY3DPEHPK3PXP")
    subs = [f"desk-{i}" for i in range(12)]
    p = tmp_path / "r.yaml"
    p.write_text(
        "defaults: {ips: [203.0.113.7], allow_private_ip: true, totp_secret_env: T1, "
        "profile: acme, human_timeout: 60}\n"
        "entries:\n"
        f"  - {{id: s, label: ICG-S, sub_accounts_via: rest, from: m, sub_accounts: {subs}}}\n"
        "  - {id: m, label: ICG-M}\n"
    )
    s, m = load(p).entries
    assert s.rest is not None and m.rest is None
    assert (s.rest.from_id, s.after, s.rest.sub_accounts, s.rest.ips) == (
        "m", "m", subs, ["203.0.113.7"],
    )  # fmt: skip
    assert (s.profile, s.codes.totp_secret_env, s.human_timeout) == (None, None, None)
    assert s.account == ", ".join(subs) and s.label == "ICG-S"
    assert s.public()["account"] == ", ".join(subs)
    assert (m.account, m.profile, m.codes.totp_secret_env) == ("main", "acme", "T1")


def test_a_rest_entry_from_a_vault_record_in_csv(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(
        "id,label,ips,allow_private_ip,sub_accounts_via,from,sub_accounts\n"
        "s,ICG-S,203.0.113.7;2001:db8::7,true,rest,20261130T101500-a1b2c3,desk-a desk-b\n"
    )
    [s] = load(p).entries
    assert s.rest is not None and s.after is None
    assert (s.rest.from_id, s.rest.sub_accounts, s.rest.ips) == (
        "20261130T101500-a1b2c3", ["desk-a", "desk-b"], ["203.0.113.7", "2001:db8::7"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        ("- id: s\n" + REST + "  sub_accounts: [a]\n",
         "r.yaml:2: s: sub_accounts_via: rest needs 'from': the entry id, or the vault record "
         "id, of the client's main-account key"),
        ("- id: s\n" + REST + "  from: s\n  sub_accounts: [a]\n",
         "r.yaml:7: s: from 's' is this entry itself; name the entry (or vault record) of the "
         "client's main-account key"),
        ("- id: s\n" + REST + "  from: 'm m'\n  sub_accounts: [a]\n",
         "r.yaml:7: s: from 'm m': give the id of an entry of this roster or of a vault record "
         "(letters, digits, '.', '_' or '-')"),
        ("- id: s\n" + REST + "  from: m\n",
         "r.yaml:2: s: sub_accounts_via: rest needs 'sub_accounts': the list of sub-accounts "
         "to create keys for"),
        ("- id: s\n" + REST + "  from: m\n  sub_account: a\n",
         "r.yaml:8: s: sub_accounts_via: rest needs 'sub_accounts': the list of sub-accounts "
         "to create keys for"),
        ("- id: s\n" + REST + "  from: m\n  sub_accounts: []\n",
         "r.yaml:8: s: sub_accounts is empty"),
        ("- id: s\n" + REST + "  from: m\n  sub_accounts: ['bad name']\n",
         "r.yaml:8: s: --sub-account 'bad name' is not a valid sub-account name"),
        ("- id: s\n" + REST + "  from: m\n  sub_accounts: [a]\n  profile: acme\n",
         "r.yaml:9: s: profile: a sub_accounts_via: rest entry opens no browser (its keys are "
         "made over REST with the main key); remove it"),
        ("- id: s\n  label: ICG-S\n  ips: [203.0.113.8]\n  allow_private_ip: true\n"
         "  from: m\n  sub_accounts: [a]\n",
         "r.yaml:6: s: from is only for sub_accounts_via: rest (the main key that signs the "
         "REST calls)"),
        ("- id: s\n  label: ICG-S\n  ips: [203.0.113.8]\n  allow_private_ip: true\n"
         "  sub_accounts_via: api\n  from: m\n  sub_accounts: [a]\n",
         "r.yaml:6: s: sub_accounts_via 'api': use browser (the default: drafts on the key "
         "page) or rest (OKX's REST API, with the main key)"),
    ],
)  # fmt: skip
def test_a_bad_rest_entry_is_one_line(tmp_path: Path, entry: str, line: str) -> None:
    assert one(tmp_path, MAIN + entry) == line


def test_from_must_name_the_main_key_entry(tmp_path: Path) -> None:
    text = (
        MAIN + "- {id: subs, label: ICG-B, ips: [203.0.113.9], allow_private_ip: true, "
        "profile: acme, sub_accounts: [a, b]}\n"  # 2: browser sub-account keys
        "- id: r1\n" + REST + "  from: subs\n  sub_accounts: [c]\n"  # 3, from on 8
        "- id: r2\n" + REST + "  from: r1\n  sub_accounts: [d]\n"  # 10, from on 15
    )
    assert problems(tmp_path, text) == [
        "r.yaml:8: r1: from 'subs' makes sub-account keys (a, b); name the entry (or vault "
        "record) of the client's main-account key",
        "r.yaml:15: r2: from 'r1' is itself a sub_accounts_via: rest entry; name the entry (or "
        "vault record) of the client's main-account key",
    ]


def test_the_same_key_twice_through_rest_and_browser(tmp_path: Path) -> None:
    """Sub-account a's ICG-S key for the client of profile acme, asked by a browser entry
    and by a REST entry whose main key is that client's: the batch would make it twice."""
    text = (
        MAIN + "- {id: b, label: ICG-S, ips: [203.0.113.9], allow_private_ip: true, "
        "profile: acme, sub_account: a}\n"
        "- id: r\n" + REST + "  from: m\n  sub_accounts: [z, a]\n"
    )
    assert problems(tmp_path, text) == [
        "r.yaml:3: r: the same key (label 'ICG-S', account a, same profile) is already entry 'b'"
    ]


ROSTER = (
    "defaults: {allow_private_ip: true}\n"
    "entries:\n"
    "  - {id: m, label: ICG-M, ips: [127.0.0.1], profile: acme}\n"
    "  - {id: s, label: ICG-S, ips: [127.0.0.1], sub_accounts_via: rest, from: %s, "
    "sub_accounts: [a]}\n"
)


def refused(home: Path, roster: Path, *args: str) -> str:
    """The batch's one line; nothing opened, nothing journaled, nothing sent."""
    proc = onboard(home, "batch", str(roster), "--headless", *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1, proc.stderr
    assert not (home / "journal.sqlite3").exists() and not (home / "runs").exists()
    return proc.stderr


def test_the_batch_needs_yes_the_vault_and_a_real_record(tmp_path: Path) -> None:
    home = tmp_path / "home"
    roster = tmp_path / "r.yaml"
    roster.write_text(ROSTER % "m")
    assert refused(home, roster) == (
        "error: r.yaml: the sub_accounts_via: rest entries (s) create keys over OKX's REST API "
        "with each client's main key, with no one at a prompt: pass --yes once each client "
        "has agreed\n"
    )
    assert refused(home, roster, "--yes", "--sink", "keyring") == (
        "error: --sink keyring: the sub_accounts_via: rest entries (s) read the main key from "
        "the vault and store their keys there: use --sink vault\n"
    )
    roster.write_text(ROSTER % "m-typo")
    assert refused(home, roster, "--yes") == (
        f"error: r.yaml:4: s: from 'm-typo' is neither an entry of this roster nor a record in "
        f"the vault at {home / 'vault'}\n"
    )


def test_a_record_that_must_not_sign(tmp_path: Path) -> None:
    """A vault record marked unusable (its key must be deleted) signs nothing."""
    from agent.config import Settings
    from agent.custody.vault import Vault

    home = tmp_path / "home"
    vault = Vault(Settings(home=home))
    rid = vault.store(make_cred())
    vault.mark_unusable(rid, "its secret leaked")
    roster = tmp_path / "r.yaml"
    roster.write_text(ROSTER % rid)
    assert refused(home, roster, "--yes") == (
        f"error: r.yaml:4: s: from {rid}: that record is marked unusable (its secret leaked); "
        "its key must be deleted, not used\n"
    )
