"""`onboard batch ROSTER`: the command's body, given its options as one BatchArgs (agent.cli_onboard
keeps only the signature); imported when the command runs (rich, the batch runner)."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from agent.batch import Batch, BatchOptions, Board, Stop, View
from agent.config import ConfigError, Settings, dir_problem
from agent.console import clock
from agent.custody.redact import redact
from agent.exitcodes import AgentError, Exit

STYLE = {"ok": "green", "skipped": "green", "failed": "red", "interrupted": "red",
         "flagged": "bold yellow"}  # fmt: skip


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def overall(board: Board, now: float | None = None) -> str:
    """One line above the table: N/M done, failures, throughput and the time still needed."""
    p = board.progress(now)
    parts = [f"{p.done}/{p.total} done"]
    if p.running:
        parts.append(f"{p.running} running")
    parts.append(f"{p.failed} failed")
    if p.flagged:
        parts.append(f"[bold yellow]{p.flagged} flagged[/]")
    if p.per_hour:
        parts.append(f"{p.per_hour:.1f}/h")
    if p.eta is None:
        parts.append("ETA when the first entry ends")
    elif p.done < p.total:
        parts.append(f"ETA {_clock(p.eta)}")
    return " · ".join(parts)


def table(board: Board, title: str, now: float | None = None) -> Table:
    """The live table. Messages wrap at spaces (never cut inside a word); a single word wider
    than its column ends in an ellipsis."""
    t = Table(title=f"{escape(title)}\n{overall(board, now)}", expand=False)
    for col in ("entry", "label", "account", "state", "time"):
        t.add_column(col, overflow="ellipsis")
    t.add_column("now", overflow="ellipsis", min_width=24, max_width=70)
    t.add_column("result", overflow="ellipsis")
    with board.lock:
        views = list(board.views.values())
    now_ = time.monotonic() if now is None else now
    for v in views:
        # page and exchange texts are text, never rich markup
        left = f" [dim]({clock(v.until - now_)} left)[/]" if v.until is not None else ""
        now_text = (
            f"[bold yellow]waiting: {escape(redact(v.waiting))}[/]{left}"
            if v.waiting
            else escape(redact(v.note if v.outcome else v.step))
        )
        t.add_row(
            escape(v.id), escape(v.label), escape(v.account), v.state, _clock(v.elapsed(now)) if v.started else "",
            now_text, f"[{STYLE.get(v.outcome, '')}]{v.outcome}[/]" if v.outcome else "",
        )  # fmt: skip
    waiting = [f"{v.id}: {v.waiting}" for v in views if v.waiting]
    if waiting:
        t.caption = escape(redact("waiting for a human — " + "; ".join(waiting)))
    return t


@dataclass
class BatchArgs:
    """`onboard batch`'s options, by name (agent.cli_onboard.batch fills it): the roster, how
    to resume it, where the reports go, and the options every entry runs with."""

    roster: Path
    options: BatchOptions
    resume: str | None = None
    fresh: bool = False
    retry: list[str] = field(default_factory=list)
    report_dir: Path | None = None
    as_json: bool = False
    operator_codes: bool = False


def run_batch_command(args: BatchArgs) -> int:
    """One batch: the roster checked whole, then its entries, a live board, the reports."""
    from agent import report, roster
    from agent.engine.flow import FlowError, load_named
    from agent.session import browser_ws_problem

    err = Console(stderr=True, highlight=False)

    def fail(msg: str, code: int = int(Exit.BAD_INPUT)) -> int:
        print(f"error: {redact(msg)}", file=sys.stderr)
        return code

    if args.resume and args.fresh:
        return fail("give only one of --resume and --fresh")
    for ep in args.options.browser_pool:
        if browser_ws_problem(ep.ws):
            return fail(browser_ws_problem(ep.ws) or "")
    if len({ep.ws for ep in args.options.browser_pool}) < len(args.options.browser_pool):
        return fail("--browser-ws: the same browser server is given twice")
    # The report is written after every entry ran: a place it cannot go is said now.
    problem = dir_problem(args.report_dir) if args.report_dir is not None else None
    if problem:
        return fail(f"--report {args.report_dir}: {problem}")
    try:
        settings = Settings()
        flow_obj = load_named(args.options.flow)
    except ConfigError as exc:
        return fail(exc.message)
    except FlowError as exc:
        return fail(str(exc))
    try:
        ros = roster.load(args.roster, flow_obj.rules, flow_obj.sites)
    except roster.RosterError as exc:
        for line in exc.lines:
            print(f"error: {redact(line)}", file=sys.stderr)
        return int(Exit.BAD_INPUT)
    opts = args.options
    live_tty = err.is_terminal

    def announce(v: View, text: str) -> None:
        if not live_tty or "waiting" in text or v.outcome in ("failed", "flagged"):
            err.print(text, markup=False)

    board = Board(announce)
    stop = Stop()
    batch = Batch(ros, opts, settings, board, stop)
    batch.operator_codes = args.operator_codes
    batch.notice = lambda line: err.print(redact(line), markup=False)

    def on_sigint(_sig: int, _frame: Any) -> None:
        if not stop.soft.is_set():
            stop.soft.set()
            err.print(
                "[yellow]! Ctrl-C: stopping. No new entries; entries before submit stop now; "
                "entries past submit finish storing their key. Ctrl-C again stops them too.[/]"
            )
        else:
            stop.hard.set()
            err.print("[red]! Ctrl-C again: stopping every entry[/]")

    old = signal.signal(signal.SIGINT, on_sigint)
    restore_tty = _start_code_reader(batch, err) if args.operator_codes else None
    try:
        if live_tty:
            with Live(
                get_renderable=lambda: table(board, f"onboard batch {ros.path.name}"),
                console=err,
                refresh_per_second=4,
            ):
                result = batch.run(resume=args.resume, fresh=args.fresh, retry=args.retry)
        else:
            result = batch.run(resume=args.resume, fresh=args.fresh, retry=args.retry)
    except AgentError as exc:
        return fail(exc.message, int(exc.code))
    finally:
        signal.signal(signal.SIGINT, old)
        if restore_tty:
            restore_tty()
    from agent.journal import Journal

    j = Journal(settings.journal_file)
    try:
        paths = report.write(j, result.batch_id, settings, args.report_dir)
        summ = report.summary(j, result.batch_id, settings)
    finally:
        j.close()
    if args.as_json:
        out = {
            "batch_id": result.batch_id,
            "resumed": result.resumed,
            "interrupted": result.interrupted,
            "exit_code": result.exit_code,
            "counts": summ["counts"],
            "report": {"json": str(paths[0]), "html": str(paths[1])},
            "entries": [
                {k: en[k] for k in ("id", "label", "account", "outcome", "reached", "next")}
                | {"result": en["result"]}
                for en in summ["entries"]
            ],
        }
        print(redact(json.dumps(out, indent=2)))
    else:
        Console(highlight=False).print(table(board, f"onboard batch {result.batch_id}"))
    for en in summ["entries"]:
        if en["outcome"] == "flagged":
            err.print(f"[bold red]! {en['id']}: {redact(en['next'])}[/]")
    err.print(f"report: {paths[1]}  (JSON: {paths[0]})", markup=False)
    if result.resumed:
        err.print(f"resumed batch {result.batch_id}", markup=False)
    return result.exit_code


def _start_code_reader(batch: Batch, err: Console) -> Any:
    """Operator codes: lines `<entry> <code>` on stdin go to that entry (echo off on a TTY)."""
    restore = None
    if sys.stdin.isatty():
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        quiet = list(saved)
        quiet[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, quiet)

        def restore() -> None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    def read() -> None:
        for line in sys.stdin:
            if line.strip():
                err.print(batch.deliver_code(line), markup=False)

    threading.Thread(target=read, name="operator-codes", daemon=True).start()
    return restore
