"""The fuzz's fixed sample in `make test`: ten seeds of page mutations, unattended.

The real `onboard run` command on each seed's cases (main account; a sub-account and two
drafts on some), one replica for all, judged by the replica's records and the vault
(tests/fuzz). It fails on any unsafe outcome; a safe stop (the agent stopped, named the
step, and nothing wrong exists on the exchange) is reported, not failed: it is what the
full `make fuzz` counts against its ok rate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from replica.server import ReplicaServer
from tests.fuzz.cases import cases_for
from tests.fuzz.judge import UNSAFE
from tests.fuzz.runs import run_unattended

SAMPLE = [1, 3, 6, 8, 12, 17, 23, 31, 42, 57]  # a fixed mix: sub-account and multi-draft cases


@pytest.mark.timeout(900)
def test_no_unsafe_outcome_on_the_fixed_sample(
    replica_server: ReplicaServer, tmp_path: Path
) -> None:
    runs = [
        run_unattended(replica_server, seed, case, tmp_path)
        for seed in SAMPLE
        for case in cases_for(seed)
    ]
    unsafe = [r for r in runs if r.outcome == UNSAFE]
    summary = "; ".join(f"seed {r.seed} {r.case}: {r.outcome} (exit {r.exit_code})" for r in runs)
    print(f"fuzz sample: {summary}")
    assert not unsafe, "\n".join(
        f"seed {r.seed} [{r.case}] kinds {r.kinds}: {r.reasons}" for r in unsafe
    )
