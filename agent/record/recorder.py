"""Recorded fixtures: what the exchange's pages looked like at each stage of a flow.

A fixture set is a directory with one self-contained HTML file per stage (the
DOM as a person saw it: input values, checked states and open dialogs written
into attributes, stylesheets inlined, scripts dropped) and `manifest.json`
(site, locale, date, viewport, stages, flow name and version, which flow step
belongs to which stage, and the non-secret request values the flow refers to).

Nothing secret reaches the disk: snapshots stay in memory until `Recorder.write`,
which redacts every file (API keys, secrets, emails, phone numbers, UIDs,
passphrases, one-time codes, QR codes, and every value the caller registered)
and then proves that no registered value survives in what it wrote.

Stages are named by what the flow is doing, never by the exchange's texts:

  keys         the API keys page before anything is created
  create-form  the create form, filled in, before submit
  verify-<f>   each security-verification step (f: the flow's factor names)
  created      the "key created" dialog
  keys-listed  the API keys page after Complete, with the new key
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page

from agent.engine.flow import Flow
from agent.record.redaction import PLACEHOLDER_PASSPHRASE, leaks, redact_html, redact_text
from agent.record.snapshot import SNAPSHOT_JS

STAGES = ["keys", "create-form", "verify-*", "created", "keys-listed"]
MANIFEST = "manifest.json"

STAGE_HELP = {
    "keys": "the API keys page, before creating anything (its list fully loaded)",
    "create-form": "the create-key form, every field filled in, before submitting",
    "verify-totp": "the security verification step asking for the authenticator code",
    "verify-sms": "the security verification step asking for the SMS code",
    "verify-email": "the security verification step asking for the email code",
    "created": "the dialog that shows the new API key and secret",
    "keys-listed": "the API keys page after Complete, showing the new key",
}


def step_stages(flow: Flow, stages: list[str]) -> dict[str, list[str]]:
    """Each step id -> the recorded stages its locators must resolve on.

    By position and action, not by text: steps up to the first click (the one that opens
    the form; a select before it, e.g. the list's account, is on the keys page) act on the
    keys page; form fields and the submit click on the create form; the code step on
    every verification stage; the capture and the click that closes it on the created
    dialog; whatever checks the list afterwards on the list after Complete.
    """
    have = set(stages)
    verify = [s for s in stages if s.startswith("verify-")]
    out: dict[str, list[str]] = {}
    phase = "keys"
    opened = False  # the keys page's click that leads to the create form
    for step in flow.steps:
        act = step.action
        if phase == "keys" and opened:
            phase = "create-form"
        if phase == "keys" and act == "click":
            opened = True
        if act == "wait_codes":
            out[step.id] = verify
            phase = "verify"
            continue
        if act == "capture":
            phase = "created"
        elif phase == "created" and act in ("navigate", "assert_"):
            phase = "keys-listed"
        if phase == "verify":  # a step between the codes and the capture: skip it
            continue
        target = {"create-form": "create-form"}.get(phase, phase)
        out[step.id] = [target] if target in have else []
        if phase == "created" and act == "click":
            phase = "keys-listed"  # the click that closes the dialog leads back to the list
    return out


@dataclass
class Snapshot:
    stage: str
    html: str
    title: str
    url_path: str
    locale: str
    viewport: dict[str, int]
    notes: list[str] = field(default_factory=list)


class RecordError(Exception):
    """Recording could not produce a clean fixture set (nothing unsafe was left behind)."""


class Recorder:
    """Buffers stage snapshots in memory; `write` redacts and saves them with a manifest."""

    def __init__(
        self,
        out: Path,
        flow: Flow,
        site: str,
        vars: dict[str, Any] | None = None,
        known: Iterable[str] = (),
    ) -> None:
        self.out = Path(out)
        self.flow = flow
        self.site = site
        self.vars = {k: v for k, v in (vars or {}).items() if k in _PUBLIC_VARS}
        self._known: set[str] = set()
        self.add_secret(*known)
        self.snaps: dict[str, Snapshot] = {}

    def add_secret(self, *values: str | None) -> None:
        """Values that must not appear in any written file (codes, names, keys, passphrases)."""
        for v in values:
            if v and len(str(v)) >= 4:
                self._known.add(str(v))

    @property
    def known(self) -> set[str]:
        return set(self._known)

    def has(self, stage: str) -> bool:
        return stage in self.snaps

    def snapshot(self, page: Page, stage: str) -> Snapshot:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", stage):
            raise RecordError(f"bad stage name {stage!r} (lowercase letters, digits and -)")
        got = page.evaluate(SNAPSHOT_JS, {"passphrase": PLACEHOLDER_PASSPHRASE})
        snap = Snapshot(
            stage=stage,
            html=got["html"],
            title=got["title"],
            url_path=urlsplit(got["url"]).path,
            locale=got["locale"],
            viewport=got["viewport"],
            notes=got["notes"],
        )
        self.snaps[stage] = snap
        return snap

    def manifest(self) -> dict[str, Any]:
        stages = list(self.snaps)
        first = next(iter(self.snaps.values()), None)
        return {
            "format": 1,
            "site": self.site,
            "locale": first.locale if first else "",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "viewport": first.viewport if first else {"width": 1920, "height": 1080},
            "flow": {"name": self.flow.name, "version": self.flow.version},
            "vars": self.vars,
            "stages": [
                {
                    "name": s.stage,
                    "file": f"{s.stage}.html",
                    "title": s.title,
                    "path": s.url_path,
                    "notes": s.notes,
                }
                for s in self.snaps.values()
            ],
            "steps": step_stages(self.flow, stages),
            "redacted": True,
        }

    def write(self, force: bool = False) -> Path:
        """Redact every snapshot, write the set, and prove no registered value is in it."""
        if not self.snaps:
            raise RecordError("nothing was recorded")
        if self.out.exists() and any(self.out.iterdir()) and not force:
            raise RecordError(f"{self.out} already holds files (pick a new set name, or --force)")
        tmp = self.out.with_name(self.out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            known = self.known
            for s in self.snaps.values():
                (tmp / f"{s.stage}.html").write_text(redact_html(s.html, known))
            manifest = json.loads(redact_text(json.dumps(self.manifest()), known))
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            found = leaks(tmp, known)
            if found:
                raise RecordError("redaction left values behind: " + ", ".join(found))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if self.out.exists():
            shutil.rmtree(self.out)
        tmp.rename(self.out)
        return self.out


_PUBLIC_VARS = {"label", "ips", "account_text", "permissions_text"}


def manual_record(
    page: Page,
    recorder: Recorder,
    stages: list[str],
    ask: Callable[[str, str], str],
) -> list[str]:
    """The person walks the site; at each stage `ask(stage, help)` returns "" (snapshot),
    "s" (skip) or "q" (stop). Works when the flow itself no longer does."""
    done = []
    for stage in stages:
        answer = ask(stage, STAGE_HELP.get(stage, stage)).strip().lower()
        if answer.startswith("q"):
            break
        if answer.startswith("s"):
            continue
        recorder.snapshot(page, stage)
        done.append(stage)
    return done


def default_stages(flow: Flow) -> list[str]:
    factors: list[str] = []
    for s in flow.steps:
        if s.wait_codes:
            factors += list(s.wait_codes.factors)
    return ["keys", "create-form", *[f"verify-{f}" for f in factors], "created", "keys-listed"]
