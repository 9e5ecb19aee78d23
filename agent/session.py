"""The browser under the client's own session.

Three ways in: a persistent profile per client (kept 0700 in the data
directory), attaching to the client's running Chrome over CDP, or a fresh
context (tests, ops). Whichever, the caller gets one context and one page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

from agent.browser import BrowserChoice, base_args, require_browser
from agent.config import Settings, private_dir
from agent.engine.overlay import Overlay
from agent.exitcodes import AgentError, Exit

PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


@dataclass
class SessionSpec:
    profile: str | None = None  # persistent profile name
    cdp: str | None = None  # attach to a running Chrome
    headless: bool = False
    channel: str | None = None
    executable: str | None = None
    browser_ws: str | None = None  # a remote Playwright browser server
    extra_args: list[str] = field(default_factory=list)  # e.g. the batch's window tiling

    def validate(self) -> None:
        if self.profile is not None and not PROFILE_RE.fullmatch(self.profile):
            raise AgentError(
                f"--profile {self.profile!r}: use letters, digits, '.', '_' or '-' (max 64)",
                Exit.BAD_INPUT,
            )
        if self.cdp is not None and not re.fullmatch(r"(https?|wss?)://[^\s/]+(/.*)?", self.cdp):
            raise AgentError(
                f"--cdp {self.cdp!r} is not a URL like http://127.0.0.1:9222", Exit.BAD_INPUT
            )
        if self.executable is not None and not Path(self.executable).exists():
            raise AgentError(f"--executable {self.executable}: no such file", Exit.BAD_INPUT)
        if sum(x is not None for x in (self.cdp, self.browser_ws)) > 1:
            raise AgentError("give only one of --cdp and --browser-ws", Exit.BAD_INPUT)

    def choice(self) -> BrowserChoice:
        if self.executable:
            choice = BrowserChoice(
                "--executable", executable_path=self.executable, args=base_args()
            )
        elif self.channel:
            choice = BrowserChoice("--channel", channel=self.channel, args=base_args())
        else:
            choice = require_browser()
        if self.extra_args:
            choice = replace(choice, args=[*choice.args, *self.extra_args])
        return choice


@contextmanager
def open_session(
    spec: SpecLike, settings: Settings, origin: str
) -> Iterator[tuple[BrowserContext, Page]]:
    """Yields (context, page); closes what it opened (never the client's own Chrome)."""
    with sync_playwright() as p:
        viewport = {"width": 1920, "height": 1080} if spec.headless else None
        if spec.cdp:
            browser = p.chromium.connect_over_cdp(spec.cdp)
            context = browser.contexts[0] if browser.contexts else browser.new_context()
            _prepare(context, origin)
            page = context.new_page()
            try:
                yield context, page
            finally:
                page.close()  # the client's browser stays open
            return
        if spec.browser_ws:
            browser = p.chromium.connect(spec.browser_ws)
            context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
            _prepare(context, origin)
            try:
                yield context, context.new_page()
            finally:
                context.close()
                browser.close()
            return
        launch = spec.choice().launch_kwargs()
        if spec.profile:
            data_dir = private_dir(private_dir(settings.profiles_dir) / spec.profile)
            context = p.chromium.launch_persistent_context(
                str(data_dir),
                headless=spec.headless,
                viewport=viewport,
                no_viewport=viewport is None,
                **launch,  # type: ignore[arg-type]
            )
            _prepare(context, origin)
            page = context.pages[0] if context.pages else context.new_page()
            try:
                yield context, page
            finally:
                context.close()
            return
        browser = p.chromium.launch(headless=spec.headless, **launch)  # type: ignore[arg-type]
        context = browser.new_context(viewport=viewport, no_viewport=viewport is None)  # type: ignore[arg-type]
        _prepare(context, origin)
        try:
            yield context, context.new_page()
        finally:
            context.close()
            browser.close()


SpecLike = SessionSpec


def _prepare(context: BrowserContext, origin: str) -> None:
    Overlay.install(context)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    except Exception:
        pass  # not every browser grants clipboard access; capture has other fallbacks
