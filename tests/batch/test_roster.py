"""Roster validation: every problem, with its file and line, one line each, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.roster import RosterError, load
from tests.helpers import onboard

PRIV = (
    "cannot reach OKX from the firm's servers "
    "(use the public address, or --allow-private-ip for test setups)"
)


def problems(tmp_path: Path, text: str, name: str = "r.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RosterError) as exc:
        load(path)
    return exc.value.lines


def one(tmp_path: Path, text: str, name: str = "r.yaml") -> str:
    [line] = problems(tmp_path, text, name)
    return line


# A documentation address (RFC 5737) stands in for a client's server: it needs allow_private_ip.
OK = "- id: a\n  label: ICG-A\n  ips: [203.0.113.7]\n  allow_private_ip: true\n"  # lines 1-4


def test_a_good_yaml_roster_with_defaults_and_sub_accounts(tmp_path, monkeypatch):
    monkeypatch.setenv("T1", "JBSWY3DPEHPK3PXP")
    p = tmp_path / "r.yaml"
    p.write_text(
        "defaults:\n  base_url: http://127.0.0.1:8700\n  allow_private_ip: true\n"
        "  totp_secret_env: T1\n"
        "entries:\n"
        "  - {id: a, label: ICG-A, ips: [127.0.0.1, 203.0.113.7], profile: acme}\n"
        "  - {id: b, label: ICG-B, ips: '203.0.113.8 203.0.113.9', sub_accounts: [s1, s2]}\n"
    )
    r = load(p)
    assert [(e.id, e.label, e.account) for e in r.entries] == [
        ("a", "ICG-A", "main"), ("b", "ICG-B", "s1, s2"),
    ]  # fmt: skip
    assert r.entries[1].request.accounts == ["s1", "s2"]  # one submission, two keys
    assert r.entries[1].request.ips == ["203.0.113.8", "203.0.113.9"]
    assert r.entries[0].request.base_url == "http://127.0.0.1:8700"
    assert r.entries[0].codes.totp_secret_env == "T1"


def test_a_good_csv_roster(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "id,label,ips,profile,sub_account,allow_private_ip\n"
        "a,ICG-A,203.0.113.7;2001:db8::7,acme,,true\n"
        "b,ICG-B,203.0.113.8,beta,icg-mm-sub1,yes\n"
    )
    r = load(p)
    assert [(e.id, e.account, e.request.ips) for e in r.entries] == [
        ("a", "main", ["203.0.113.7", "2001:db8::7"]), ("b", "icg-mm-sub1", ["203.0.113.8"]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("r.yaml", "- {id: a, label: MARKETMAKINGDESK, ips: [1.1.1.1]}\n"),
        ("r.csv", "id,label,ips\na,MARKETMAKINGDESK,1.1.1.1\n"),
    ],
)
def test_a_label_in_capitals_is_a_label_as_for_run(tmp_path, name, text):
    """`onboard run --label MARKETMAKINGDESK` is accepted: so is the same label in a roster."""
    p = tmp_path / name
    p.write_text(text)
    assert [e.label for e in load(p).entries] == ["MARKETMAKINGDESK"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("r.csv", "\ufeffid,label,ips,allow_private_ip\na,ICG-A,203.0.113.7,true\n"),
        ("r.yaml", "\ufeff- {id: a, label: ICG-A, ips: [203.0.113.7], allow_private_ip: true}\n"),
    ],
)
def test_a_byte_order_mark_is_not_part_of_the_first_field(tmp_path, name, text):
    """Excel writes "CSV UTF-8" with a BOM; the first column is still `id`."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    assert [(e.id, e.label) for e in load(p).entries] == [("a", "ICG-A")]


def test_merge_keys_and_empty_trailing_columns_are_not_keys_given_twice(tmp_path):
    """What the duplicate checks must leave alone: YAML's `<<` merge (the entry's own value
    wins) and the empty columns a spreadsheet leaves at the end of a header."""
    p = tmp_path / "r.yaml"
    p.write_text(
        "- &a {id: a, label: ICG-A, ips: [203.0.113.7], allow_private_ip: true, profile: acme}\n"
        "- {<<: *a, id: b, profile: beta}\n"
    )
    assert [(e.id, e.label, e.profile) for e in load(p).entries] == [
        ("a", "ICG-A", "acme"), ("b", "ICG-A", "beta"),
    ]  # fmt: skip
    p = tmp_path / "r.csv"
    p.write_text("id,label,ips,allow_private_ip,,\na,ICG-A,203.0.113.7,true,,\n")
    assert [e.id for e in load(p).entries] == ["a"]


def test_every_problem_is_listed_with_its_line(tmp_path):
    text = (
        "- id: a\n"  # 1
        "  label: ICG-A\n"
        "  ips: [10.0.0.1]\n"  # 3
        "- id: b\n"
        "  label: 'bad label!'\n"  # 5
        "  ips: [203.0.113.7, 203.0.113.7]\n"  # 6
        "  allow_private_ip: true\n"
        "- id: a\n"  # 8
        "  label: ICG-C\n"
        "  ips: [1.2.3]\n"  # 10
        "- id: d\n"
        "  label: ICG-D\n"
        "  ips: [198.51.100.4]\n"  # 13: a documentation address, without the flag
    )
    assert problems(tmp_path, text) == [
        f"r.yaml:3: a: private IP address 10.0.0.1 {PRIV}",
        "r.yaml:5: b: --label 'bad label!' has characters the exchange refuses "
        "(letters, numbers, spaces, - _ .)",
        "r.yaml:6: b: duplicate IP address: 203.0.113.7",
        "r.yaml:8: id 'a' is used twice (first on line 1)",
        "r.yaml:10: a: not an IPv4 or IPv6 address: 1.2.3",
        f"r.yaml:13: d: documentation-range IP address 198.51.100.4 {PRIV}",
    ]


def test_documentation_addresses_need_allow_private_ip(tmp_path):
    """As for `onboard run`: the defaults may allow them, an entry may say no again."""
    text = (
        "defaults: {allow_private_ip: true}\n"
        "entries:\n"
        "  - {id: a, label: A, ips: [203.0.113.7]}\n"
        "  - {id: b, label: B, ips: ['2001:db8::7'], allow_private_ip: false}\n"
    )
    assert problems(tmp_path, text) == [
        f"r.yaml:4: b: documentation-range IP address 2001:db8::7 {PRIV}"
    ]


def test_csv_problems_carry_their_row_line(tmp_path):
    text = (
        "id,label,ips,profile,allow_private_ip\n"
        "a,ICG-A,203.0.113.7,acme,true\n"
        "b,,203.0.113.8,beta,true\n"
        "c,ICG-C,10.0.0.1/24,gamma,true\n"
        "d,ICG-D,203.0.113.9,bad/profile,true\n"
    )
    assert problems(tmp_path, text, "r.csv") == [
        "r.csv:3: b: missing 'label'",
        "r.csv:4: c: IP ranges are not accepted: 10.0.0.1/24 (give single addresses)",
        "r.csv:5: d: --profile 'bad/profile': use letters, digits, '.', '_' or '-' (max 64)",
    ]


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("totp_secret", "give totp_secret_env: the name of an environment variable that holds it"),
        ("password", "the agent never types a password: the client logs in to the profile once"),
        ("passphrase", "the agent generates each key's passphrase and stores it encrypted"),
        ("api_secret", "secrets never go in a roster"),
        ("client_password_hint", "secrets never go in a roster"),
    ],
)
def test_secret_fields_are_refused(tmp_path, field, hint):
    assert one(tmp_path, OK + f"  {field}: whatever-Value-1\n") == (
        f"r.yaml:5: a: field {field!r} would put a secret in the roster; refused ({hint})"
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("JBSWY3DPEHPK3PXP", "looks like a TOTP secret (16+ base32 characters)"),
        ("jbsw y3dp ehpk 3pxp", "looks like a TOTP secret (16+ base32 characters)"),
        ("9A1F3C5E7B2D4F6A8C0E1B3D5F7A9C2E", "looks like an API secret (32 hex characters)"),
        ("5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01", "looks like an API key (a UUID)"),
    ],
)
def test_secret_looking_values_are_refused_in_any_field(tmp_path, value, why):
    assert one(tmp_path, OK + f"  profile: '{value}'\n") == (
        f"r.yaml:5: a: profile: the value {why}; secrets never go in a roster "
        "(reference them: totp_secret_env, sms_code_cmd, email_code_cmd)"
    )


def test_secret_in_a_csv_cell(tmp_path):
    text = (
        "id,label,ips,allow_private_ip,sms_code_cmd\na,ICG-A,203.0.113.7,1,echo JBSWY3DPEHPK3PXP\n"
    )
    assert one(tmp_path, text, "r.csv") == (
        "r.csv:2: a: sms_code_cmd: the value looks like a TOTP secret (16+ base32 characters); "
        "secrets never go in a roster (reference them: totp_secret_env, sms_code_cmd, email_code_cmd)"
    )


def test_unknown_field(tmp_path):
    assert one(tmp_path, OK + "  colour: red\n").startswith(
        "r.yaml:5: a: unknown field 'colour' (known: id, label, ips, profile,"
    )


def test_missing_ips(tmp_path):
    assert one(tmp_path, "- id: a\n  label: ICG-A\n") == (
        "r.yaml:1: a: missing 'ips': keys without an IP allowlist expire after 14 days and can "
        "be used from anywhere"
    )


def test_unset_totp_env_and_bad_command(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_VAR", raising=False)
    text = OK + "  totp_secret_env: NOPE_VAR\n- id: b\n  label: B\n  ips: [1.1.1.1]\n" \
        "  email_code_cmd: \"unterminated 'quote\"\n"  # fmt: skip
    assert problems(tmp_path, text) == [
        "r.yaml:5: a: totp_secret_env NOPE_VAR: that variable is not set",
        "r.yaml:9: b: email_code_cmd: No closing quotation",
    ]


def test_totp_env_that_is_not_base32(tmp_path, monkeypatch):
    monkeypatch.setenv("NOT_B32", "hello!")
    assert one(tmp_path, OK + "  totp_secret_env: NOT_B32\n") == (
        "r.yaml:5: a: totp_secret_env NOT_B32: not a base32 TOTP secret"
    )


def test_account_choices(tmp_path):
    text = OK + "  sub_account: s1\n  account: main\n- id: b\n  label: B\n  ips: [1.1.1.1]\n" \
        "  sub_accounts: [ok1, 'not ok']\n"  # fmt: skip
    assert problems(tmp_path, text) == [
        "r.yaml:5: a: give only one of account, sub_account",
        "r.yaml:10: b: --sub-account 'not ok' is not a valid sub-account name",
    ]


def test_too_many_sub_accounts_for_one_submission(tmp_path):
    subs = ", ".join(f"s{i}" for i in range(11))
    assert one(tmp_path, OK + f"  sub_accounts: [{subs}]\n") == (
        "r.yaml:5: a: 11 sub-accounts; one submission takes at most 10 keys (split the entry)"
    )


def test_a_sub_account_already_in_another_entry(tmp_path):
    text = OK + "  sub_accounts: [s1, s2]\n- id: b\n  label: ICG-A\n  ips: [1.1.1.1]\n" \
        "  sub_account: s2\n"  # fmt: skip
    assert one(tmp_path, text) == (
        "r.yaml:6: b: the same key (label 'ICG-A', account s2, same profile) is already entry 'a'"
    )


def test_same_key_twice(tmp_path):
    text = OK + "  profile: acme\n- id: b\n  label: ICG-A\n  ips: [1.1.1.1]\n  profile: acme\n"
    assert one(tmp_path, text) == (
        "r.yaml:6: b: the same key (label 'ICG-A', account main, same profile) is already entry 'a'"
    )


def test_wrong_types_site_and_base_url(tmp_path):
    text = (
        "- id: a\n  label: A\n  ips: [1.1.1.1]\n  site: mars\n  base_url: ftp://x\n"
        "  human_timeout: soon\n"
    )
    assert problems(tmp_path, text) == [
        "r.yaml:6: a: human_timeout: Input should be a valid number, unable to parse string as a number",
    ]
    text = "- id: a\n  label: A\n  ips: [1.1.1.1]\n  site: mars\n  base_url: ftp://x\n"
    assert problems(tmp_path, text) == [
        "r.yaml:4: a: --site must be one of global, eea, us",
        "r.yaml:5: a: --base-url 'ftp://x' is not an http(s) URL",
    ]


def test_not_a_roster(tmp_path):
    assert one(tmp_path, "- id: a\n  label: [unclosed\n") == (
        "r.yaml:3: not valid YAML (expected ',' or ']', but got '<stream end>')"
    )
    assert one(tmp_path, "") == "r.yaml: the roster is empty"
    assert one(tmp_path, "clients: []\n") == (
        "r.yaml:1: unknown top-level key 'clients' (a roster is a list of entries, or 'defaults', "
        "'entries' and 'browser_pool')"
    )
    assert one(tmp_path, "a,b\n", "r.txt").endswith("r.txt: a roster is a .yaml, .yml or .csv file")
    with pytest.raises(RosterError) as exc:
        load(tmp_path / "missing.csv")
    assert exc.value.lines == [f"{tmp_path / 'missing.csv'}: no such roster file"]


def test_cli_lists_every_error_and_opens_nothing(tmp_path):
    roster = tmp_path / "clients.csv"
    roster.write_text(
        "id,label,ips,totp_secret,allow_private_ip\n"
        "a,ICG-A,10.0.0.1,JBSWY3DPEHPK3PXP,\n"
        "b,ICG-B,203.0.113.8,,true\n"
        "b,ICG-C,203.0.113.9,,true\n"
    )
    home = tmp_path / "home"
    proc = onboard(home, "batch", str(roster), "--headless")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: clients.csv:2: a: field 'totp_secret' would put a secret in the roster; refused "
        "(give totp_secret_env: the name of an environment variable that holds it)",
        f"error: clients.csv:2: a: private IP address 10.0.0.1 {PRIV}",
        "error: clients.csv:4: id 'b' is used twice (first on line 3)",
    ]
    assert "JBSWY3DPEHPK3PXP" not in proc.stderr
    assert not (home / "journal.sqlite3").exists() and not (home / "runs").exists()


def test_cli_bad_options(tmp_path):
    roster = tmp_path / "r.yaml"
    roster.write_text(OK)
    home = tmp_path / "home"
    proc = onboard(home, "batch", str(roster), "--sink", "stdout")
    # A value outside the option's choices: one line naming them, as for every choice (README).
    assert proc.returncode == 2
    assert (
        "'stdout': a batch never prints keys; use vault, keyring or okx-toml:PREFIX" in proc.stderr
    )
    assert not (home / "journal.sqlite3").exists()
    proc = onboard(home, "batch", str(roster), "--resume", "batch-x", "--fresh")
    assert (proc.returncode, proc.stderr) == (2, "error: give only one of --resume and --fresh\n")
    proc = onboard(home, "batch", str(roster), "--resume", "batch-nope", "--headless")
    assert (proc.returncode, proc.stderr) == (
        2, "error: --resume batch-nope: no such batch in the journal\n",
    )  # fmt: skip
    assert not (home / "runs").exists()
