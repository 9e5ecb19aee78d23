"""`make bench`: timings of the automated part of one onboarding on the replica.

Runs the agent with --pace 0, automatic codes (authenticator, SMS, email) and
auto-submit against the bundled replica, under a profile that is already
logged in (the login is the client's part, not the agent's). Prints the median
of N runs and the time from the "created" dialog being read to the encrypted
record being on disk. Targets on the project's 2-core machine: under 4 s per
onboarding and under 250 ms capture-to-disk. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.config import Settings
from agent.engine.human import CodeSources
from agent.plan import build_plan
from agent.request import build_request
from agent.run import execute
from agent.session import SessionSpec
from replica.client import ScriptedClient
from replica.server import ReplicaServer
from tests.helpers import outbox_cmd

TARGET_RUN_S = 4.0
TARGET_CAPTURE_MS = 250.0


class Quiet:
    def step(self, *a: object, **k: object) -> None: ...
    def waiting(self, *a: object, **k: object) -> None: ...
    def done_waiting(self) -> None: ...
    def info(self, *a: object) -> None: ...
    def warn(self, text: str) -> None:
        print(f"  warning: {text}", file=sys.stderr)

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        raise RuntimeError("no prompts in a benchmark")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="onboard-bench-"))
    settings = Settings(home=home)
    with ReplicaServer(scenarios=["all-factors"]) as srv:
        acct = srv.world.accounts["client@replica.test"]
        os.environ["BENCH_TOTP"] = acct.totp_secret or ""
        outbox = outbox_cmd(srv.base_url)
        codes = CodeSources("BENCH_TOTP", f"{outbox} sms", f"{outbox} email")
        durations: list[float] = []
        captures: list[float] = []
        for i in range(a.runs + 1):  # run 0 logs the profile in and warms caches: not counted
            plan = build_plan(
                build_request(
                    {
                        "label": f"bench-{i}",
                        "ips": ["203.0.113.7"],  # a documentation address: needs the flag
                        "base_url": srv.base_url,
                        "allow_private_ip": True,
                    }
                ),
                SessionSpec(profile="bench", headless=True),
                pace=0,
                auto_submit=True,
                codes=codes,
                login_timeout=60,
                human_timeout=60,
                verify=False,  # the onboarding alone, as measured before
            )
            stand_in = (
                ScriptedClient.for_seed(srv.base_url, acct, typing_delay_ms=0) if i == 0 else None
            )
            t0 = time.perf_counter()
            result = execute(plan, Quiet(), settings, stand_in=stand_in)
            took = time.perf_counter() - t0
            if result["status"] != "ok":
                print(f"run {i} failed: {result.get('message')}")
                return 1
            if i:
                durations.append(took)
                captures.append(float(result["capture_to_disk_ms"]))
                print(
                    f"run {i}: {took:.2f} s, capture-to-disk {result['capture_to_disk_ms']:.1f} ms"
                )
                slow = sorted(result["step_seconds"].items(), key=lambda kv: -kv[1])[:5]
                print("   slowest steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in slow))
    med, cap = statistics.median(durations), statistics.median(captures)
    print()
    print(f"onboarding (automated part, pace 0, automatic codes): median {med:.2f} s "
          f"(min {min(durations):.2f}, max {max(durations):.2f}, n={len(durations)}); target < {TARGET_RUN_S:.0f} s")  # fmt: skip
    print(f"capture to disk (dialog read -> encrypted + fsync'ed): median {cap:.1f} ms "
          f"(max {max(captures):.1f}); target < {TARGET_CAPTURE_MS:.0f} ms")  # fmt: skip
    ok = med < TARGET_RUN_S and cap < TARGET_CAPTURE_MS
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
