"""Locator contract: every flow step still finds its elements on every recorded fixture set.

One test per (set, stage, step). A failure names the step, the stage, the set and every
candidate tried with its match count; fix the flow's locators (flows/okx.yaml) and rerun.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from agent.engine.flow import load_named
from agent.record import check_step, fixture_sets, planned_checks

ROOT = Path(__file__).resolve().parents[2]
SETS = fixture_sets(ROOT / "fixtures" / "okx")
FLOW = load_named("okx")
STEPS = {s.id: s for s in FLOW.steps}
CASES = [
    pytest.param(set_dir, step_id, stage, id=f"{set_dir.name}:{stage}:{step_id}")
    for set_dir in SETS
    for step_id, stage in planned_checks(set_dir, FLOW)
]


def test_there_is_a_fixture_set() -> None:
    assert SETS, "no fixture set under fixtures/okx (run: python -m tests.contract.replica_set)"


@pytest.mark.parametrize(("set_dir", "step_id", "stage"), CASES)
def test_step_resolves(page: Page, set_dir: Path, step_id: str, stage: str) -> None:
    res = check_step(page, set_dir, FLOW, STEPS[step_id], stage)
    if res.skipped:
        pytest.skip(res.detail)
    assert res.ok, res.message()
