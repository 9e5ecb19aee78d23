"""Recording fixture sets: every stage from the live replica, redacted before anything is written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from agent.engine.flow import load_flow, load_named
from agent.record import (
    PLACEHOLDER_HEX32,
    PLACEHOLDER_PASSPHRASE,
    PLACEHOLDER_UUID,
    Recorder,
    check_sets,
    check_step,
    leaks,
    manual_record,
    redact_html,
)
from tests.helpers import in_thread
from tests.replica.test_ui_common import PASSPHRASE, fill_form, login

from .replica_set import export

ROOT = Path(__file__).resolve().parents[2]
FLOW = load_named("okx")


def originals(base: str, world) -> list[str]:
    """Every value from the replica that must not survive: keys, secrets, seed identities, codes."""
    vals: list[str] = []
    for k in httpx.get(f"{base}/replica/issued").json()["keys"]:
        vals += [k["apiKey"], k["secretKey"], k["passphrase"]]
    for a in world.accounts.values():
        vals += [a.email, a.phone, a.phone.replace(" ", ""), a.uid]
        vals += [a.phone.split()[-1], a.masked_email(), a.masked_phone(), a.password]
        vals += [a.totp_secret or ""]
    for m in httpx.get(f"{base}/replica/outbox").json()["messages"]:
        vals.append(m["code"])
    return [v for v in vals if v]


def test_replica_set_has_every_stage_and_no_original_value(replica, tmp_path, browser):
    out = tmp_path / "replica-set"
    path, stopped = in_thread(export, replica, out)
    assert stopped is None
    man = json.loads((path / "manifest.json").read_text())
    assert [s["name"] for s in man["stages"]] == [
        "keys", "create-form", "verify-totp", "verify-sms", "verify-email", "created", "keys-listed",
    ]  # fmt: skip
    assert man["flow"] == {"name": FLOW.name, "version": FLOW.version}
    assert man["viewport"] == {"width": 1920, "height": 1080} and man["locale"] == "en"
    assert set(man) >= {"site", "date", "steps", "vars"}
    values = originals(replica.base_url, replica.world)
    issued = httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]
    assert len(issued) == 1 and len(values) > 12
    codes = [m["code"] for m in httpx.get(f"{replica.base_url}/replica/outbox").json()["messages"]]
    assert len(codes) >= 2  # the SMS and the email code the client typed
    assert leaks(path, values) == []
    text = {p.name: p.read_text() for p in path.iterdir()}
    # The created dialog keeps the shape: placeholder key and secret, QR replaced by a box.
    assert PLACEHOLDER_UUID in text["created.html"]
    assert PLACEHOLDER_HEX32 in text["created.html"]
    assert 'data-onboard-redacted="qr"' in text["created.html"]
    # What a person saw: the form's values and its passphrase (as a placeholder), no scripts.
    assert 'value="ICG-MM"' in text["create-form.html"]
    assert f'value="{PLACEHOLDER_PASSPHRASE}"' in text["create-form.html"]
    assert all("<script" not in t for t in text.values())
    assert all("onboard-overlay" not in t for t in text.values())
    assert all("data-onboard-mask" not in t for t in text.values())  # a shot's covers
    # The fresh set passes the locator contract (the same function `onboard doctor` uses).
    page = browser.new_page()
    try:
        results = check_sets(page, [path], FLOW)
    finally:
        page.close()
    assert results and all(r.ok for r in results), [r.message() for r in results if not r.ok]


def test_manual_recording_of_a_broken_flow_still_captures_the_page(replica, page: Page, tmp_path):
    """`onboard record` without --drive: the person walks the site, the recorder snapshots."""
    base = replica.base_url
    login(page, base)
    expect(page.get_by_text("No API keys yet", exact=True)).to_be_visible()
    rec = Recorder(
        tmp_path / "manual", FLOW, "replica", {"label": "ICG-MM", "ips": ["203.0.113.7"]}
    )
    asked = []

    def ask(stage: str, help: str) -> str:
        asked.append(stage)
        if stage == "create-form":
            page.get_by_role("button", name="Create API key").click()
            fill_form(page, "ICG-MM", ["203.0.113.7"])
            return ""
        if stage == "keys":
            return ""
        return "q"

    done = manual_record(page, rec, ["keys", "create-form", "verify-totp", "created"], ask)
    assert done == ["keys", "create-form"] and asked == ["keys", "create-form", "verify-totp"]
    path = rec.write()
    assert sorted(p.name for p in path.iterdir()) == [
        "create-form.html",
        "keys.html",
        "manifest.json",
    ]
    assert PASSPHRASE not in (path / "create-form.html").read_text()
    assert leaks(path, originals(base, replica.world)) == []
    with pytest.raises(Exception, match="already holds files"):
        rec.write()


def test_a_changed_site_fails_with_step_stage_set_and_every_candidate(page: Page, tmp_path):
    sets = sorted((ROOT / "fixtures" / "okx").glob("replica-*"))
    assert sets, "the replica fixture set is committed"
    set_dir = tmp_path / sets[-1].name
    shutil.copytree(sets[-1], set_dir)
    # The site renamed the field: the flow's two candidates no longer find it.
    html = (set_dir / "create-form.html").read_text().replace(">API key name<", ">Key title<")
    (set_dir / "create-form.html").write_text(html)
    step = next(s for s in FLOW.steps if s.id == "name")
    res = check_step(page, set_dir, FLOW, step, "create-form")
    assert not res.ok
    msg = res.message()
    assert "'name'" in msg and "'create-form'" in msg and set_dir.name in msg
    assert "label='API key name' -> 0 match(es)" in msg
    assert "field='API key name' -> 0 match(es)" in msg
    # The capture still reads the placeholder key and secret from the same set.
    cap = next(s for s in FLOW.steps if s.action == "capture")
    assert check_step(page, set_dir, FLOW, cap, "created").ok


def test_an_ambiguous_locator_is_reported_with_its_count(page: Page, tmp_path):
    sets = sorted((ROOT / "fixtures" / "okx").glob("replica-*"))
    text = (ROOT / "flows" / "okx.yaml").read_text()
    broken = text.replace("{role: button, name: Complete, exact: true}", "{role: button}")
    broken = broken.replace("{text: Complete, exact: true}", "{text: Completed, exact: true}")
    assert broken != text
    (tmp_path / "okx.yaml").write_text(broken)
    flow = load_flow(tmp_path / "okx.yaml")
    step = next(s for s in flow.steps if s.id == "complete")
    res = check_step(page, sets[-1], flow, step, "created")
    assert not res.ok and re.search(r"role='button' -> \d\d? match\(es\)", res.message())


def test_redaction_patterns_keep_shapes_and_css():
    html = (
        "<style>.a{width:987654321987654px}</style><div>UID: 628391047715821568 "
        "jane.doe@firm.com ja***@gm***il.com +44 7700 900123 +44****0123 "
        "5b0c7c2e-6a3f-4d35-9d8e-2f1a4b7c9e01 9A1F3C5E7B2D4F6A8C0E1B3D5F7A9C2E Jane Q</div>"
    )
    out = redact_html(html, known=["Jane Q"])
    assert "987654321987654px" in out  # CSS untouched
    for v in (
        "628391047715821568",
        "jane.doe",
        "ja***",
        "7700 900123",
        "0123",
        "5b0c7c2e",
        "9A1F",
        "Jane Q",
    ):
        assert v not in out
    assert "000000000000000000" in out and PLACEHOLDER_UUID in out and PLACEHOLDER_HEX32 in out
