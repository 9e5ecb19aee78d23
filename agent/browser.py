"""Finding a Chromium that Playwright can drive, on any machine we land on.

Users have `playwright install chromium`, an installed Chrome, or (CI here) the
distribution's `chromium`. Everything that launches a browser asks this module,
so the choice is made once and reported the same way everywhere.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Flags that keep Chromium quiet on closed networks and as root.
_QUIET_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

_SYSTEM_CANDIDATES = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
]


@dataclass
class BrowserChoice:
    """How to launch: an executable path, a Playwright channel, or Playwright's own build."""

    source: str
    executable_path: str | None = None
    channel: str | None = None
    args: list[str] = field(default_factory=list)

    def launch_kwargs(self) -> dict[str, object]:
        kwargs: dict[str, object] = {"args": list(self.args)}
        if self.executable_path:
            kwargs["executable_path"] = self.executable_path
        if self.channel:
            kwargs["channel"] = self.channel
        return kwargs

    def describe(self) -> str:
        what = self.executable_path or (f"channel {self.channel}" if self.channel else "bundled")
        return f"{self.source}: {what}"


def base_args() -> list[str]:
    args = list(_QUIET_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox.
    return args


def _playwright_bundled() -> str | None:
    """Path of Playwright's downloaded Chromium, if `playwright install chromium` ran."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def _system_browser() -> str | None:
    for name in _SYSTEM_CANDIDATES:
        found = shutil.which(name) if "/" not in name else (name if Path(name).exists() else None)
        if found:
            return found
    return None


def find_browser() -> BrowserChoice | None:
    """Pick a browser: $ONBOARD_BROWSER, else Playwright's build, else a system Chrome/Chromium."""
    args = base_args()
    override = os.environ.get("ONBOARD_BROWSER", "").strip()
    if override:
        if "/" in override or Path(override).exists():
            return BrowserChoice("ONBOARD_BROWSER", executable_path=override, args=args)
        return BrowserChoice("ONBOARD_BROWSER", channel=override, args=args)
    bundled = _playwright_bundled()
    if bundled:
        return BrowserChoice("playwright", executable_path=bundled, args=args)
    system = _system_browser()
    if system:
        return BrowserChoice("system", executable_path=system, args=args)
    return None


def require_browser() -> BrowserChoice:
    choice = find_browser()
    if choice is None:
        raise SystemExit(
            "no usable Chromium found: run `make setup` (or `playwright install chromium`, "
            "or install Google Chrome), or set ONBOARD_BROWSER to a browser executable"
        )
    return choice


def probe() -> int:
    """Launch the chosen browser once; used by setup to decide whether to install one."""
    choice = find_browser()
    if choice is None:
        print("browser: none found")
        return 1
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(headless=True, **choice.launch_kwargs())  # type: ignore[arg-type]
            version = browser.version
            browser.close()
    except Exception as exc:
        print(f"browser: {choice.describe()} failed to launch: {str(exc).splitlines()[0]}")
        return 1
    print(f"browser: {choice.describe()} (Chromium {version})")
    return 0


if __name__ == "__main__":
    sys.exit(probe())
