"""`onboard doctor`: is this machine ready, and does the flow still fit the site?

Each check has a status (ok, warn, fail), what was found, and how to fix it.
Network checks use short timeouts in a worker thread, so an unreachable site is
reported (warn) and never hangs the command.
"""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"
SKEW_FAIL = 30.0  # OKX refuses signed requests more than 30 s off (50102)
SKEW_WARN = 5.0


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def repo_fixtures() -> Path | None:
    """fixtures/okx in a checkout (a wheel ships none)."""
    here = Path(__file__).resolve().parent.parent / "fixtures" / "okx"
    return here if here.is_dir() else None


def _bounded(fn: Any, timeout: float) -> Any:
    """Run fn in a daemon thread; None if it does not finish in time (DNS can block)."""
    box: dict[str, Any] = {}

    def go() -> None:
        try:
            box["v"] = fn()
        except Exception as exc:  # reported by the caller as unreachable
            box["e"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "e" in box:
        raise box["e"]
    return box.get("v")


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- checks ------------------------------------------------------------------------------


def check_browser(pw: Any) -> tuple[Check, Any]:
    """Launch each of this machine's browsers; the last one stays open for the fixture check."""
    from agent.browser import browsers

    found = browsers(pw)
    if not found:
        return Check(
            "browser", FAIL, "no usable Chromium found",
            "run `make setup` (or `playwright install chromium`), or set ONBOARD_BROWSER",
        ), None  # fmt: skip
    said: list[str] = []
    browser = None
    for n, (label, choice) in enumerate(found):
        what = f"{label}: " if n else ""  # the check is already called "browser"
        if browser is not None:
            browser.close()
        try:
            browser = pw.chromium.launch(headless=True, **choice.launch_kwargs())
        except Exception as exc:
            return Check(
                "browser", FAIL, f"{what}{choice.describe()} failed to launch: {_why(exc)}",
                "set ONBOARD_BROWSER to a working Chrome/Chromium, or `playwright install chromium`",
            ), None  # fmt: skip
        said.append(f"{what}{choice.describe()} (Chromium {browser.version})")
    return Check("browser", OK, "; ".join(said)), browser


def check_display() -> Check:
    if sys.platform == "darwin":
        return Check("display", OK, "macOS: windows open on the desktop")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        if os.environ.get(var):
            return Check("display", OK, f"{var}={os.environ[var]}")
    return Check(
        "display",
        WARN,
        "no DISPLAY: a visible browser cannot open here",
        "run under a desktop session or `xvfb-run`, or use --headless for unattended runs",
    )


def _mode_check(name: str, path: Path, want: int) -> Check:
    if not path.exists():
        return Check(name, OK, f"{path} not created yet (made with mode {want:o} on first use)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~want & 0o777:
        return Check(
            name, WARN, f"{path} has mode {mode:o}, looser than {want:o}", f"chmod {want:o} {path}"
        )
    return Check(name, OK, f"{path} mode {mode:o}")


def check_permissions(settings: Any) -> list[Check]:
    return [
        _mode_check("data dir", settings.home, 0o700),
        _mode_check("profiles dir", settings.profiles_dir, 0o700),
        _mode_check("vault dir", settings.vault_dir, 0o700),
    ]


def check_custody(settings: Any) -> Check:
    from agent.custody.vault import VaultError, parse_recipients, read_identities

    try:
        recips = parse_recipients(settings.recipients)
    except VaultError as exc:
        return Check(
            "vault keys",
            FAIL,
            f"ONBOARD_RECIPIENTS: {exc}",
            "set ONBOARD_RECIPIENTS to a JSON list of age public keys: '[\"age1...\"]'",
        )
    ident = settings.identity_file
    if ident.exists():
        try:
            read_identities(ident)
        except Exception as exc:
            return Check(
                "vault keys", FAIL, str(exc), f"restore the identity file, or move it away: {ident}"
            )
        mode = stat.S_IMODE(ident.stat().st_mode)
        if mode & 0o077:
            return Check(
                "vault keys",
                WARN,
                f"{ident} has mode {mode:o}: others may read the identity",
                f"chmod 600 {ident}",
            )
    if recips:
        extra = "; a local identity is also present" if ident.exists() else ""
        return Check(
            "vault keys",
            OK,
            f"{len(recips)} recipient(s) configured (recipients-only: this machine cannot decrypt){extra}",
        )
    if ident.exists():
        return Check("vault keys", OK, f"local identity {ident} (mode 600)")
    return Check(
        "vault keys",
        WARN,
        "no recipients and no local identity yet",
        "set ONBOARD_RECIPIENTS to the firm's age keys, or let the first run create a local identity",
    )


def check_flows(flows_dir: Path) -> tuple[list[Check], dict[str, Any]]:
    from agent.engine.flow import FlowError, load_flow

    files = sorted(flows_dir.glob("*.yaml")) + sorted(flows_dir.glob("*.yml"))
    if not files:
        return [Check("flows", FAIL, f"no flow files in {flows_dir}", "reinstall onboard")], {}
    out, loaded = [], {}
    for f in files:
        try:
            loaded[f.stem] = load_flow(f)
            out.append(Check(f"flow {f.stem}", OK, f"{f} v{loaded[f.stem].version}"))
        except FlowError as exc:
            out.append(Check(f"flow {f.stem}", FAIL, str(exc), "fix the flow file at that line"))
    return out, loaded


def check_fixtures(browser: Any, root: Path | None, flow: Any) -> Check:
    from agent.record import RecordError, check_sets, fixture_sets

    if root is None or not root.is_dir():
        return Check("fixtures", WARN, "no fixture sets here (they live in a source checkout)")
    sets = fixture_sets(root)
    if not sets:
        return Check(
            "fixtures", WARN, f"no fixture sets under {root}", "record one: onboard record"
        )
    if flow is None:
        return Check("fixtures", FAIL, "the flow does not load, so it cannot be checked")
    if browser is None:
        return Check("fixtures", FAIL, "no browser to check the fixture sets with")
    page = browser.new_page()
    try:
        results = check_sets(page, sets, flow)
    except RecordError as exc:
        return Check("fixtures", FAIL, str(exc), "re-record the set: onboard record")
    finally:
        page.close()
    bad = [r for r in results if not r.ok]
    names = ", ".join(s.name for s in sets)
    if bad:
        return Check(
            "fixtures",
            FAIL,
            f"{len(bad)} of {len(results)} locator checks fail; first: {bad[0].message()}",
            "update the step's locators in the flow file (see `pytest tests/contract -k <set>`)",
        )
    skipped = sum(r.skipped for r in results)
    return Check(
        "fixtures",
        OK,
        f"{len(results) - skipped} locator checks pass ({skipped} not applicable) "
        f"on {len(sets)} set(s): {names}",
    )


def check_site(base: str, timeout: float) -> list[Check]:
    import httpx

    def get(path: str) -> httpx.Response:
        with httpx.Client(timeout=timeout, follow_redirects=False) as c:
            return c.get(base.rstrip("/") + path)

    out = []
    try:
        r = _bounded(lambda: get("/"), timeout + 1)
        if r.status_code >= 500:
            out.append(
                Check("site", WARN, f"{base} answers HTTP {r.status_code}", "try again later")
            )
        else:
            out.append(Check("site", OK, f"{base} reachable (HTTP {r.status_code})"))
    except Exception as exc:
        out.append(
            Check(
                "site",
                WARN,
                f"{base} unreachable: {_why(exc)}",
                "check the network, proxy or VPN from this machine",
            )
        )
    try:
        t0 = time.time()
        r = _bounded(lambda: get("/api/v5/public/time"), timeout + 1)
        t1 = time.time()
        ts = int(r.json()["data"][0]["ts"]) / 1000
        skew = ts - (t0 + t1) / 2
        detail = f"this machine is {abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} {base}"
        status = FAIL if abs(skew) > SKEW_FAIL else WARN if abs(skew) > SKEW_WARN else OK
        fix = "" if status == OK else "sync the clock (e.g. `timedatectl set-ntp true`)"
        out.append(Check("clock", status, detail, fix))
    except Exception as exc:
        out.append(
            Check(
                "clock",
                WARN,
                f"time endpoint unreachable: {_why(exc)}",
                "the clock is checked again when the site is reachable",
            )
        )
    return out


def run_checks(
    settings: Any,
    base_url: str | None = None,
    flows_dir: Path | None = None,
    fixtures: Path | None = None,
    timeout: float = 3.0,
) -> list[Check]:
    from playwright.sync_api import sync_playwright

    from agent.engine import engines
    from agent.engine.flow import flows_dir as default_flows
    from agent.exchanges import DEFAULT

    checks: list[Check] = []
    flow_checks, flows = check_flows(flows_dir or default_flows())
    flow = flows.get(DEFAULT) or next(iter(flows.values()), None)
    with sync_playwright() as pw:
        engines.register(pw)
        browser_check, browser = check_browser(pw)
        checks.append(browser_check)
        checks.append(check_display())
        checks += check_permissions(settings)
        checks.append(check_custody(settings))
        checks += flow_checks
        try:
            checks.append(check_fixtures(browser, fixtures or repo_fixtures(), flow))
        finally:
            if browser is not None:
                browser.close()
    base = base_url or (flow.sites.get("global") if flow else None)
    if base:
        checks += check_site(base, timeout)
    return checks
