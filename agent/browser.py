"""Finding a Chromium that Playwright can drive, on any machine we land on.

Users have `playwright install chromium`, an installed Chrome, or (CI here) the
distribution's `chromium`. Everything that launches a browser asks this module,
so the choice is made once and reported the same way everywhere.

Headless runs prefer Chromium's headless shell, as Playwright itself does for
its own build: the same Blink without the browser UI, which starts in half the
time and costs less CPU per page on a small machine. The shell is only taken
beside the full browser of the same installation (Playwright's revision, or the
distribution's `chromium-headless-shell` next to its `chromium`), so a client's
profile is opened by the same Chromium version headed or headless.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

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
# A distribution's headless shell, by the name of the full browser it is packaged with.
_SYSTEM_SHELLS = {"chromium": "chromium-headless-shell"}


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


def _playwright_bundled(playwright: Playwright | None = None) -> str | None:
    """Path of Playwright's downloaded Chromium, if `playwright install chromium` ran.

    Inside a running Playwright (a session about to launch) its own instance must be
    given: a second sync Playwright cannot start on the same thread.
    """
    try:
        if playwright is not None:
            path = playwright.chromium.executable_path
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                path = p.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def _bundled_shell(full: str) -> str | None:
    """Playwright's headless shell of the same revision as its full build, if installed.

    Layout: <registry>/chromium-<rev>/<platform dir>/chrome and
    <registry>/chromium_headless_shell-<rev>/<platform dir>/chrome-headless-shell[.exe].
    """
    for parent in Path(full).parents:
        if parent.name.startswith("chromium-"):
            rev = parent.name.removeprefix("chromium-")
            shell_dir = parent.parent / f"chromium_headless_shell-{rev}"
            for exe in sorted(shell_dir.glob("*/chrome-headless-shell*")):
                if exe.is_file() and exe.suffix in ("", ".exe"):
                    return str(exe)
            return None
    return None


def _system_browser() -> str | None:
    for name in _SYSTEM_CANDIDATES:
        found = shutil.which(name) if "/" not in name else (name if Path(name).exists() else None)
        if found:
            return found
    return None


def _system_shell(full: str) -> str | None:
    """The distribution's headless shell packaged beside this full browser, if installed."""
    shell = _SYSTEM_SHELLS.get(Path(full).name)
    if shell is None:
        return None
    path = Path(full).parent / shell
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def find_browser(
    headless: bool = False, playwright: Playwright | None = None
) -> BrowserChoice | None:
    """Pick a browser: $ONBOARD_BROWSER, else Playwright's build, else a system Chrome/Chromium.

    With `headless`, the headless shell of that same installation when it has one.
    """
    args = base_args()
    override = os.environ.get("ONBOARD_BROWSER", "").strip()
    if override:
        if "/" in override or Path(override).exists():
            return BrowserChoice("ONBOARD_BROWSER", executable_path=override, args=args)
        return BrowserChoice("ONBOARD_BROWSER", channel=override, args=args)
    bundled = _playwright_bundled(playwright)
    if bundled:
        shell = _bundled_shell(bundled) if headless else None
        return BrowserChoice("playwright", executable_path=shell or bundled, args=args)
    system = _system_browser()
    if system:
        shell = _system_shell(system) if headless else None
        return BrowserChoice("system", executable_path=shell or system, args=args)
    return None


def require_browser(headless: bool = False, playwright: Playwright | None = None) -> BrowserChoice:
    choice = find_browser(headless, playwright)
    if choice is None:
        raise SystemExit(
            "no usable Chromium found: run `make setup` (or `playwright install chromium`, "
            "or install Google Chrome), or set ONBOARD_BROWSER to a browser executable"
        )
    return choice


def browsers(playwright: Playwright | None = None) -> list[tuple[str, BrowserChoice]]:
    """This machine's browsers, labelled: visible runs' ("browser") and, if it differs, "headless"."""
    headed = find_browser(playwright=playwright)
    if headed is None:
        return []
    headless = find_browser(headless=True, playwright=playwright)
    extra = [("headless", headless)] if headless is not None and headless != headed else []
    return [("browser", headed), *extra]


def probe() -> int:
    """Launch each of this machine's browsers once; setup uses it to decide what to install."""
    from playwright.sync_api import sync_playwright

    lines = []
    with sync_playwright() as p:
        found = browsers(p)
        if not found:
            print("browser: none found")
            return 1
        for label, choice in found:
            try:
                browser = p.chromium.launch(headless=True, **choice.launch_kwargs())  # type: ignore[arg-type]
                version = browser.version
                browser.close()
            except Exception as exc:
                print(f"{label}: {choice.describe()} failed to launch: {str(exc).splitlines()[0]}")
                return 1
            lines.append(f"{label}: {choice.describe()} (Chromium {version})")
    print("; ".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(probe())
