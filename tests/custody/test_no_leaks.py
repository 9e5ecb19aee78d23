"""Zero leaks: run the flows through the real CLI, then scan every artifact for every secret.

What is scanned: each run's stdout and stderr, every file under the data
directory (run logs, masked screenshots, Playwright traces and each file inside
them, the journal database, vault metadata and ciphertext, the identity), for
every secret and passphrase the replica issued. Zero hits are required; the
list of what was scanned is printed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest

from tests.helpers import login_profiles, onboard, outbox_cmd

RUNS = [
    ([], ["--auto-submit"]),  # the main path, automatic codes
    (["secret-masked"], ["--auto-submit"]),  # capture through the clipboard
    (["submit-error"], ["--auto-submit"]),  # an error on the way
    (["ip-chip-dropped"], ["--auto-submit"]),  # an audit stop (exit 5)
]


def reset(base: str, scenarios: list[str]) -> None:
    httpx.post(f"{base}/replica/reset", json={"scenarios": scenarios}).raise_for_status()


def scan_bytes(blob: bytes, needles: list[str]) -> list[str]:
    hits = []
    for n in needles:
        for enc in ("utf-8", "utf-16-le"):
            if n.encode(enc) in blob:
                hits.append(n)
    return hits


@pytest.mark.slow
def test_no_secret_in_any_artifact(replica, tmp_path, capsys):
    home = tmp_path / "home"
    acct = replica.world.accounts["client@replica.test"]
    outputs: dict[str, str] = {}
    secrets: list[str] = []
    for n, (scenarios, flags) in enumerate(RUNS):
        reset(replica.base_url, scenarios)
        login_profiles(replica, home, [f"leak{n}"])
        outbox = outbox_cmd(replica.base_url)
        proc = onboard(
            home,
            "run", "--label", f"leak-{n}", "--ip", "203.0.113.7", "--base-url", replica.base_url,
            "--profile", f"leak{n}", "--headless", "--pace", "0", "--trace", "--json",
            "--totp-secret-env", "T", "--sms-code-cmd", f"{outbox} sms", "--email-code-cmd", f"{outbox} email",
            *flags,
            env={"T": acct.totp_secret},
        )  # fmt: skip
        outputs[f"run {n} {scenarios or ['default']} stdout"] = proc.stdout
        outputs[f"run {n} {scenarios or ['default']} stderr"] = proc.stderr
        for k in httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]:
            secrets += [k["secretKey"], k["passphrase"]]
    demo = onboard(home, "demo", "--headless", "--pace", "0", "--json")
    outputs["demo stdout"], outputs["demo stderr"] = demo.stdout, demo.stderr
    assert demo.returncode == 0, demo.stderr
    assert len(secrets) >= 6, "the runs should have created keys"  # 3 keys x (secret, passphrase)

    scanned: list[str] = []
    hits: list[str] = []
    for name, text in outputs.items():
        scanned.append(name)
        hits += [f"{name}: {h}" for h in scan_bytes(text.encode(), secrets)]
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        if "profiles" in path.relative_to(home).parts:
            continue  # the browser's own profile (cookies, cache) is the client's, not an artifact
        rel = str(path.relative_to(home))
        blob = path.read_bytes()
        scanned.append(rel)
        hits += [f"{rel}: {h}" for h in scan_bytes(blob, secrets)]
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    scanned.append(f"{rel}!{member}")
                    hits += [f"{rel}!{member}: {h}" for h in scan_bytes(z.read(member), secrets)]
    kinds = {
        "run logs": [s for s in scanned if s.endswith("log.jsonl")],
        "screenshots": [s for s in scanned if s.endswith(".png")],
        "traces": [s for s in scanned if s.endswith(".zip")],
        "journal": [s for s in scanned if "journal" in s],
        "vault": [s for s in scanned if s.startswith("demo/vault") or s.startswith("vault")],
    }
    with capsys.disabled():
        print(
            f"\nleak scan: {len(scanned)} artifacts scanned for {len(secrets)} secrets/passphrases"
        )
        for kind, items in kinds.items():
            print(f"  {kind}: {len(items)}")
    assert hits == [], hits
    for kind in ("run logs", "screenshots", "traces", "vault"):
        assert kinds[kind], f"no {kind} were produced: the scan would prove nothing"
    assert Path  # keep import for type readers
