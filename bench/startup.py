"""`make bench`: how soon the `onboard` command is ready, against a bare interpreter.

Alternated, whole processes, CPU (user + system, from getrusage of the children) per run:
`python -c pass` (the floor: an interpreter and nothing else), `python -m agent --version`
(the command line loaded and dispatched: every command starts this way, and its heavy
imports come later, inside the command), and `python -m agent --help` (help rendered; typer
draws it with rich, which is most of the difference). Printed: medians over rounds of each
and of the difference from the floor. Target (issue 17): ready under 150 ms, i.e.
`--version` at most 150 ms of CPU. Exit 1 if missed. On a loaded machine read the
difference from the floor, measured in the same rounds, rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

TARGET_READY_S = 0.150

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "onboard --version": [sys.executable, "-m", "agent", "--version"],
    "onboard --help": [sys.executable, "-m", "agent", "--help"],
}


def cpu_of(cmd: list[str], env: dict[str, str]) -> float:
    """CPU seconds of one whole process (it is waited for, so its usage is the children's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15, help="rounds of the three (default 15)")
    args = ap.parse_args()
    # Bytecode as an installed `onboard` has it (pip compiles at install), as bench/run.py
    # does: written by an uncounted first round under a temporary prefix, read by every
    # counted one. Without it, a PYTHONDONTWRITEBYTECODE environment has each start compile
    # the agent's modules from source again, a cost no installed command pays.
    cache = tempfile.mkdtemp(prefix="onboard-bench-startup-")
    atexit.register(shutil.rmtree, cache, True)
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for cmd in COMMANDS.values():
        cpu_of(cmd, env)
    runs: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.rounds):
        for name, cmd in COMMANDS.items():
            runs[name].append(cpu_of(cmd, env))
    floor = runs["python -c pass"]
    print(f"startup, CPU per process, medians of {args.rounds} alternated rounds:")
    for name, cpu in runs.items():
        over = statistics.median(c - f for c, f in zip(cpu, floor, strict=True))
        print(f"  {name:<20} {statistics.median(cpu) * 1000:6.0f} ms  (+{over * 1000:.0f} ms)")
    ready = statistics.median(runs["onboard --version"])
    ok = ready <= TARGET_READY_S
    print(f"ready (--version) {ready * 1000:.0f} ms: target {TARGET_READY_S * 1000:.0f} ms "
          f"{'met' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
