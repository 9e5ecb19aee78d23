"""Batch benchmark: 24 onboardings through the real `onboard batch`, warm slots against cold.

Against the bundled replica (authenticator codes from the environment, auto-submit,
--pace 0, headless). Four clients log in once in their profiles (the client's part); each
login is then sealed as storage state (`onboard login-state save`), and the entries name
it (`login_state:`), so they need no browser of their own and run in fresh contexts of
the batch's warm browser. Keys are spread over the main account and its sub-accounts so
no account reaches its 50-key limit.

Figures are ratios in one run: the warm batch (today's code) alternated with the cold one
(`ONBOARD_BATCH_COLD=1`: every entry starts its own Playwright driver and Chromium, as a
single run does and as every batch entry did before), W C W C ..., medians per
concurrency. CPU is the batch's process tree (rusage of the reaped tree: the batch, its
drivers, its browsers, with this process as subreaper so Chromium's orphaned helpers are
counted too), so other work on a shared machine does not count; PSS is the
peak of the tree's summed Pss. Then the pool (bench.batch_pool): 24 entries over 4 local
`playwright run-server` processes.

The warm batch is also measured against the code the issue that asked for it measured
(BASELINE, the issue's "today": 3.6 and 4.0 CPU s per account on a quiet machine), checked
out of this clone's history and run in the same rounds (W C B W C B ...), each of its
entries in its own browser on a client profile, as that code did. The CPU target is the
issue's 2.0 s per account read against that code as measured then (2.0 / 3.6 at
concurrency 1, 2.0 / 4.0 at 4): this shared machine's speed moves a batch's CPU by half
from one hour to the next, so an absolute figure is printed but a ratio is the result.
Without git history (an exported tree) the absolute figure is the target; should that code
one day no longer run against the replica, its entries fail and say so (`--no-baseline`
skips it).

Then one client with 10 sub-accounts: 10 keys drafted together and submitted at once
(one verification) against 10 separate runs, both through `onboard batch`.
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import yaml

from agent.batch_slots import COLD_ENV
from replica.server import ReplicaServer
from tests.helpers import login_into_profile

PROFILES = 4
SUBS = [f"icg-mm-sub{i}" for i in range(1, 11)]
SEED = Path(__file__).resolve().parents[1] / "replica" / "seed.yaml"


def tree_rss_kb(pid: int, field: str = "VmRSS:", file: str = "status") -> int:
    """VmRSS (or, with smaps_rollup, Pss) of a process and all its descendants, in kB.

    Summed RSS counts the pages Chromium's processes share once per process; PSS splits
    them, so it is the truer total. Both are printed; the target is checked on RSS."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/{file}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def cpu_seconds() -> tuple[float, float]:
    """(CPU s the whole machine has been busy, CPU s of this process: the replica's share)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    me = resource.getrusage(resource.RUSAGE_SELF)
    return (user + nice + system + irq + softirq + steal) / ticks, me.ru_utime + me.ru_stime


# Every batch's keys go round the main account and its ten sub-accounts in turn: OKX (and
# the replica) allow 50 keys per account, and the whole benchmark makes a few hundred.
EVERY_ACCOUNT = [None, *SUBS]
SPREAD = itertools.count()
MINE: set[int] = set()  # the children this benchmark started and waits for itself

# The code at the stop where the warm-batch issue was filed and not yet started (stop 20,
# 2026-11-30), and CPU s per account the issue measured on it, by concurrency.
BASELINE = "8e89e32"
BASELINE_CPU = {1: 3.6, 4: 4.0}
TARGET_CPU = 2.0


def adopt_orphans() -> None:
    """Make this process the subreaper of everything it starts, and reap what is orphaned.

    Chromium's helper processes (its zygotes, and the renderers they reaped) outlive the
    browser process that started them and are reparented: without this, rusage of the
    batch's tree missed about half of its CPU (measured: 7.1 against 13.8 CPU s for 3
    entries). As subreaper they come back here when orphaned, and a thread reaps every
    child that is not one of ours (MINE), so their CPU lands in RUSAGE_CHILDREN."""
    import ctypes

    if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise SystemExit("bench.batch needs Linux (PR_SET_CHILD_SUBREAPER)")

    def reap() -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = None
            if info is not None and info.si_pid not in MINE:
                os.waitpid(info.si_pid, 0)
            else:
                time.sleep(0.05)

    threading.Thread(target=reap, name="reaper", daemon=True).start()


def children_cpu() -> float:
    """CPU s of this process's reaped descendants (each counted once its parent waited)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass
class Batch:
    """One `onboard batch` measured: its JSON and figures."""

    wall: float
    peak_rss_kb: int
    peak_pss_kb: int
    cpu_tree: float  # the batch process and every descendant (rusage, once reaped)
    cpu_own: float  # the batch process and what it waited for (in a pool: the orchestrator)
    cpu_machine: float  # the whole machine, minus this process (the replica)
    out: dict[str, Any]


def run(
    home: Path,
    roster: Path,
    concurrency: int,
    env: dict[str, str],
    *extra: str,
    during: Callable[[subprocess.Popen[str]], None] | None = None,
) -> Batch:
    """One `onboard batch`, sampled every 0.5 s for memory; `during(proc)` runs beside it."""
    cmd = [sys.executable, "-m", "agent", "batch", str(roster), "--concurrency", str(concurrency),
           "--headless", "--pace", "0", "--auto-submit", "--no-verify", "--json", *extra]  # fmt: skip
    if os.environ.get("BENCH_WRAP"):  # profiling: a wrapper given the module and its arguments
        cmd = [sys.executable, os.environ["BENCH_WRAP"], *cmd[2:]]
    t0, cpu0, tree0 = time.perf_counter(), cpu_seconds(), children_cpu()
    err = open(home / f"{roster.stem}.stderr", "w")  # noqa: SIM115  (read back on failure)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
    MINE.add(proc.pid)
    peak = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        while not done.wait(0.5):
            peak = max(peak, tree_rss_kb(proc.pid))
            peak_pss = max(peak_pss, tree_rss_kb(proc.pid, "Pss:", "smaps_rollup"))

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    if during is not None:
        threading.Thread(target=during, args=(proc,), daemon=True).start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    # wait4: the batch process's own rusage (it and the children it waited for: its drivers
    # and the browsers they waited for), without the orphans this process reaps
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    own = usage.ru_utime + usage.ru_stime
    wall = time.perf_counter() - t0
    time.sleep(1.5)  # its orphaned helpers end with their pipes: reaped by adopt_orphans
    (busy0, own0), (busy1, own1) = cpu0, cpu_seconds()
    tree = children_cpu() - tree0
    done.set()
    t.join()
    err.close()
    if proc.returncode != 0:
        tail = Path(err.name).read_text().strip().splitlines()[-5:]
        print(f"  {roster.name} exit {proc.returncode}:", *tail, sep="\n    ")
    result = json.loads(out) if out.strip() else {"exit_code": proc.returncode}
    return Batch(wall, peak, peak_pss, tree, own, (busy1 - busy0) - (own1 - own0), result)


def sealed_roster(
    path: Path, base_url: str, n: int, tag: str, login: str = "login_state", **extra: Any
) -> Path:
    """`n` entries over the four sealed logins (`login="profile"`: over the four profiles
    themselves, as every entry was run before the warm batch), keys spread over the
    accounts."""
    entries = []
    for i in range(n):
        e = {"id": f"{tag}-{i:02d}", "label": f"b-{tag}-{i:02d}", "ips": ["203.0.113.7"],
             login: f"p{i % PROFILES}", "totp_secret_env": "BENCH_TOTP"}  # fmt: skip
        account = EVERY_ACCOUNT[next(SPREAD) % len(EVERY_ACCOUNT)]
        if account:
            e["sub_account"] = account
        entries.append(e)
    defaults = {"base_url": base_url, "allow_private_ip": True}  # documentation IPs
    path.write_text(yaml.safe_dump({**extra, "defaults": defaults, "entries": entries}))
    return path


@contextmanager
def sealed_replica(home: Path) -> Iterator[tuple[ReplicaServer, dict[str, str]]]:
    """The replica (the client with ten sub-accounts), {PROFILES} profiles logged in and
    each login sealed (`onboard login-state save`), and the environment a batch runs in.
    Orphans are adopted from then on, so every batch's CPU is all counted."""
    seed = yaml.safe_load(SEED.read_text())
    seed["accounts"][0]["subaccounts"] = SUBS  # the client: ten sub-accounts
    (home / "seed.yaml").write_text(yaml.safe_dump(seed))
    # account-selectable: the one-submission comparison needs a form that lets each draft
    # choose its account; a single-account entry is the same with it or without it.
    with ReplicaServer(
        scenarios=["totp-only", "account-selectable"], seed=home / "seed.yaml"
    ) as srv:
        acct = srv.world.accounts["client@replica.test"]
        env = {**os.environ, "ONBOARD_HOME": str(home), "BENCH_TOTP": acct.totp_secret or ""}
        env.pop("DISPLAY", None)
        env.pop(COLD_ENV, None)
        for i in range(PROFILES):
            d = home / "profiles" / f"p{i}"
            d.mkdir(parents=True)
            login_into_profile(d, srv.base_url, acct.email, acct.password, acct.totp_secret or "")
            subprocess.run([sys.executable, "-m", "agent", "login-state", "save", f"p{i}"],
                           env=env, check=True, capture_output=True)  # fmt: skip
        adopt_orphans()
        yield srv, env


def cpu_target(concurrencies: list[int], med: dict[tuple[int, str], dict[str, float]]) -> list[str]:
    """The CPU per account target, printed per concurrency; what missed it. Read against
    BASELINE where it ran (the ratio of the same rounds against the issue's ratio of 2.0 s to
    what it measured on that code), else as the absolute 2.0 s."""
    missed = []
    print("CPU per account, warm:")
    for n in concurrencies:
        w, wb = med[(n, "W")], med.get((n, "W/B"))
        if wb is None or n not in BASELINE_CPU:
            print(f"  concurrency {n}: CPU per account {w['cpu']:.2f} s (target <= {TARGET_CPU} s)")
            if w["cpu"] > TARGET_CPU:
                missed.append(f"CPU per account at concurrency {n}")
            continue
        line = TARGET_CPU / BASELINE_CPU[n]
        b = med[(n, "B")]
        print(f"  concurrency {n}: CPU per account {w['cpu']:.2f} s against {b['cpu']:.2f} s for "
              f"the code at {BASELINE}: {wb['cpu']:.2f}x (target <= {line:.2f}x: the issue's "
              f"{TARGET_CPU} s against its {BASELINE_CPU[n]} s on that code; this machine now: "
              f"{w['cpu']:.2f} s)")  # fmt: skip
        if wb["cpu"] > line:
            missed.append(f"CPU per account at concurrency {n}")
    return missed


def code_of(tree: Path | str) -> dict[str, str]:
    """The environment that runs `python -m agent` from `tree`'s code. PYTHONSAFEPATH:
    `python -m` would put the working directory first on sys.path, and from a checkout
    every tree would run its code."""
    return {"PYTHONPATH": str(tree), "PYTHONSAFEPATH": "1"}


def baseline(home: Path, env: dict[str, str]) -> dict[str, str] | None:
    """The environment that runs BASELINE's code (exported from this clone's history) in a
    home of its own whose profiles are the bench's; None, said, where it cannot be had."""
    src, own = home / "baseline-src", home / "baseline-home"
    repo = Path(__file__).resolve().parents[1]
    src.mkdir()
    try:
        tar = subprocess.run(["git", "-C", str(repo), "archive", BASELINE],
                             capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(src)], input=tar, check=True)
    except (OSError, subprocess.CalledProcessError):
        print(f"no baseline: this tree has no git history holding {BASELINE}")
        return None
    own.mkdir()
    (own / "profiles").symlink_to(home / "profiles")
    return {**env, "ONBOARD_HOME": str(own), **code_of(src)}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--entries", type=int, default=24)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--pairs", type=int, default=3, help="rounds (W C B) per concurrency")
    ap.add_argument("--no-drafts", action="store_true", help="skip 1 submission vs 10 runs")
    ap.add_argument("--no-pool", action="store_true", help="skip the browser-server pool")
    ap.add_argument(
        "--no-baseline", action="store_true", help=f"skip the issue's code ({BASELINE})"
    )
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="onboard-bench-batch-"))
    atexit.register(shutil.rmtree, home, True)  # whichever way the bench ends
    with sealed_replica(home) as (srv, env):
        base = None if a.no_baseline else baseline(home, env)
        legs = {"W": env, "C": {**env, COLD_ENV: "1"}, **({"B": base} if base else {})}
        print(
            f"{a.entries} entries per batch over {PROFILES} sealed logins, replica "
            f"{srv.base_url}; warm (W) and cold (C)"
            + (f" and the code at {BASELINE} (B, on the profiles)" if base else "")
            + f" alternated, {a.pairs} round(s) each"
        )
        print(f"{'conc':>4} {'how':>4} {'wall s':>7} {'CPU s tree':>10} {'CPU s machine':>13} "
              f"{'CPU/acct':>8} {'peak PSS MB':>11} {'peak RSS MB':>11}  result")  # fmt: skip
        failed, missed = False, []
        med: dict[tuple[int, str], dict[str, float]] = {}
        k = 0
        for n in a.concurrency:
            runs: dict[str, list[Batch]] = {how: [] for how in legs}
            for _pair in range(a.pairs):
                for how, leg in legs.items():
                    k += 1
                    login = "profile" if how == "B" else "login_state"
                    path = home / f"r{k}.yaml"
                    roster = sealed_roster(path, srv.base_url, a.entries, f"{k}", login)
                    b = run(home, roster, n, leg)
                    runs[how].append(b)
                    failed |= b.out.get("exit_code") != 0
                    counts = b.out.get("counts") or {"exit": b.out.get("exit_code")}
                    print(f"{n:>4} {how:>4} {b.wall:>7.1f} {b.cpu_tree:>10.1f} "
                          f"{b.cpu_machine:>13.1f} {b.cpu_tree / a.entries:>8.2f} "
                          f"{b.peak_pss_kb / 1024:>11.0f} {b.peak_rss_kb / 1024:>11.0f}  "
                          f"{', '.join(f'{c} {v}' for c, v in counts.items())}")  # fmt: skip
            for how, bs in runs.items() if a.pairs else []:
                med[(n, how)] = {
                    "wall": median(b.wall for b in bs),
                    "cpu": median(b.cpu_tree / a.entries for b in bs),
                    "pss": median(b.peak_pss_kb / 1024 for b in bs),
                }
            if base and a.pairs:  # each round's own ratio, then their median
                pairs = zip(runs["W"], runs["B"], strict=True)
                med[(n, "W/B")] = {"cpu": median(w.cpu_tree / b.cpu_tree for w, b in pairs)}
        print("\nmedians, warm / cold (ratios of the same run):")
        for n in a.concurrency if a.pairs else []:
            w, c = med[(n, "W")], med[(n, "C")]
            print(f"  concurrency {n}: CPU per account {w['cpu']:.2f} s vs {c['cpu']:.2f} s "
                  f"({w['cpu'] / c['cpu']:.2f}x), wall {w['wall']:.1f} vs "
                  f"{c['wall']:.1f} s ({w['wall'] / c['wall']:.2f}x), peak PSS {w['pss']:.0f} vs "
                  f"{c['pss']:.0f} MB ({w['pss'] / c['pss']:.2f}x)")  # fmt: skip
        missed += cpu_target(a.concurrency if a.pairs else [], med)
        if 4 in a.concurrency and a.pairs:
            pss4 = med[(4, "W")]["pss"]
            print(f"  summed PSS at concurrency 4: {pss4:.0f} MB (target < 800 MB)")
            if pss4 >= 800:
                missed.append("PSS at concurrency 4")
        if not a.no_pool:
            from bench.batch_pool import pool_bench

            pool_failed, pool_missed = pool_bench(home, srv.base_url, env, a.entries)
            failed |= pool_failed
            missed += pool_missed
        if not a.no_drafts:
            failed |= drafts_vs_runs(home, srv.base_url, env)
    print("targets met" if not missed and not failed else "TARGET MISSED: " + ", ".join(
        missed + (["failed entries"] if failed else [])))  # fmt: skip
    return 1 if failed or missed else 0


def drafts_vs_runs(home: Path, base_url: str, env: dict[str, str]) -> bool:
    """10 sub-account keys: one submission (Add another x9, one verification) vs 10 runs,
    where the create form lets each draft choose its account (the replica's
    `account-selectable`; where the form fixes the account the agent submits one per
    account, as the 10 runs do). The replica serves that from the start (see main)."""
    common = {"ips": ["203.0.113.7"], "profile": "p0", "totp_secret_env": "BENCH_TOTP"}
    one = [{"id": "ten-at-once", "label": "bench-drafts", "sub_accounts": SUBS, **common}]
    each = [{"id": f"one-{i}", "label": "bench-runs", "sub_account": s, **common}
            for i, s in enumerate(SUBS, 1)]  # fmt: skip
    print(f"\n10 sub-account keys, concurrency 1: {'how':>22} {'wall s':>8} {'keys':>5}  result")
    failed = False
    walls = {}
    for how, entries in (("one submission", one), ("10 separate runs", each)):
        roster = home / f"roster-{how.replace(' ', '-')}.yaml"
        defaults = {"base_url": base_url, "allow_private_ip": True}  # documentation IPs
        roster.write_text(yaml.safe_dump({"defaults": defaults, "entries": entries}))
        b = run(home, roster, 1, env)
        wall, out = b.wall, b.out
        keys = sum(len(e["result"].get("vault_ids") or []) for e in out.get("entries", []))
        failed |= out.get("exit_code") != 0 or keys != 10
        walls[how] = wall
        print(f"{'':>35} {how:>22} {wall:>8.1f} {keys:>5}  exit {out.get('exit_code')}")
    print(f"{'':>35} one submission is {walls['10 separate runs'] / walls['one submission']:.1f}x "
          "faster, and the human verifies once instead of 10 times")  # fmt: skip
    return failed


if __name__ == "__main__":
    sys.exit(main())
