"""The browser under the client's own session.

Four ways in: a persistent profile per client (kept 0700 in the data
directory), attaching to the client's running Chrome over CDP, a fresh context
in a browser launched here (tests, ops), or a fresh context in a browser that a
remote Playwright server (`playwright run-server`) launches for this run
(`--browser-ws`). Whichever, the caller gets one context and one page. A fresh
context may carry a client's login as sealed storage state (`login_state`,
agent.custody.logins) instead of a profile. Inside a warm batch slot (agent.warm) the
driver and the fresh contexts' browser are the batch's, kept for the next entries.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from playwright.sync_api import Error as PWError

from agent import urls, warm
from agent.browser import BrowserChoice, base_args, find_browser, require_browser
from agent.config import Settings, name_problem, private_dir
from agent.custody import logins
from agent.engine import engines
from agent.engine.overlay import Overlay
from agent.exitcodes import AgentError, Exit

WS_RE = re.compile(r"wss?://[^\s/?#]+(?:[/?#]\S*)?")
# Playwright's run-server reads the launch options from this header on connect.
LAUNCH_HEADER = "x-playwright-launch-options"
CONNECT_TIMEOUT_MS = 180_000  # connect + the server's launch; Playwright's own launch timeout


def executable_problem(path: Path) -> str | None:
    """Why `path` cannot be launched as a browser, or None: said now, before Playwright starts,
    rather than as its launch failure (a spawn error and a call log)."""
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "a directory, not a browser executable"
    if not os.access(path, os.X_OK):
        return "not executable (no execute permission)"
    return None


def browser_ws_problem(url: str, name: str = "--browser-ws") -> str | None:
    """One line saying what is wrong with a browser server URL, or None. Plain ws:// to another
    host is refused: the pages, and so each new key's secret, would cross in clear text."""
    if not WS_RE.fullmatch(url):
        return (
            f"{name} {url!r} is not a Playwright browser server URL like "
            "ws://127.0.0.1:3000/ (ws:// or wss://)"
        )
    try:
        urls.check(url, name, ("ws", "wss"))
        urls.check_clear(url, name, "ws")
    except urls.URLError as exc:
        return str(exc)
    return None


is_loopback = urls.is_loopback
endpoint = urls.shown


@dataclass
class SessionSpec:
    profile: str | None = None  # persistent profile name
    cdp: str | None = None  # attach to a running Chrome
    headless: bool = False
    channel: str | None = None
    executable: str | None = None
    browser_ws: str | None = None  # a remote Playwright browser server
    login_state: str | None = None  # a sealed storage state (agent.custody.logins)
    extra_args: list[str] = field(default_factory=list)  # e.g. the batch's window tiling

    def validate(self) -> None:
        problem = None if self.profile is None else name_problem("--profile", self.profile)
        if problem:
            raise AgentError(problem, Exit.BAD_INPUT)
        if self.cdp is not None:
            if not re.fullmatch(r"(https?|wss?)://[^\s/]+(/.*)?", self.cdp):
                raise AgentError(
                    f"--cdp {urls.shown(self.cdp)!r} is not a URL like http://127.0.0.1:9222",
                    Exit.BAD_INPUT,
                )
            try:
                urls.check(self.cdp, "--cdp", ("http", "https", "ws", "wss"))
            except urls.URLError as exc:
                raise AgentError(str(exc), Exit.BAD_INPUT) from None
            except ValueError as exc:  # not even showable (an unclosed IPv6 bracket): not echoed
                raise AgentError(f"--cdp is not a valid URL ({exc})", Exit.BAD_INPUT) from None
        if self.browser_ws is not None:
            problem = browser_ws_problem(self.browser_ws)
            if problem:
                raise AgentError(problem, Exit.BAD_INPUT)
        # With --browser-ws the executable is a path on the server's machine, not checked here.
        if self.executable is not None and self.browser_ws is None:
            problem = executable_problem(Path(self.executable))
            if problem:
                raise AgentError(f"--executable {self.executable}: {problem}", Exit.BAD_INPUT)
        if sum(x is not None for x in (self.cdp, self.browser_ws)) > 1:
            raise AgentError("give only one of --cdp and --browser-ws", Exit.BAD_INPUT)
        if self.login_state is not None and (self.profile or self.cdp):
            raise AgentError(
                "give only one of a profile, cdp and login_state (a sealed login goes into "
                "a fresh context)",
                Exit.BAD_INPUT,
            )
        if self.profile is not None and self.browser_ws is not None:
            raise AgentError(
                "give only one of --profile and --browser-ws (a remote browser has no local "
                "profile: it gets a fresh context)",
                Exit.BAD_INPUT,
            )

    def remote_launch_options(self, playwright: Playwright | None = None) -> dict[str, object]:
        """What the browser server is asked to launch (sent as x-playwright-launch-options).

        Always headless and args (this machine's quiet flags, the batch's window tiling).
        The browser: --executable (a path on the server's machine) or --channel when given;
        otherwise, for a server on loopback (this machine), this machine's own choice unless
        that is Playwright's build; otherwise nothing, and the server launches its own
        Playwright Chromium. A server started without --unsafe drops args and executablePath
        (Playwright's rule) and keeps headless and channel.
        """
        opts: dict[str, object] = {
            "headless": self.headless,
            "args": [*base_args(), *self.extra_args],
        }
        if self.executable:
            opts["executablePath"] = self.executable
        elif self.channel:
            opts["channel"] = self.channel
        elif self.browser_ws and is_loopback(self.browser_ws):
            local = find_browser(self.headless, playwright)
            if local is not None and local.source != "playwright":
                if local.executable_path:
                    opts["executablePath"] = local.executable_path
                elif local.channel:
                    opts["channel"] = local.channel
        return opts

    def choice(self, playwright: Playwright | None = None) -> BrowserChoice:
        """What to launch here; `playwright` is the running instance when there is one."""
        if self.executable:
            choice = BrowserChoice(
                "--executable", executable_path=self.executable, args=base_args()
            )
        elif self.channel:
            choice = BrowserChoice("--channel", channel=self.channel, args=base_args())
        else:
            choice = require_browser(self.headless, playwright)
        if self.extra_args:
            choice = replace(choice, args=[*choice.args, *self.extra_args])
        return choice


def node_cache(settings: Settings) -> None:
    """Playwright's driver is Node: its compiled code kept between runs starts it ~0.1 s sooner
    (Node >= 22 reads this variable; older ones ignore it). Compiled JavaScript only."""
    os.environ.setdefault("NODE_COMPILE_CACHE", str(settings.home / "cache" / "node"))


@contextmanager
def open_session(
    spec: SpecLike, settings: Settings, origin: str
) -> Iterator[tuple[BrowserContext, Page]]:
    """Yields (context, page); closes what it opened (never the client's own Chrome)."""
    # Decided before Playwright starts here: finding this machine's browser may start it too.
    warm_driver = warm.current()  # in a warm batch slot: the batch's running driver
    pw = warm_driver.playwright() if warm_driver else None
    remote = spec.remote_launch_options(pw) if spec.browser_ws and not spec.cdp else None
    node_cache(settings)
    with nullcontext(pw) if pw else sync_playwright() as p:
        viewport: ViewportSize | None = {"width": 1920, "height": 1080} if spec.headless else None
        if spec.cdp:
            browser = _connect_cdp(p, spec.cdp)
            # After connecting: registering reaches the contexts Playwright knows of, and the
            # client's own context only arrives with the connection.
            engines.register(p)
            context = browser.contexts[0] if browser.contexts else browser.new_context()
            _prepare(context, origin, still=False)  # the client's own, visible browser
            page = context.new_page()
            try:
                yield context, page
            finally:
                page.close()  # the client's browser stays open
            return
        # Before any context: each new one gets them.
        if not (warm_driver and warm_driver.registered):
            engines.register(p)
            if warm_driver:
                warm_driver.registered = True
        if spec.profile:
            launch = spec.choice(p).launch_kwargs()
            data_dir = private_dir(private_dir(settings.profiles_dir) / spec.profile)
            context = p.chromium.launch_persistent_context(
                str(data_dir),
                headless=spec.headless,
                viewport=viewport,
                no_viewport=viewport is None,
                **launch,  # type: ignore[arg-type]
            )
            _prepare(context, origin, still=spec.headless)
            page = context.pages[0] if context.pages else context.new_page()
            try:
                yield context, page
            finally:
                _clear_cache(context, page)
                context.close()
            return
        state = logins.unseal(settings, spec.login_state) if spec.login_state else None
        if spec.browser_ws and remote is not None:
            url, opts = spec.browser_ws, remote
            key, start = f"ws {url} {json.dumps(opts)}", lambda: _connect(p, url, opts)
        else:
            launch = spec.choice(p).launch_kwargs()
            key = f"local {spec.headless} {json.dumps(launch)}"
            start = lambda: p.chromium.launch(headless=spec.headless, **launch)  # type: ignore[arg-type]  # noqa: E731
        browser = warm_driver.browser(key, start) if warm_driver else start()
        context = browser.new_context(
            viewport=viewport,
            no_viewport=viewport is None,
            storage_state=state,  # type: ignore[arg-type]
        )
        del state  # the context holds it now; nothing else keeps the client's session
        _prepare(context, origin, still=spec.headless)
        try:
            yield context, context.new_page()
        finally:
            _close(context)
            if not warm_driver:
                browser.close()


SpecLike = SessionSpec


def _connect(p: Playwright, url: str, options: dict[str, object]) -> Browser:
    """A browser from a Playwright browser server; its failures in one line (exit 1)."""
    try:
        return p.chromium.connect(
            url, headers={LAUNCH_HEADER: json.dumps(options)}, timeout=CONNECT_TIMEOUT_MS
        )
    except PWError as exc:
        raise AgentError(_remote_failure(url, exc.message), Exit.FAILED) from None


def _connect_cdp(p: Playwright, url: str) -> Browser:
    """The client's running Chrome; when it cannot be reached, one line (exit 1) saying where
    and why, not Playwright's call log."""
    try:
        return p.chromium.connect_over_cdp(url)
    except PWError as exc:
        lines = [ln.strip() for ln in exc.message.splitlines() if ln.strip()]
        why = lines[0].removeprefix("BrowserType.connect_over_cdp: ") if lines else "no answer"
        raise AgentError(
            f"cannot reach the browser at {endpoint(url)}: {why} (is Chrome running with "
            "--remote-debugging-port on that port?)",
            Exit.FAILED,
        ) from None


def _remote_failure(url: str, message: str) -> str:
    where = f"the browser server at {endpoint(url)}"
    lines = [ln.strip(" ║╔╗╚╝═") for ln in message.splitlines()]
    lines = [ln.strip() for ln in lines if ln.strip()]
    first = lines[0].removeprefix("BrowserType.connect: ") if lines else "no answer"
    text = " ".join(lines)
    if "Executable doesn't exist" in text:
        return (
            f"{where} has no browser to launch ({first}). A server started without --unsafe "
            "ignores executable paths and launches its own Playwright Chromium: install one "
            "there (`playwright install chromium`), give --channel, or start the server with "
            "`playwright run-server --unsafe`"
        )
    if "version mismatch" in text:
        versions = ", ".join(ln.lstrip("- ") for ln in lines if "version: v" in ln)
        return (
            f"{where} runs another Playwright version ({versions}): use the same major.minor "
            "version on both sides"
        )
    if "Timeout" in first:
        return f"{where} did not answer within {CONNECT_TIMEOUT_MS // 1000} s ({first})"
    return f"cannot use {where}: {first}"


def _close(context: BrowserContext) -> None:
    """Close an entry's context; when its browser is already gone (a browser server that
    died) there is nothing left to close."""
    try:
        context.close()
    except PWError:
        pass


def _clear_cache(context: BrowserContext, page: Page) -> None:
    """The profile keeps the client's session (cookies) but not the exchange's responses: its
    HTTP cache would hold the key list (API keys) between runs."""
    try:
        context.new_cdp_session(page).send("Network.clearBrowserCache")
    except PWError:
        pass  # the page is gone, or the browser is not Chromium: nothing more to do


def _prepare(context: BrowserContext, origin: str, still: bool) -> None:
    Overlay.install(context, still)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    except Exception:
        pass  # not every browser grants clipboard access; capture has other fallbacks
