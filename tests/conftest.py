"""Shared fixtures: one real replica server per test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserType, Playwright

from agent.browser import require_browser
from agent.engine import engines
from replica.server import ReplicaServer


@pytest.fixture(scope="session")
def replica_server() -> Iterator[ReplicaServer]:
    with ReplicaServer() as srv:
        yield srv


@pytest.fixture
def replica(replica_server: ReplicaServer, request: pytest.FixtureRequest) -> ReplicaServer:
    """The live replica, reset to the seed; `@pytest.mark.scenarios("slow", ...)` picks knobs."""
    marker = request.node.get_closest_marker("scenarios")
    names = list(marker.args) if marker else []
    httpx.post(
        f"{replica_server.base_url}/replica/reset", json={"scenarios": names}
    ).raise_for_status()
    return replica_server


@pytest.fixture(scope="session")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    """pytest-playwright's browser type, with the agent's page-reading engines registered."""
    engines.register(playwright)
    return getattr(playwright, browser_name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches whichever Chromium this machine has (see agent.browser)."""
    choice = require_browser(headless=browser_type_launch_args.get("headless", True))
    return {**browser_type_launch_args, **choice.launch_kwargs()}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1920, "height": 1080}}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenarios(*names): replica scenarios for this test")
