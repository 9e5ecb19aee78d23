"""The locator contract on recorded fixtures: does the flow still find its elements on the
pages a fixture set recorded? Each step is checked on the stages it acts on (the manifest's
table), by its verb's own `contract` (agent.engine.verbs), offline: every request refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from agent.engine.context import Vars
from agent.engine.contract import Fail
from agent.engine.flow import Flow, Step
from agent.engine.locate import to_locator
from agent.engine.verbs import verb_for
from agent.record.recorder import MANIFEST, RecordError, step_stages
from agent.record.redaction import PLACEHOLDER_PASSPHRASE


@dataclass
class StepCheck:
    set: str
    stage: str
    step: str
    action: str
    ok: bool
    detail: str = ""
    tried: list[str] = field(default_factory=list)
    skipped: bool = False  # the step does not apply to this set (`when`, `if_visible`)

    @property
    def test_id(self) -> str:
        return f"{self.set}:{self.stage}:{self.step}"

    def message(self) -> str:
        head = (
            f"flow step {self.step!r} ({self.action}) on stage {self.stage!r} of fixture set "
            f"{self.set!r}: {self.detail}"
        )
        if self.tried:
            head += "; candidates tried: " + "; ".join(self.tried)
        return head


def load_manifest(set_dir: Path) -> dict[str, Any]:
    path = Path(set_dir) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
        raise RecordError(f"{path}: no 'stages' list (not a fixture manifest)")
    return data


def fixture_sets(root: Path) -> list[Path]:
    return sorted(p.parent for p in Path(root).glob(f"*/{MANIFEST}"))


def planned_checks(set_dir: Path, flow: Flow) -> list[tuple[str, str]]:
    """(step id, stage) pairs to check for a set: the manifest's table, else by position."""
    man = load_manifest(set_dir)
    stages = [s["name"] for s in man["stages"]]
    table = man.get("steps") or step_stages(flow, stages)
    out = []
    for step in flow.steps:
        for stage in table.get(step.id, []):
            if stage in stages:
                out.append((step.id, stage))
    return out


def load_stage(page: Page, set_dir: Path, stage: str) -> dict[str, Any]:
    """Open a recorded stage in `page`, offline (every request refused)."""
    man = load_manifest(set_dir)
    entry = next((s for s in man["stages"] if s["name"] == stage), None)
    if entry is None:
        raise RecordError(f"{set_dir.name}: no stage {stage!r} in the manifest")
    html = (Path(set_dir) / entry["file"]).read_text()
    vp = man.get("viewport") or {"width": 1920, "height": 1080}
    page.set_viewport_size({"width": int(vp["width"]), "height": int(vp["height"])})
    page.unroute("**/*")
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="domcontentloaded")
    return man


def check_step(page: Page, set_dir: Path, flow: Flow, step: Step, stage: str) -> StepCheck:
    """Load the stage and check the step's locators against it."""
    res = StepCheck(Path(set_dir).name, stage, step.id, step.action.rstrip("_"), True)
    try:
        man = load_stage(page, set_dir, stage)
        vars = Vars({k: v for k, v in (man.get("vars") or {}).items()})
        vars.setdefault("passphrase", PLACEHOLDER_PASSPHRASE)
        gate = getattr(step, "if_visible", None)
        if step.when and not vars.get(step.when):
            res.skipped, res.detail = (
                True,
                f"needs {{{step.when}}}, which this set was not recorded with",
            )
        elif gate is not None and not _gate_shows(page, gate, vars):
            res.skipped, res.detail = True, "its `if_visible` does not show on this set"
        else:
            res.detail = verb_for(step).contract(page, step, stage, vars)
    except Fail as f:
        res.ok, res.detail, res.tried = False, f.detail, f.tried
    except Exception as exc:  # an unusable locator or a broken snapshot: say so, by step
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        res.ok, res.detail = False, f"error: {first}"
    return res


def _gate_shows(page: Page, gate: Any, vars: Any) -> bool:
    cands = gate if isinstance(gate, list) else [gate]
    return any(to_locator(page, c, vars).filter(visible=True).count() for c in cands)


def check_sets(page: Page, sets: list[Path], flow: Flow) -> list[StepCheck]:
    by_id = {s.id: s for s in flow.steps}
    out = []
    for set_dir in sets:
        for step_id, stage in planned_checks(set_dir, flow):
            out.append(check_step(page, set_dir, flow, by_id[step_id], stage))
    return out
