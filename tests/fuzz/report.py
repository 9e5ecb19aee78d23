"""The fuzz's table and JSON: mutation kind x outcome, rates, targets, what to rerun.

A seed's outcome is the worst of its runs (main account, and for some seeds a sub-account
or several drafts); the kind table counts seeds carrying each kind. Targets are printed as
met or MISSED; a missed one is a finding, never a reason to change the fuzz.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict
from typing import Any

from replica.mutations import KINDS
from tests.fuzz.judge import OK, RANK, SAFE, UNSAFE
from tests.fuzz.runs import RunRecord

OUTCOMES = [OK, SAFE, UNSAFE]


def seeds_outcome(runs: list[RunRecord]) -> dict[int, str]:
    worst: dict[int, str] = {}
    for r in runs:
        if r.seed not in worst or RANK[r.outcome] > RANK[worst[r.seed]]:
            worst[r.seed] = r.outcome
    return worst


def summary(runs: list[RunRecord], mode: str, seconds: float) -> dict[str, Any]:
    seeds = seeds_outcome(runs)
    n = max(1, len(seeds))
    counts = Counter(seeds.values())
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    kinds_of = {r.seed: r.kinds for r in runs}
    for seed, outcome in seeds.items():
        for k in kinds_of[seed]:
            by_kind[k][outcome] += 1
    by_case: dict[str, Counter[str]] = defaultdict(Counter)
    for r in runs:
        by_case[r.case][r.outcome] += 1
    handovers = [r.handovers for r in runs]
    out: dict[str, Any] = {
        "mode": mode,
        "seeds": len(seeds),
        "runs": len(runs),
        "seconds": round(seconds, 1),
        "per_100_seeds_s": round(seconds / n * 100, 1),
        "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
        "rates": {o: round(counts.get(o, 0) / n, 4) for o in OUTCOMES},
        "by_kind": {k: {o: by_kind[k].get(o, 0) for o in OUTCOMES} for k in KINDS},
        "by_case": {c: {o: v.get(o, 0) for o in OUTCOMES} for c, v in sorted(by_case.items())},
        "handovers": {
            "median": statistics.median(handovers) if handovers else 0,
            "max": max(handovers, default=0),
            "runs_with_any": sum(1 for h in handovers if h),
            "total": sum(handovers),
        },
    }
    out["targets"] = targets(out)
    return out


def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    rate_ok, unsafe = s["rates"][OK], s["outcomes"][UNSAFE]
    rows = [{"target": "unsafe: 0", "value": unsafe, "met": unsafe == 0}]
    if s["mode"] == "unattended":
        rows.append(
            {"target": "ok >= 90% of seeds", "value": f"{rate_ok:.1%}", "met": rate_ok >= 0.9}
        )
        per100 = s["per_100_seeds_s"]
        rows.append(
            {"target": "100 seeds < 15 min", "value": f"{per100 / 60:.1f} min", "met": per100 < 900}
        )
    else:
        med = s["handovers"]["median"]
        rows.append(
            {"target": "ok >= 99% of seeds", "value": f"{rate_ok:.1%}", "met": rate_ok >= 0.99}
        )
        rows.append({"target": "median handovers 0", "value": med, "met": med == 0})
    return rows


def table(runs: list[RunRecord], s: dict[str, Any], repro_base: str = "") -> str:
    """The text report: kinds x outcomes, cases, rates, targets, each non-ok run to rerun."""
    lines = [f"fuzz ({s['mode']}): {s['seeds']} seeds, {s['runs']} runs, {s['seconds']:.0f} s "
             f"({s['per_100_seeds_s'] / 60:.1f} min per 100 seeds)", ""]  # fmt: skip
    head = f"{'mutation kind':20} {'seeds':>5} {'ok':>5} {'safe stop':>9} {'unsafe':>6}"
    lines += [head, "-" * len(head)]
    for k, c in s["by_kind"].items():
        lines.append(f"{k:20} {sum(c.values()):5} {c[OK]:5} {c[SAFE]:9} {c[UNSAFE]:6}")
    o = s["outcomes"]
    lines += [
        "-" * len(head),
        f"{'all seeds':20} {s['seeds']:5} {o[OK]:5} {o[SAFE]:9} {o[UNSAFE]:6}",
        "",
    ]
    lines.append(f"{'case (runs)':20} {'runs':>5} {'ok':>5} {'safe stop':>9} {'unsafe':>6}")
    for c, v in s["by_case"].items():
        lines.append(f"{c:20} {sum(v.values()):5} {v[OK]:5} {v[SAFE]:9} {v[UNSAFE]:6}")
    r = s["rates"]
    lines += ["", f"rates (seeds): ok {r[OK]:.1%}, safe stop {r[SAFE]:.1%}, unsafe {r[UNSAFE]:.1%}"]
    h = s["handovers"]
    lines.append(f"handovers per run: median {h['median']}, max {h['max']}, "
                 f"runs with any {h['runs_with_any']}, total {h['total']}")  # fmt: skip
    lines += ["", "targets:"]
    for t in s["targets"]:
        lines.append(f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['value']}")
    bad = [x for x in runs if x.outcome != OK]
    if bad:
        lines += ["", "non-ok runs (reproduce: onboard replica --mutate SEED -s logged-in, then the "
                      "printed command; sub cases add --sub-account):"]  # fmt: skip
        for x in sorted(bad, key=lambda x: (-RANK[x.outcome], x.seed, x.case)):
            lines.append(f"  seed {x.seed} [{x.case}] {x.outcome.upper()} exit {x.exit_code} "
                         f"at {x.step or '?'} | kinds: {', '.join(x.kinds)}")  # fmt: skip
            for reason in x.reasons[:4]:
                lines.append(f"      {reason[:300]}")
            if x.handovers:
                lines.append(f"      handovers: {', '.join(x.drifted)}")
    return "\n".join(lines) + "\n"


def as_json(runs: list[RunRecord], s: dict[str, Any]) -> dict[str, Any]:
    bad = sorted({(r.seed, r.case) for r in runs if r.outcome != OK})
    return {"summary": s, "non_ok": [{"seed": a, "case": b} for a, b in bad],
            "runs": [asdict(r) for r in runs]}  # fmt: skip
