"""`onboard doctor` and `onboard record` as a user runs them: subprocesses, real replica, real browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from agent.record import leaks
from tests.helpers import login_profiles, onboard, outbox_cmd

from .test_record import originals

ROOT = Path(__file__).resolve().parents[2]


def checks(proc) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(proc.stdout)["checks"]}


def test_doctor_against_the_replica(replica, tmp_path):
    proc = onboard(tmp_path / "home", "doctor", "--json", "--base-url", replica.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = checks(proc)
    assert got["browser"]["status"] == "ok" and "Chromium" in got["browser"]["detail"]
    assert got["site"]["status"] == "ok" and got["clock"]["status"] == "ok"
    assert "s " in got["clock"]["detail"]
    assert got["flow okx"]["status"] == "ok"
    assert got["fixtures"]["status"] == "ok" and "replica-" in got["fixtures"]["detail"]
    assert got["display"]["status"] == "warn"  # the helper drops DISPLAY
    assert json.loads(proc.stdout)["ok"] is True


def test_doctor_unreachable_site_is_a_warning_not_a_hang(tmp_path):
    proc = onboard(
        tmp_path / "home", "doctor", "--json", "--base-url", "http://127.0.0.1:9", "--timeout", "1",
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    got = checks(proc)
    assert got["site"]["status"] == "warn" and "unreachable" in got["site"]["detail"]
    assert got["clock"]["status"] == "warn" and "unreachable" in got["clock"]["detail"]


def test_doctor_broken_flow_and_loose_permissions(tmp_path):
    home = tmp_path / "home"
    (home / "vault").mkdir(parents=True)
    home.chmod(0o755)
    (home / "vault").chmod(0o755)
    ident = home / "identity.age.txt"
    import pyrage

    ident.write_text(str(pyrage.x25519.Identity.generate()) + "\n")
    ident.chmod(0o644)
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (ROOT / "flows" / "okx.yaml").read_text()
    (flows / "okx.yaml").write_text(text.replace("  - id: name\n", "  - id: name\n    bogus: 1\n"))
    proc = onboard(home, "doctor", "--json", "--flows", str(flows), "--base-url", "http://127.0.0.1:9",
                   "--timeout", "1")  # fmt: skip
    assert proc.returncode == 1
    got = checks(proc)
    assert got["flow okx"]["status"] == "fail" and "okx.yaml:" in got["flow okx"]["detail"]
    assert "bogus" in got["flow okx"]["detail"]
    assert got["fixtures"]["status"] == "fail"  # the flow does not load
    assert got["data dir"]["status"] == "warn" and got["data dir"]["fix"] == f"chmod 700 {home}"
    assert got["vault dir"]["status"] == "warn" and "755" in got["vault dir"]["detail"]
    assert got["vault keys"]["status"] == "warn" and "chmod 600" in got["vault keys"]["fix"]
    assert "AGE-SECRET" not in proc.stdout


def test_doctor_bad_recipient_fails_and_recipients_only_is_ok(tmp_path):
    home = tmp_path / "home"
    args = ("doctor", "--json", "--base-url", "http://127.0.0.1:9", "--timeout", "1")
    bad = onboard(home, *args, env={"ONBOARD_RECIPIENTS": '["age1notakey"]'})
    assert bad.returncode == 1 and checks(bad)["vault keys"]["status"] == "fail"
    import pyrage

    pub = str(pyrage.x25519.Identity.generate().to_public())
    good = onboard(home, *args, env={"ONBOARD_RECIPIENTS": json.dumps([pub])})
    assert good.returncode == 0, good.stdout
    assert "recipients-only" in checks(good)["vault keys"]["detail"]


def test_doctor_failing_fixture_set_names_the_step(tmp_path):
    sets = tmp_path / "fixtures"
    src = sorted((ROOT / "fixtures" / "okx").glob("replica-*"))[-1]
    shutil.copytree(src, sets / src.name)
    page = sets / src.name / "created.html"
    page.write_text(page.read_text().replace(">Complete<", ">Done<"))
    proc = onboard(tmp_path / "home", "doctor", "--json", "--fixtures", str(sets),
                   "--base-url", "http://127.0.0.1:9", "--timeout", "1")  # fmt: skip
    assert proc.returncode == 1
    detail = checks(proc)["fixtures"]["detail"]
    assert "'complete'" in detail and "'created'" in detail and src.name in detail
    assert "role='button' name='Complete' -> 0 match(es)" in detail


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    home = tmp_path / "home"
    for args, needle in [
        (("doctor", "--flows", str(tmp_path / "nope")), "--flows"),
        (("record", "--out", str(tmp_path / "s"), "--ip", "999.1.1.1"), "999.1.1.1"),
        (("record", "--out", str(tmp_path / "s"), "--stage", "bogus"), "--stage 'bogus'"),
        (("record", "--out", str(tmp_path / "s"), "--redact-env", "NOPE_UNSET"), "NOPE_UNSET"),
        (("record", "--out", str(ROOT / "fixtures" / "okx" / "..")), "already holds files"),
    ]:
        proc = onboard(home, *args, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines


def test_record_drive_cli_writes_a_clean_set(replica, tmp_path):
    home = tmp_path / "home"
    acct = login_profiles(replica, home, ["rec"])
    outbox = outbox_cmd(replica.base_url)
    out = tmp_path / "set"
    proc = onboard(
        home, "record", "--drive", "--out", str(out), "--base-url", replica.base_url,
        "--label", "FIXTURE-1", "--profile", "rec", "--headless", "--auto-submit",
        "--totp-secret-env", "CLIENT_TOTP", "--sms-code-cmd", f"{outbox} sms",
        "--email-code-cmd", f"{outbox} email", "--step-timeout", "10",
        env={"CLIENT_TOTP": acct.totp_secret},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(out)
    man = json.loads((out / "manifest.json").read_text())
    assert man["stages"][0]["name"] == "keys" and man["vars"]["label"] == "FIXTURE-1"
    assert "created" in [s["name"] for s in man["stages"]]
    assert len(httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]) == 1
    assert leaks(out, originals(replica.base_url, replica.world)) == []
    assert not (home / "vault").exists() or not any((home / "vault").iterdir())  # nothing kept
