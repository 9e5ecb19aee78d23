"""What a verb is, and the one table the engine finds verbs in by name.

A verb carries its action (what it does on the live page, recording what the pre-submit
audit must read back through `agent.engine.audit.expect`) and its contract check (does the flow still
find what it acts on, on a recorded fixture page: `agent.engine.contract`). The runner
(`Runner.perform`) and the fixture checker both dispatch through `verb_for`, nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

from agent.engine.context import Context, Vars
from agent.engine.flow import Step

# act(ctx, step, the step's own part, e.g. its `click:`)
Act = Callable[[Context, Step, Any], None]
# contract(page showing a recorded stage, step, stage name, the set's vars) -> what was found;
# raises agent.engine.contract.Fail when the flow no longer fits the page
Contract = Callable[[Page, Step, str, Vars], str]


@dataclass(frozen=True)
class Verb:
    name: str  # the step's key in a flow file (`assert_` for `assert:`)
    act: Act
    contract: Contract


VERBS: dict[str, Verb] = {}


def register(verb: Verb) -> Verb:
    if verb.name in VERBS:
        raise ValueError(f"verb {verb.name!r} is registered twice")
    VERBS[verb.name] = verb
    return verb


def verb_for(step: Step) -> Verb:
    return VERBS[step.action]
