"""The verb table: every action a flow may use has exactly one verb module, found by name by
the runner and by the fixture checker alike; observers see each step through the hooks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.flow import ACTIONS
from agent.engine.runner import Options, Runner
from agent.engine.verbs import VERBS
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError
from tests.agent.test_handover import BASE, Said, flow, serve


def test_every_action_has_one_verb_with_an_action_and_a_contract() -> None:
    assert sorted(VERBS) == sorted(ACTIONS)
    for name, verb in VERBS.items():
        assert verb.name == name and callable(verb.act) and callable(verb.contract)


def test_a_verb_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(Verb("click", VERBS["click"].act, VERBS["click"].contract))


NAME = {"id": "name", "caption": "Name",
        "fill": {"target": [{"field": "Name"}, {"placeholder": "Name"}], "value": "{label}"}}  # fmt: skip
MISSING = {"id": "missing", "caption": "Missing",
           "fill": {"target": [{"field": "Nowhere"}, {"placeholder": "Nowhere"}], "value": "x"}}  # fmt: skip


def test_observers_see_each_step_before_and_after_it_succeeded(page: Page) -> None:
    serve(page, "<label>Name <input placeholder=Name></label>")
    runner = Runner(
        page, flow([NAME, MISSING]), Vars(label="k1"), BASE, [BASE],
        Options(pace=0, step_timeout=1, drift_to_human=False), Said(), lambda *a: None,
    )  # fmt: skip
    seen: list[Any] = []
    runner.hooks.before_step.append(lambda s: seen.append(("before", s.id)))
    runner.hooks.after_step.append(lambda s: seen.append(("after", s.id)))
    with pytest.raises(AgentError):
        runner.run()
    assert seen == [("before", "name"), ("after", "name"), ("before", "missing")]
    assert page.locator("input").input_value() == "k1"
