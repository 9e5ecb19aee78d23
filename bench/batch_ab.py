"""Warm batch A/B: two code trees (or two environments) alternated on one replica, and where
the batch's memory and CPU go by process type.

Why: `bench.batch` measures warm against cold in one tree; a change to the warm slots has to
be measured against the code before it. This runs the same `onboard batch` (24 entries over
sealed logins, as bench.batch does) from tree A and tree B in turn, A B A B, whole
processes, and prints medians and ratios. With --profile it also samples the batch's
process tree (every 0.2 s: /proc/PID/stat, every 0.5 s: smaps_rollup) and splits the
CPU and the PSS at its peak by process type (python, node driver, browser, renderer, ...).

    python -m bench.batch_ab --a /work/main --b . --concurrency 4 --pairs 3 --profile
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from pathlib import Path
from statistics import median

from bench.batch import Batch, code_of, run, sealed_replica, sealed_roster

TICK = os.sysconf("SC_CLK_TCK")


def kind(pid: int) -> str:
    """The process type, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    words = [w.decode(errors="replace") for w in argv if w]
    if len(words) == 1:  # Chromium's helpers rewrite their title: one space-joined string
        words = words[0].split(" ")
    if not words:
        return "gone"
    exe, args = words[0], words[1:]
    if "python" in Path(exe).name:
        return "python"
    if Path(exe).name == "node":
        return "node driver"
    typ = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), None)
    if "chrom" in exe:
        if typ is None:
            return "browser"
        if typ == "utility":
            sub = next(
                (a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), ""
            )
            return f"utility {sub.split('.')[0]}"
        return {"gpu-process": "gpu"}.get(typ, typ)
    return Path(exe).name


def alive(pid: int) -> bool:
    """Running (not a zombie): without reaping it, which is bench.batch.run's wait4 to do."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far; OSError once it is gone."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


class Profile:
    """CPU (last seen utime+stime, per pid) and PSS (per type at the tree's PSS peak)."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.count: dict[str, set[int]] = defaultdict(set)
        self.peak_pss: dict[str, int] = {}
        self.peak_rss: dict[str, int] = {}

    def sample(self, proc: subprocess.Popen[str]) -> None:
        n = 0
        while alive(proc.pid):
            n += 1
            pss: dict[str, int] = defaultdict(int)
            rss: dict[str, int] = defaultdict(int)
            # Chromium's zygotes are reparented to this process (subreaper): theirs too.
            pids = tree(proc.pid) + [
                p for p in tree(os.getpid()) if p != os.getpid() and p not in self.kinds
                and p != proc.pid and kind(p) not in ("python",)
            ]  # fmt: skip
            for p in set(pids):
                k = self.kinds.get(p) or kind(p)
                if k == "gone":
                    continue
                self.kinds[p] = k
                self.count[k].add(p)
                try:
                    self.cpu[p] = cpu_of(p)
                    if n % 3 == 0:
                        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                            if line.startswith("Pss:"):
                                pss[k] += int(line.split()[1])
                            elif line.startswith("Rss:"):
                                rss[k] += int(line.split()[1])
                except (OSError, IndexError, ValueError):
                    continue
            if sum(pss.values()) > sum(self.peak_pss.values()):
                self.peak_pss, self.peak_rss = dict(pss), dict(rss)
            threading.Event().wait(0.2)

    def table(self, entries: int) -> list[str]:
        cpu: dict[str, float] = defaultdict(float)
        for p, c in self.cpu.items():
            cpu[self.kinds[p]] += c
        rows = [f"{'process type':<22} {'procs':>5} {'CPU s':>7} {'CPU/acct':>8} "
                f"{'PSS MB at peak':>14} {'RSS MB':>7}"]  # fmt: skip
        for k in sorted(cpu, key=lambda k: -cpu[k]):
            rows.append(f"{k:<22} {len(self.count[k]):>5} {cpu[k]:>7.1f} {cpu[k] / entries:>8.2f} "
                        f"{self.peak_pss.get(k, 0) / 1024:>14.0f} "
                        f"{self.peak_rss.get(k, 0) / 1024:>7.0f}")  # fmt: skip
        rows.append(f"{'total (sampled)':<22} {sum(len(v) for v in self.count.values()):>5} "
                    f"{sum(cpu.values()):>7.1f} {sum(cpu.values()) / entries:>8.2f} "
                    f"{sum(self.peak_pss.values()) / 1024:>14.0f} "
                    f"{sum(self.peak_rss.values()) / 1024:>7.0f}")  # fmt: skip
        return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--a", required=True, help="tree A (PYTHONPATH), e.g. a checkout of main")
    ap.add_argument("--b", default=".", help="tree B (PYTHONPATH)")
    ap.add_argument("--env-a", action="append", default=[], help="NAME=VALUE for A's runs")
    ap.add_argument("--env-b", action="append", default=[], help="NAME=VALUE for B's runs")
    ap.add_argument(
        "--also",
        action="append",
        default=[],
        help="another variant, tree B with NAME=VALUE[;NAME=VALUE] (C, D, ...)",
    )
    ap.add_argument(
        "--a-profiles",
        action="store_true",
        help="A's entries name the client profiles (`profile:`), not sealed logins: for "
        "code from before the warm batch, which runs every entry in its own browser",
    )
    ap.add_argument("--entries", type=int, default=24)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[4])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="per process type breakdown")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="onboard-bench-ab-"))
    atexit.register(shutil.rmtree, home, True)  # whichever way the bench ends
    trees = {"A": str(Path(a.a).resolve()), "B": str(Path(a.b).resolve())}
    extra = {"A": dict(kv.split("=", 1) for kv in a.env_a),
             "B": dict(kv.split("=", 1) for kv in a.env_b)}  # fmt: skip
    for name, more in zip("CDEFGH", a.also, strict=False):
        trees[name] = trees["B"]
        extra[name] = dict(kv.split("=", 1) for kv in more.split(";"))
    with sealed_replica(home) as (srv, env):
        print("\n".join(f"{v} = {trees[v]} {extra[v]}" for v in trees))
        k = 0
        for n in a.concurrency:
            res: dict[str, list[Batch]] = {v: [] for v in trees}
            profs: dict[str, list[Profile]] = {v: [] for v in trees}
            for _ in range(a.pairs):
                for ab in trees:
                    k += 1
                    login = "profile" if ab == "A" and a.a_profiles else "login_state"
                    roster = sealed_roster(
                        home / f"r{k}.yaml", srv.base_url, a.entries, f"{k}", login
                    )
                    prof = Profile()
                    b = run(home, roster, n, {**env, **extra[ab], **code_of(trees[ab])},
                            during=prof.sample if a.profile else None)  # fmt: skip
                    res[ab].append(b)
                    profs[ab].append(prof)
                    counts = b.out.get("counts") or {"exit": b.out.get("exit_code")}
                    print(f"c{n} {ab} wall {b.wall:6.1f} s  CPU/acct {b.cpu_tree / a.entries:5.2f}"
                          f"  peak PSS {b.peak_pss_kb / 1024:5.0f} MB  machine "
                          f"{b.cpu_machine:6.1f} s  {counts}", flush=True)  # fmt: skip
            for v, bs in res.items():
                print(f"c{n} {v} medians: CPU/acct {median(b.cpu_tree / a.entries for b in bs):.2f}"
                      f" PSS {median(b.peak_pss_kb / 1024 for b in bs):.0f} MB wall "
                      f"{median(b.wall for b in bs):.1f} s")  # fmt: skip
                if v == "A":
                    continue
                cpu = [y.cpu_tree / x.cpu_tree for x, y in zip(res["A"], bs, strict=True)]
                pss = [y.peak_pss_kb / x.peak_pss_kb for x, y in zip(res["A"], bs, strict=True)]
                print(f"c{n} {v}/A per round: CPU {' '.join(f'{r:.2f}' for r in cpu)} (median "
                      f"{median(cpu):.2f}); PSS {' '.join(f'{r:.2f}' for r in pss)} (median "
                      f"{median(pss):.2f})", flush=True)  # fmt: skip
            if a.profile:
                for ab in trees:
                    print(f"\nc{n} {ab}, last run, by process type ({a.entries} entries):")
                    print("\n".join(profs[ab][-1].table(a.entries)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
