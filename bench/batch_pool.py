"""The pool part of bench.batch: 24 entries over 4 local `playwright run-server` processes.

What it shows: with the browsers on browser servers, this machine only orchestrates, so
the batch's own CPU per account (the `onboard batch` process and its Playwright drivers:
its rusage from wait4) is what limits how many accounts
one orchestrator drives; the servers' CPU (their Node and their browsers: everything
the run started, reaped, less the orchestrator) is reported separately. Then one server is killed in the middle of a
batch: every entry must end ok or flagged, no key is made twice, and every key made is
in the vault.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from bench.batch import MINE, children_cpu, run, sealed_roster

SERVERS = 4


def start_servers(n: int) -> list[tuple[subprocess.Popen[str], str]]:
    out = []
    for _ in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-m", "playwright", "run-server", "--port", "0",
             "--host", "127.0.0.1", "--unsafe"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        MINE.add(proc.pid)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"Listening on (ws://\S+)", line)
        if not m:
            raise SystemExit(f"run-server did not start: {line.strip()}")
        out.append((proc, m.group(1)))
    return out


def stop_servers(servers: list[tuple[subprocess.Popen[str], str]]) -> None:
    for proc, _ in servers:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc, _ in servers:
        proc.wait(30)
    time.sleep(1.5)  # their orphaned browsers end too, reaped before the next batch


def done_in_journal(home: Path) -> int:
    try:
        db = sqlite3.connect(home / "journal.sqlite3", timeout=5)
        try:
            return int(
                db.execute("select count(*) from runs where state = 'verified'").fetchone()[0]
            )
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def pool_bench(home: Path, base_url: str, env: dict[str, str], entries: int,
               runs: int = 2) -> tuple[bool, list[str]]:  # fmt: skip
    print(f"\npool: {entries} entries over {SERVERS} local run-server processes, concurrency "
          f"{SERVERS} (one slot per server), {runs} run(s)")  # fmt: skip
    print(f"{'run':>4} {'wall s':>7} {'orchestrator CPU s':>18} {'per acct':>8} "
          f"{'servers CPU s':>13} {'per acct':>8}  result")  # fmt: skip
    failed, missed = False, []
    orch, serv = [], []
    for k in range(runs):
        c0 = children_cpu()
        servers = start_servers(SERVERS)
        pool = [ws for _, ws in servers]
        roster = sealed_roster(home / f"pool{k}.yaml", base_url, entries, f"pool{k}",
                               browser_pool=pool)  # fmt: skip
        b = run(home, roster, SERVERS, env)
        stop_servers(servers)
        # everything this run started (the batch, the servers, every browser, reaped) less
        # the batch process's own: the servers' Node and their browsers
        servers_cpu = children_cpu() - c0 - b.cpu_own
        orch.append(b.cpu_own / entries)
        serv.append(servers_cpu / entries)
        failed |= b.out.get("exit_code") != 0
        counts = b.out.get("counts") or {"exit": b.out.get("exit_code")}
        print(f"{k + 1:>4} {b.wall:>7.1f} {b.cpu_own:>18.1f} {orch[-1]:>8.2f} "
              f"{servers_cpu:>13.1f} {serv[-1]:>8.2f}  "
              f"{', '.join(f'{c} {v}' for c, v in counts.items())}")  # fmt: skip
    print(f"  median orchestrator CPU per account {median(orch):.2f} s (target <= 1.0 s); "
          f"browser servers {median(serv):.2f} s per account")  # fmt: skip
    if median(orch) > 1.0:
        missed.append("pool orchestrator CPU per account")
    lost = killed_mid_batch(home, base_url, env, entries)
    if lost:
        missed.append("pool: a killed server " + lost)
    return failed, missed


def killed_mid_batch(home: Path, base_url: str, env: dict[str, str], entries: int) -> str:
    """One server SIGKILLed once a third of the entries are verified: '' when nothing was
    lost and nothing made twice, else what went wrong."""
    servers = start_servers(SERVERS)
    roster = sealed_roster(home / "pool-kill.yaml", base_url, entries, "kill",
                           browser_pool=[ws for _, ws in servers])  # fmt: skip
    before = done_in_journal(home)
    victim = servers[0][0]

    def kill_one(proc: Any) -> None:
        while proc.poll() is None and done_in_journal(home) < before + entries // 3:
            time.sleep(0.2)
        if proc.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)

    b = run(home, roster, SERVERS, env, during=kill_one)
    stop_servers(servers)
    outcomes = [e["outcome"] for e in b.out.get("entries", [])]
    issued = [k["label"] for k in httpx.get(f"{base_url}/replica/issued").json()["keys"]
              if k["label"].startswith("b-kill-")]  # fmt: skip
    from agent.config import Settings
    from agent.custody.vault import Vault

    stored = {m["label"] for m in Vault(Settings(home=home)).list()}
    twice = sorted({x for x in issued if issued.count(x) > 1})
    unstored = sorted(set(issued) - stored)
    db = sqlite3.connect(home / "journal.sqlite3")
    again = db.execute(
        "select count(*) from runs where label like 'b-kill-%' and note like '%went away%'"
    ).fetchone()[0]
    db.close()
    print(f"  one server killed mid-batch: {outcomes.count('ok')}/{entries} ok, "
          f"{outcomes.count('flagged')} flagged, {len(issued)} key(s) made, made twice: "
          f"{len(twice)}, made but not stored: {len(unstored)}; {again} attempt(s) lost "
          "their server")  # fmt: skip
    bad = [o for o in outcomes if o not in ("ok", "flagged")]
    if twice or bad or len(outcomes) != entries or (unstored and "flagged" not in outcomes):
        return f"lost or duplicated keys (twice {twice}, not stored {unstored}, {bad})"
    return ""
