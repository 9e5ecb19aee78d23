"""Running the agent on one mutated seed: unattended (the real CLI) or guided.

Unattended is `onboard run` exactly as `onboard replica --mutate SEED` prints it
(replica/repro.py), in a fresh data directory. Guided is tests/fuzz/guided.py (the CLI has
no stand-in). Each runs in its own process group, so a run that never ends is stopped, its
browser with it, and judged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from replica.repro import TOTP_ENV, run_args
from replica.server import ReplicaServer
from tests.fuzz.cases import Case
from tests.fuzz.judge import Verdict, failed_step, gather, judge

# Seconds: a run still going then is killed (its browser too) and judged unsafe. A normal
# unattended run takes 2-15 s; the longest safe stop waits out a few 5 s human timeouts.
RUN_LIMIT = 90.0
GUIDED_LIMIT = 180.0
CLIENT = "client@replica.test"


@dataclass
class RunRecord:
    seed: int
    case: str
    mode: str
    kinds: list[str]
    mutations: list[str]
    outcome: str
    reasons: list[str]
    exit_code: int | None
    step: str
    handovers: int
    drifted: list[str]
    seconds: float
    asked: list[str] = field(default_factory=list)  # guided: what the person was asked
    decoy_clicks: list[str] = field(default_factory=list)
    kept: str = ""  # the run's data directory, kept when not ok


def reset(srv: ReplicaServer, seed: int, case: Case) -> dict[str, Any]:
    """The one replica, back to its seed with this seed's mutations, for one case."""
    r = httpx.post(
        f"{srv.base_url}/replica/reset",
        json={"scenarios": ["logged-in", *case.scenarios], "mutate": str(seed)},
        timeout=10,
    )
    r.raise_for_status()
    return dict(r.json()["mutations"])


def _home(keep_dir: Path, seed: int, case: Case, mode: str) -> Path:
    keep_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{mode}-{seed}-{case.name}-", dir=keep_dir))


def run_unattended(srv: ReplicaServer, seed: int, case: Case, keep_dir: Path) -> RunRecord:
    muts = reset(srv, seed, case)
    home = _home(keep_dir, seed, case, "unattended")
    totp = srv.world.accounts[CLIENT].totp_secret or ""
    env = {**os.environ, "ONBOARD_HOME": str(home), TOTP_ENV: totp, "COLUMNS": "160"}
    env.pop("DISPLAY", None)
    cmd = [sys.executable, "-m", "agent", *run_args(srv.base_url, case.accounts)]
    code, out, err, seconds = _run(cmd, env, RUN_LIMIT)
    try:
        result = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        result = None
    (home / "stderr.txt").write_text(err)
    (home / "stdout.json").write_text(out)
    ev = gather(srv.base_url, home)
    v = judge(ev, case.expected, srv.base_url, code, result, failed_step(err))
    return _record(seed, case, "unattended", muts, v, code, seconds, ev.decoy_clicks, home)


def run_guided(
    srv: ReplicaServer, seed: int, case: Case, keep_dir: Path, human_timeout: float = 30
) -> RunRecord:
    muts = reset(srv, seed, case)
    home = _home(keep_dir, seed, case, "guided")
    out = home / "guided.json"
    totp = srv.world.accounts[CLIENT].totp_secret or ""
    cmd = [sys.executable, "-m", "tests.fuzz.guided", "--base", srv.base_url, "--home", str(home),
           "--case", case.name, "--out", str(out), "--human-timeout", f"{human_timeout:g}"]  # fmt: skip
    code, _, err, seconds = _run(cmd, {**os.environ, TOTP_ENV: totp}, GUIDED_LIMIT)
    (home / "stderr.txt").write_text(err)
    got = json.loads(out.read_text()) if out.exists() else {}
    if code is not None and not got:  # the child died without a word: judged as such
        got = {"result": None, "exit_code": code or 1, "step": ""}
    ev = gather(srv.base_url, home)
    code = got.get("exit_code") if code is not None else None
    v = judge(ev, case.expected, srv.base_url, code, got.get("result"), str(got.get("step", "")))
    rec = _record(seed, case, "guided", muts, v, code, seconds, ev.decoy_clicks, home)
    rec.asked = list(got.get("asked") or [])
    return rec


def _run(cmd: list[str], env: dict[str, str], limit: float) -> tuple[int | None, str, str, float]:
    """Run a command in its own process group; past `limit`, kill the group (its browser
    too) and return code None."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=limit)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    return code, out, err, time.monotonic() - t0


def _record(
    seed: int, case: Case, mode: str, muts: dict[str, Any], v: Verdict, code: int | None,
    seconds: float, decoy_clicks: list[str], home: Path,
) -> RunRecord:  # fmt: skip
    return RunRecord(
        seed=seed, case=case.name, mode=mode, kinds=list(muts["kinds"]),
        mutations=[m["text"] for m in muts["mutations"]], outcome=v.outcome, reasons=v.reasons,
        exit_code=code, step=v.step, handovers=v.handovers, drifted=v.drifted,
        seconds=round(seconds, 2), decoy_clicks=decoy_clicks, kept=str(home),
    )  # fmt: skip
