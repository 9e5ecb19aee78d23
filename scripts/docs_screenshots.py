"""Regenerate the README's pictures of the terminal and the batch report (`make screenshots`).

Everything comes from the code as it is, run against a local replica (logged in, automatic
codes, headless, pace 0), so the pictures show what a run prints today:

- docs/terminal-run.svg: `onboard run`'s terminal output, start to final panel, as the
  ConsoleReporter prints it (rich's own SVG export; the spinner, redrawn in place on a
  terminal, is not in it);
- docs/terminal-batch.svg: the live `onboard batch` table in the middle of a 4-entry batch
  (one at a time: the entries share the replica's one client and its outbox), captured
  when the second entry reaches its security verification, overall line included;
- docs/report.png: the top of that batch's HTML report as Chromium shows it, and
  docs/report-entry.png: one entry with its steps and screenshot thumbnails.

Secrets never reach them: the terminal and the report pass the redaction layer, and the API
keys the replica issues are shown masked to their last 4 characters.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent import report  # noqa: E402
from agent.batch import Batch, BatchOptions, Board, Stop, View  # noqa: E402
from agent.browser import require_browser  # noqa: E402
from agent.cli_batch import table  # noqa: E402
from agent.config import Settings  # noqa: E402
from agent.console import ConsoleReporter  # noqa: E402
from agent.engine.flow import load_named  # noqa: E402
from agent.engine.human import CodeSources  # noqa: E402
from agent.engine.runner import Options  # noqa: E402
from agent.journal import Journal  # noqa: E402
from agent.request import build_request  # noqa: E402
from agent.roster import load as load_roster  # noqa: E402
from agent.run import RunPlan, execute  # noqa: E402
from agent.session import SessionSpec  # noqa: E402
from replica.server import ReplicaServer  # noqa: E402

DOCS = ROOT / "docs"
IPS = ["203.0.113.7", "2001:db8::7"]
WIDTH = 110  # terminal columns in the SVGs


def recording() -> Console:
    """A console that keeps what it prints (with colours) and writes nowhere."""
    return Console(record=True, file=io.StringIO(), width=WIDTH, color_system="truecolor")


def reset(base: str) -> None:
    httpx.post(f"{base}/replica/reset", json={"scenarios": ["logged-in"]}).raise_for_status()


def codes(base: str) -> tuple[CodeSources, dict[str, str]]:
    """The client's authenticator seed in $DOCS_TOTP; SMS and email from the replica's outbox."""
    outbox = f"{sys.executable} -m replica.outbox --base {base} --channel"
    env = {"DOCS_TOTP": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}  # the replica seed's client
    return CodeSources("DOCS_TOTP", f"{outbox} sms", f"{outbox} email"), env


def terminal_run(base: str, home: Path) -> None:
    """One `onboard run`, its terminal output recorded and saved as SVG."""
    reset(base)
    src, env = codes(base)
    os.environ.update(env)
    rep = ConsoleReporter()
    rep.err, rep.out = recording(), recording()
    plan = RunPlan(
        request=build_request(
            {"label": "ICG-MM", "ips": IPS, "base_url": base, "allow_private_ip": True}
        ),
        session=SessionSpec(headless=True),
        options=Options(pace=0, auto_submit=True, codes=src, step_timeout=10),
    )
    result = execute(plan, rep, Settings(home=home))
    assert result["status"] == "ok", result.get("message")
    rep.panel(result)  # as `onboard run` ends
    # stderr (the steps) then stdout (the panel), as a terminal shows both; export_text with
    # styles gives ANSI, read back as styled text for the one SVG
    svg = recording()
    svg.print(Text.from_ansi(rep.err.export_text(styles=True)), end="")
    svg.print(Text.from_ansi(rep.out.export_text(styles=True)), end="")
    svg.save_svg(str(DOCS / "terminal-run.svg"), title="onboard run --auto-submit --pace 0")


def batch_and_report(base: str, home: Path, work: Path) -> Path:
    """A 4-entry batch, one at a time: the live table when the first entry ends, then the
    report. Returns the report's HTML file."""
    reset(base)
    src, env = codes(base)
    os.environ.update(env)
    roster = work / "clients.yaml"
    entries = "\n".join(
        f"  - {{id: client-{i}, label: ICG-C{i}, ips: [203.0.113.{i}]}}" for i in range(1, 5)
    )
    roster.write_text(
        f"defaults:\n  base_url: {base}\n  allow_private_ip: true\n"
        f"  totp_secret_env: DOCS_TOTP\n  sms_code_cmd: {src.sms_cmd}\n"
        f"  email_code_cmd: {src.email_cmd}\nentries:\n{entries}\n"
    )
    settings = Settings(home=home)
    ros = load_roster(roster, load_named("okx").rules)
    shot = threading.Event()

    def snapshot(v: View, text: str) -> None:
        # the first entry done, the next at its security verification: the table as the
        # operator sees it then
        done = any(o.outcome for o in board.views.values())
        if done and v.state == "verifying-human" and not shot.is_set():
            shot.set()
            con = recording()
            con.print(table(board, f"onboard batch {roster.name}"))
            con.save_svg(str(DOCS / "terminal-batch.svg"), title="onboard batch clients.yaml")

    board = Board(snapshot)
    opts = BatchOptions(concurrency=1, headless=True, pace=0, auto_submit=True)
    result = Batch(ros, opts, settings, board, Stop()).run()
    assert shot.is_set() and result.exit_code == 0, result
    j = Journal(settings.journal_file)
    try:
        _, html = report.write(j, result.batch_id, settings, work / "report")
    finally:
        j.close()
    return html


def report_pictures(html: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(**require_browser(headless=True, playwright=p).launch_kwargs())
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(html.as_uri())
        page.screenshot(path=str(DOCS / "report.png"))
        entry = page.locator(".entry").first
        entry.screenshot(path=str(DOCS / "report-entry.png"))
        browser.close()


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onboard-docs-") as tmp, ReplicaServer() as srv:
        work = Path(tmp)
        terminal_run(srv.base_url, work / "home-run")
        html = batch_and_report(srv.base_url, work / "home-batch", work)
        report_pictures(html)
    for name in ("terminal-run.svg", "terminal-batch.svg", "report.png", "report-entry.png"):
        print(f"wrote docs/{name} ({(DOCS / name).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
