"""Recorded fixtures: what the exchange's pages looked like at each stage of a flow, one
module per job: `snapshot` (the page serialized in the page), `redaction` (nothing secret
on disk), `recorder` (stages in memory, written redacted with a manifest), `observe`
(recording while the engine runs, through its hooks) and `contract` (do the flow's
locators still fit the recorded pages). The names below are the package's whole face."""

from agent.record.contract import (
    StepCheck,
    check_sets,
    check_step,
    fixture_sets,
    load_manifest,
    load_stage,
    planned_checks,
)
from agent.record.observe import drive, observe
from agent.record.recorder import (
    MANIFEST,
    STAGE_HELP,
    STAGES,
    Recorder,
    RecordError,
    Snapshot,
    default_stages,
    manual_record,
    step_stages,
)
from agent.record.redaction import (
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_HEX32,
    PLACEHOLDER_PASSPHRASE,
    PLACEHOLDER_TEXT,
    PLACEHOLDER_UUID,
    leaks,
    redact_html,
    redact_text,
)

__all__ = [
    "MANIFEST",
    "PLACEHOLDER_EMAIL",
    "PLACEHOLDER_HEX32",
    "PLACEHOLDER_PASSPHRASE",
    "PLACEHOLDER_TEXT",
    "PLACEHOLDER_UUID",
    "STAGES",
    "STAGE_HELP",
    "RecordError",
    "Recorder",
    "Snapshot",
    "StepCheck",
    "check_sets",
    "check_step",
    "default_stages",
    "drive",
    "fixture_sets",
    "leaks",
    "load_manifest",
    "load_stage",
    "manual_record",
    "observe",
    "planned_checks",
    "redact_html",
    "redact_text",
    "step_stages",
]
