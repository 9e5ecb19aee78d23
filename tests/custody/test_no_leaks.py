"""Zero leaks: run the flows through the real CLI, then scan everything they leave for every
value that must never be written.

The runs: `onboard run --trace` on a client's logged-in profile (the main path; `secret-masked`,
capture through the clipboard; `submit-error`, a refusal on the way; `ip-chip-dropped`, an
audit stop, exit 5), `onboard batch --report` (a main-account entry and a two-sub-account
entry), and `onboard demo`, which starts its own replica: it runs witnessed
(`tests.leaks.witnessed`), so that replica reports what it issued when it stops.

The needles: every key a replica issued (API key, secret, passphrase), every SMS and email code
it sent, the authenticator codes of every 30 s window the runs spent, and the seed accounts'
login passwords and TOTP seeds. The haystack: stdout and stderr of every command, every file
of the data directory (run logs, screenshots, traces and each file in them, the journal, the
vault, the browser profiles, the demo's directory) and of the report directory, searched by
the one scanner of tests/leaks.py. Zero hits, and no barcode decodes in any image.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.config import Settings
from agent.custody.vault import Vault
from tests.helpers import CLIENT, login_profiles, onboard, outbox_cmd
from tests.leaks import Needles, barcodes, scan, witnessed

IPS = ["203.0.113.7", "2001:db8::7"]
RUNS = [  # (scenarios, exit code)
    ([], 0),  # the main path, automatic codes
    (["secret-masked"], 0),  # capture through the clipboard
    (["submit-error"], 0),  # an error on the way
    (["ip-chip-dropped"], 5),  # an audit stop before submit
]


def reset(base: str, scenarios: list[str]) -> None:
    httpx.post(f"{base}/replica/reset", json={"scenarios": scenarios}).raise_for_status()


def code_flags(base: str) -> list[str]:
    """Automatic codes for every factor: the authenticator seed in $T, the replica's outbox."""
    outbox = outbox_cmd(base)
    return ["--totp-secret-env", "T", "--sms-code-cmd", f"{outbox} sms",
            "--email-code-cmd", f"{outbox} email"]  # fmt: skip


class Ledger:
    """What the runs printed and what they were given or issued, gathered as they go."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.needles = Needles()
        self.needles.add_seed()
        self.outputs: dict[str, str] = {}

    def command(self, name: str, run: Any, *args: Any, **kw: Any) -> Any:
        """Run one command, keep its output, and the authenticator codes of its windows."""
        t0 = time.time()
        proc = run(*args, **kw)
        self.needles.add_totp(self.seed, t0, time.time())
        self.outputs[f"{name} stdout"] = proc.stdout
        self.outputs[f"{name} stderr"] = proc.stderr
        return proc


def demo_keys_are_the_vaults(home: Path, issued: dict[str, Any], result: dict[str, Any]) -> None:
    """The witness saw the demo's own replica: its keys are what the demo stored."""
    [made] = issued["keys"]
    [vid] = result["vault_ids"]
    cred = Vault(Settings(home=home / "demo")).load(vid)
    assert (cred.api_key, cred.secret, cred.passphrase) == (
        made["apiKey"], made["secretKey"], made["passphrase"],
    )  # fmt: skip
    assert {m["channel"] for m in issued["messages"]} == {"sms", "email"}


@pytest.mark.slow
@pytest.mark.timeout(420)  # seven commands, six browser logins (about 70 s on 2 cores)
def test_no_secret_in_anything_the_runs_leave(replica, tmp_path: Path) -> None:
    home, reports = tmp_path / "home", tmp_path / "reports"
    base = replica.base_url
    ledger = Ledger(replica.world.accounts[CLIENT].totp_secret)
    env = {"T": ledger.seed}
    for n, (scenarios, code) in enumerate(RUNS):
        reset(base, scenarios)
        login_profiles(replica, home, [f"leak{n}"])
        proc = ledger.command(
            f"run {n} {scenarios or ['default']}", onboard, home,
            "run", "--label", f"leak-{n}", *[a for ip in IPS for a in ("--ip", ip)],
            "--allow-private-ip", "--base-url", base, "--profile", f"leak{n}", "--headless",
            "--pace", "0", "--trace", "--json", "--auto-submit", *code_flags(base), env=env,
        )  # fmt: skip
        assert proc.returncode == code, proc.stderr
        ledger.needles.add_replica(base)

    reset(base, [])
    login_profiles(replica, home, ["b-main", "b-subs"])
    flags = code_flags(base)
    roster = tmp_path / "clients.yaml"
    roster.write_text(yaml.safe_dump({
        "defaults": {"ips": IPS, "allow_private_ip": True, "base_url": base,
                     "totp_secret_env": "T", "sms_code_cmd": flags[3], "email_code_cmd": flags[5]},
        "entries": [
            {"id": "acme-main", "label": "B-MAIN", "profile": "b-main"},
            {"id": "acme-subs", "label": "B-SUBS", "profile": "b-subs",
             "sub_accounts": ["icg-mm-sub1", "icg-mm-sub2"]},
        ],
    }))  # fmt: skip
    proc = ledger.command(
        "batch", onboard, home, "batch", str(roster), "--headless", "--pace", "0",
        "--auto-submit", "--report", str(reports), "--json", env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ledger.needles.add_replica(base)

    witness = tmp_path / "demo-issued.json"
    demo = ledger.command(
        "demo", witnessed, home, witness, "demo", "--headless", "--pace", "0", "--json"
    )
    assert demo.returncode == 0, demo.stderr
    issued = json.loads(witness.read_text())
    demo_keys_are_the_vaults(home, issued, json.loads(demo.stdout))
    ledger.needles.add_issued(issued)

    needles = ledger.needles
    counts = {k: len(needles.of(k)) for k in ("api key", "secret", "passphrase", "code")}
    # 3 runs + 3 batch keys + the demo's; codes: SMS and email per verification (7), and
    # the authenticator's of at least one window
    assert counts["secret"] == counts["api key"] == counts["passphrase"] == 7, counts
    assert counts["code"] >= 2 * 7 + 1, counts
    assert len(needles.of("password")) == len(needles.of("totp seed")) == 2

    found = scan({"home": home, "reports": reports}, ledger.outputs, needles)
    # Not even an API key in a profile: its HTTP cache is cleared when a run closes it.
    assert not found.hits, "\n".join(map(str, found.hits))
    qr = [f"{where}: {c}" for where, data in found.images for c in barcodes(data)]
    assert not qr, "\n".join(qr)

    looked_at = {
        "run logs": found.named("home/runs/", "log.jsonl"),
        "screenshots": found.named("home/runs/", ".png"),
        "trace members": found.named("home/runs/", "trace-", ".zip!"),
        "journal rows": found.named("home/journal.sqlite3!rows"),
        "vault": found.named("home/vault/"),
        "profiles": found.named("home/profiles/"),
        "report": found.named("reports/", ".html"),
        "report images": found.named("reports/", ".html#data-uri-"),
        "demo run": found.named("home/demo/runs/"),
        "demo vault": found.named("home/demo/vault/"),
        "outputs": [o for o in found.scanned if o.endswith(("stdout", "stderr"))],
    }
    for what, items in looked_at.items():
        assert items, f"no {what} were scanned: the scan would prove nothing"
    print(f"\nleak scan: {len(found.scanned)} items, {len(found.images)} images, "
          f"{len(needles.items)} values: " + ", ".join(f"{k} {len(v)}" for k, v in looked_at.items()))  # fmt: skip
