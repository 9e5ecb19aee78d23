"""A warm batch slot's headless browser and driver are launched with agent.browser's
SLOT_ARGS and SLOT_NODE_OPTIONS (lower memory); a visible slot and a run outside a batch
are launched exactly as before: the visible browser is the product."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserType
from playwright.sync_api._context_manager import PlaywrightContextManager

from agent import warm
from agent.browser import SLOT_ARGS, SLOT_NODE_OPTIONS
from agent.config import Settings
from agent.session import SessionSpec, open_session
from tests.helpers import in_thread

CLIENTS = "--stack-trace-limit=20"  # the client's own NODE_OPTIONS: kept, and after ours


class Launched(Exception):
    """Raised instead of launching: what was asked for is all these tests look at."""


def launch_of(spec: SessionSpec, home: Path, in_slot: bool, monkeypatch: Any) -> dict[str, Any]:
    """The browser args and the driver's NODE_OPTIONS of one session (no browser starts)."""
    seen: dict[str, Any] = {}
    start = PlaywrightContextManager.__enter__

    def recorded_start(self: Any) -> Any:
        seen["node"] = os.environ.get("NODE_OPTIONS")
        return start(self)

    def recorded_launch(self: Any, *a: Any, **kw: Any) -> Any:
        seen["args"] = list(kw.get("args") or [])
        raise Launched

    monkeypatch.setattr(PlaywrightContextManager, "__enter__", recorded_start)
    monkeypatch.setattr(BrowserType, "launch", recorded_launch)

    def go() -> None:
        held: AbstractContextManager[Any] = warm.bound(warm.Slot()) if in_slot else nullcontext()
        session = open_session(spec, Settings(home=home), "http://127.0.0.1:9")
        with held, pytest.raises(Launched), session:
            pass

    in_thread(go)
    return seen


@pytest.mark.parametrize(
    ("in_slot", "headless", "lean"),
    [(True, True, True), (True, False, False), (False, True, False)],
    ids=["headless-slot", "visible-slot", "single-run"],
)
def test_only_a_headless_slot_gets_the_slot_options(tmp_path, monkeypatch, in_slot, headless, lean):
    monkeypatch.setenv("NODE_OPTIONS", CLIENTS)
    seen = launch_of(SessionSpec(headless=headless), tmp_path, in_slot, monkeypatch)
    assert SLOT_ARGS  # the options exist, so their absence below means something
    assert all(a in seen["args"] for a in SLOT_ARGS) is lean
    assert not any(a in seen["args"] for a in SLOT_ARGS) is not lean
    assert seen["node"] == (f"{SLOT_NODE_OPTIONS} {CLIENTS}" if lean else CLIENTS)
    assert os.environ["NODE_OPTIONS"] == CLIENTS  # given back as it was after the driver started
