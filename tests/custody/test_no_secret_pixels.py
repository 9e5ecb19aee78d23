"""Pixels, not bytes: no secret-bearing value survives in any image the agent or a report makes.

A secret drawn in a screenshot is pixels, which no byte search finds. The replica's test-only
`marked` scenario draws every secret-bearing value (the secret and API key in the created
dialog, the API keys in the key list, the QR code, the passphrase, password and code fields)
in pure blue, a colour nothing else on its pages has. The real agent then runs (`onboard run
--trace`, and `onboard batch --report`) on each DOM variant and on each scenario that shows
the created dialog; every image it and the report leave (screenshots, the trace's frames, the
report's inlined copies) must hold no pixel of that colour and no barcode that decodes, and
the byte scan of tests/leaks.py must find nothing either.

The first test proves the marker is where it must be and nowhere else: without the agent's
masks the same screens are full of it (and the QR code decodes), and unmarked they hold none.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from agent.config import Settings
from agent.console import ConsoleReporter
from agent.engine.human import CodeSources
from agent.engine.runner import Options
from agent.request import build_request
from agent.run import RunPlan, execute
from agent.session import SessionSpec
from replica.client import ScriptedClient
from tests.helpers import CLIENT, in_thread, onboard, outbox_cmd
from tests.leaks import Needles, barcodes, marked_pixels, pixel_leaks, scan
from tests.replica.test_ui_common import (
    code_boxes,
    dialog_titled,
    fill_form,
    open_create,
    totp_now,
)

IPS = ["203.0.113.7", "2001:db8::7"]
CLIENT_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # replica/seed.yaml, client@replica.test
SUBS = ["icg-mm-sub1", "icg-mm-sub2"]
Box = tuple[int, int, int, int]


def use(replica: Any, scenarios: list[str]) -> None:
    httpx.post(
        f"{replica.base_url}/replica/reset", json={"scenarios": scenarios}
    ).raise_for_status()


def issued(replica: Any) -> list[dict[str, Any]]:
    return httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]  # type: ignore[no-any-return]


def code_flags(base: str) -> list[str]:
    """Automatic codes for all three factors: the authenticator seed in $T, the outbox."""
    outbox = outbox_cmd(base)
    return ["--totp-secret-env", "T", "--sms-code-cmd", f"{outbox} sms",
            "--email-code-cmd", f"{outbox} email"]  # fmt: skip


def box_of(loc: Locator) -> Box:
    """The element's box in screenshot pixels (device scale 1), for every match united."""
    boxes = [loc.nth(i).bounding_box() for i in range(loc.count())]
    assert boxes and all(boxes), f"{loc} is not on screen"
    return (
        int(min(b["x"] for b in boxes if b)),
        int(min(b["y"] for b in boxes if b)),
        int(max(b["x"] + b["width"] for b in boxes if b)) + 1,
        int(max(b["y"] + b["height"] for b in boxes if b)) + 1,
    )


def as_jpeg(shot: bytes) -> bytes:
    """The screenshot as a trace keeps its frames: JPEG, chroma smeared over 2x2 pixels."""
    with Image.open(io.BytesIO(shot)) as im:
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=75)
    return out.getvalue()


def crop(shot: bytes, box: Box) -> bytes:
    with Image.open(io.BytesIO(shot)) as im:
        out = io.BytesIO()
        im.crop(box).save(out, "PNG")
    return out.getvalue()


def blank(shot: bytes, boxes: list[Box]) -> bytes:
    """The screenshot with these boxes painted white: what is marked outside them."""
    with Image.open(io.BytesIO(shot)) as src:
        im = src.convert("RGB")
    for b in boxes:
        im.paste((255, 255, 255), b)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


Screen = tuple[bytes, dict[str, Box], list[Box]]


def screens(page: Page, base: str) -> dict[str, Screen]:
    """The replica's screens that hold a secret, as a person sees them (no agent, no masks):
    each with the box of every secret-bearing element it shows, and of those it may show
    (the passphrase field, behind a dialog or not depending on the window)."""
    out: dict[str, Screen] = {}
    page.goto(f"{base}/account/login")
    page.get_by_placeholder("Password").fill("Replica-Pass-1")
    out["login"] = (
        page.screenshot(),
        {"password": box_of(page.get_by_placeholder("Password"))},
        [],
    )
    open_create(page, base)
    fill_form(page, "ICG-MM", IPS)
    passphrase = page.locator("[data-okx-field=passphrase] input")
    out["form"] = (page.screenshot(), {"passphrase": box_of(passphrase)}, [])
    page.get_by_role("button", name="Submit all").click()
    boxes = code_boxes(page)
    expect(boxes).to_have_count(6)
    boxes.first.click()
    page.keyboard.type(totp_now(CLIENT_SEED))
    out["codes"] = (page.screenshot(), {"codes": box_of(boxes)}, [box_of(passphrase)])
    page.get_by_role("button", name="Confirm", exact=True).click()
    created = dialog_titled(page, "API key created")
    expect(created).to_be_visible()
    values = created.locator("span:text-matches('^[0-9a-f]{8}-|^[0-9A-F]{32}$')")
    expect(values).to_have_count(2)
    out["created"] = (
        page.screenshot(),
        {
            "api key": box_of(values.nth(0)),
            "secret": box_of(values.nth(1)),
            "qr": box_of(created.locator("svg").first),
        },
        [box_of(passphrase)],
    )
    created.get_by_role("button", name="Complete").click()
    page.wait_for_url("**/account/my-api")
    expect(created).to_have_count(0)
    listed = page.locator("span:text-matches('^[0-9a-f]{8}-[0-9a-f]{4}-')")
    expect(listed).to_have_count(1)
    out["key list"] = (page.screenshot(), {"api key": box_of(listed)}, [])
    return out


def test_the_marker_is_on_every_secret_and_nowhere_else(page: Page, replica) -> None:
    """Marked: every secret-bearing element holds marker pixels (in a JPEG copy too), nothing
    outside them does, and the QR code decodes (so a QR left in a screenshot would).
    Unmarked: not one pixel of the marker colour, PNG or JPEG."""
    assert replica.world.accounts[CLIENT].totp_secret == CLIENT_SEED
    use(replica, ["marked", "totp-only"])
    for name, (shot, boxes, may) in screens(page, replica.base_url).items():
        for what, box in boxes.items():
            for kind, image in (("PNG", shot), ("JPEG", as_jpeg(shot))):
                count, _ = marked_pixels(crop(image, box))
                assert count >= 20, f"{name}: the {what} shows no marker colour ({kind})"
        assert marked_pixels(blank(shot, [*boxes.values(), *may])) == (0, None), name
        assert bool(barcodes(shot)) == (name == "created"), name
    page.context.clear_cookies()
    use(replica, ["totp-only"])
    for name, (shot, _, _) in screens(page, replica.base_url).items():
        for image in (shot, as_jpeg(shot)):
            assert marked_pixels(image) == (0, None), f"{name}: marker colour without `marked`"


def check_artifacts(
    replica: Any, home: Path, outputs: dict[str, str], extra: dict[str, Path] | None = None
) -> tuple[list[str], list[str]]:
    """Scan home (and a report dir) for the issued values in bytes and for marked pixels or a
    barcode in every image; returns the PNG names seen and the images scanned."""
    needles = Needles()
    needles.add_replica(replica.base_url)
    scanned = scan({"home": home, **(extra or {})}, outputs, needles)
    assert not scanned.hits, "\n".join(map(str, scanned.hits))
    leaks = pixel_leaks(scanned.images)
    assert not leaks, "\n".join(leaks)
    pngs = sorted(str(p.relative_to(home)) for p in home.rglob("*.png"))
    images = [where for where, _ in scanned.images]
    assert all(f"home/{p}" in images for p in pngs), "a screenshot was not looked at"
    return pngs, images


def photographed(pngs: list[str], *names: str) -> None:
    """The moments a secret is on screen were photographed, else no pixel check proves a thing."""
    for name in names:
        assert any(p.endswith(f"-{name}.png") for p in pngs), (name, pngs)


RUNS: dict[str, tuple[list[str], list[str], int]] = {
    # case: (scenarios besides marked + logged-in, extra `run` arguments, keys made)
    "known": ([], [], 1),
    "aria": (["aria"], [], 1),
    "prefixed": (["prefixed"], [], 1),
    "covered": (["covered"], [], 1),
    "secret-masked": (["secret-masked"], [], 1),
    # The form fixes the account: one submission and one created dialog per sub-account.
    "sub-accounts": ([], [a for s in SUBS for a in ("--sub-account", s)], 2),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(RUNS))
def test_no_secret_pixel_in_a_run(replica, tmp_path: Path, case: str) -> None:
    """`onboard run --trace` on a marked replica: no marker pixel, no barcode, in any image."""
    scenarios, extra, keys = RUNS[case]
    use(replica, ["marked", "logged-in", *scenarios])
    home = tmp_path / "home"
    proc = onboard(
        home,
        "run", "--label", "ICG-MM", *[a for ip in IPS for a in ("--ip", ip)], "--allow-private-ip",
        "--base-url", replica.base_url, "--headless", "--pace", "0", "--auto-submit", "--trace",
        "--json", *code_flags(replica.base_url), *extra,
        env={"T": CLIENT_SEED},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"
    assert len(issued(replica)) == keys
    pngs, images = check_artifacts(replica, home, {"stdout": proc.stdout, "stderr": proc.stderr})
    photographed(pngs, "form-filled", "key-created", "key-listed")
    assert any("trace-1.zip!" in i for i in images), "the trace's frames were not looked at"


@pytest.mark.slow
def test_no_secret_pixel_with_several_keys_in_one_dialog(
    replica, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`account-selectable`: two sub-accounts' keys drafted together, one dialog with two QR
    codes, two secrets, two API keys. Run in process with the stand-in client beside it:
    unattended, the agent stops at the second draft's Account ("its list does not close":
    the draft's own tile now shows the account chosen, apparently read as the list's option
    still open), so the stand-in takes that step over as a person would; everything the
    agent saves is what `onboard run` would save."""
    use(replica, ["marked", "logged-in", "account-selectable"])
    home = tmp_path / "home"
    monkeypatch.setenv("T", CLIENT_SEED)
    outbox = outbox_cmd(replica.base_url)
    request = {"label": "ICG-MM", "ips": IPS, "base_url": replica.base_url,
               "allow_private_ip": True, "sub_accounts": SUBS}  # fmt: skip
    codes = CodeSources("T", f"{outbox} sms", f"{outbox} email")
    plan = RunPlan(
        request=build_request(request),
        session=SessionSpec(headless=True),
        options=Options(
            pace=0,
            auto_submit=True,
            step_timeout=10,
            login_timeout=30,
            human_timeout=60,
            codes=codes,
        ),
        trace=True,
    )
    client = ScriptedClient.for_seed(
        replica.base_url, replica.world.accounts[CLIENT], typing_delay_ms=0
    )
    result = in_thread(execute, plan, ConsoleReporter(), Settings(home=home), stand_in=client)
    assert result["status"] == "ok", result
    made = issued(replica)
    assert sorted(k["account"] for k in made) == SUBS
    sms = httpx.get(f"{replica.base_url}/replica/outbox", params={"channel": "sms"}).json()
    assert len(sms["messages"]) == 1  # one verification: both keys in one dialog
    pngs, _ = check_artifacts(replica, home, {"result": json.dumps(result, default=str)})
    photographed(pngs, "form-filled", "key-created", "key-listed")


@pytest.mark.slow
def test_no_secret_pixel_in_a_batch_report(replica, tmp_path: Path) -> None:
    """`onboard batch --report`: a main-account entry and one for two sub-accounts; the
    report inlines every screenshot, each decoded from it and checked."""
    use(replica, ["marked", "logged-in"])
    home, reports = tmp_path / "home", tmp_path / "reports"
    roster = tmp_path / "clients.yaml"
    flags = code_flags(replica.base_url)
    roster.write_text(
        json.dumps(
            {
                "defaults": {
                    "ips": IPS,
                    "allow_private_ip": True,
                    "base_url": replica.base_url,
                    "totp_secret_env": "T",
                    "sms_code_cmd": flags[3],
                    "email_code_cmd": flags[5],
                },
                "entries": [
                    {"id": "acme-main", "label": "ICG-MM"},
                    {"id": "acme-subs", "label": "ICG-SUBS", "sub_accounts": SUBS},
                ],
            }
        )
    )
    proc = onboard(
        home, "batch", str(roster), "--headless", "--pace", "0", "--auto-submit",
        "--report", str(reports), "--json", env={"T": CLIENT_SEED}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(issued(replica)) == 3
    pngs, images = check_artifacts(
        replica, home, {"stdout": proc.stdout, "stderr": proc.stderr}, {"reports": reports}
    )
    photographed(pngs, "form-filled", "key-created", "key-listed")
    [html] = reports.glob("*.html")
    inlined = [i for i in images if i.startswith(f"reports/{html.name}#data-uri-")]
    # every screenshot, decoded from the report: its thumbnail and its enlarged copy
    assert len(inlined) == 2 * len(pngs), (inlined, pngs)
