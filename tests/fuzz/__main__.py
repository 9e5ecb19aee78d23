"""`python -m tests.fuzz [--seeds N] [--guided]`: run the fuzz, print the table, write JSON.

Exit 1 on any unsafe outcome (a safe stop is not a failure: it is counted against the ok
rate and listed with its seed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from replica.server import ReplicaServer
from tests.fuzz.cases import BY_NAME, cases_for
from tests.fuzz.judge import OK, UNSAFE
from tests.fuzz.report import as_json, summary, table
from tests.fuzz.runs import RunRecord, run_guided, run_unattended


def seed_list(text: str) -> list[int]:
    """`1-200`, `3,17,42` or a mix."""
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--seeds", type=int, default=100, help="how many seeds: 1..N (default 100)")
    ap.add_argument("--seed-list", help="exactly these seeds, e.g. 3,17,40-45")
    ap.add_argument("--case", choices=sorted(BY_NAME), action="append",
                    help="only these cases (default: each seed's own)")  # fmt: skip
    ap.add_argument("--guided", action="store_true",
                    help="headed (run under xvfb-run), drift handover on, a scripted person")  # fmt: skip
    ap.add_argument("--json", type=Path, default=Path("build/fuzz/report.json"))
    ap.add_argument("--txt", type=Path, default=Path("build/fuzz/report.txt"))
    ap.add_argument("--keep", type=Path, default=Path("build/fuzz/runs"),
                    help="where each non-ok run's data directory is kept")  # fmt: skip
    ap.add_argument("--budget", type=float, default=0,
                    help="stop starting new seeds after this many seconds (0: no limit)")  # fmt: skip
    a = ap.parse_args(argv)
    if a.guided and not os.environ.get("DISPLAY"):
        print("error: --guided needs a display: run it under xvfb-run -a", file=sys.stderr)
        return 2
    seeds = seed_list(a.seed_list) if a.seed_list else list(range(1, a.seeds + 1))
    mode = "guided" if a.guided else "unattended"
    runs: list[RunRecord] = []
    t0 = time.monotonic()
    with ReplicaServer() as srv:
        for i, seed in enumerate(seeds, 1):
            if a.budget and time.monotonic() - t0 > a.budget:
                print(f"fuzz: time budget spent after {i - 1} seeds", file=sys.stderr)
                break
            cases = [BY_NAME[c] for c in a.case] if a.case else cases_for(seed)
            for case in cases:
                go = run_guided if a.guided else run_unattended
                rec = go(srv, seed, case, a.keep)
                if rec.outcome == OK:
                    shutil.rmtree(rec.kept, ignore_errors=True)
                    rec.kept = ""
                runs.append(rec)
                note = f" | {rec.reasons[0][:140]}" if rec.reasons else ""
                print(f"[{i}/{len(seeds)}] seed {seed} {case.name}: {rec.outcome} "
                      f"(exit {rec.exit_code}, {rec.seconds:.1f} s, handovers {rec.handovers}) "
                      f"kinds={','.join(rec.kinds)}{note}", file=sys.stderr, flush=True)  # fmt: skip
    s = summary(runs, mode, time.monotonic() - t0)
    text = table(runs, s)
    for path, data in ((a.json, json.dumps(as_json(runs, s), indent=2)), (a.txt, text)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
    print(text)
    print(f"written: {a.json} and {a.txt}")
    return 1 if s["outcomes"][UNSAFE] else 0


if __name__ == "__main__":
    sys.exit(main())
