"""What the operator sees: a ticking step list, a spinner while a human is needed, a final panel.

Progress goes to stderr so `--json` keeps stdout machine-clean. Every string
passes the redaction layer on its way out.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console

from agent.custody.redact import redact
from agent.exitcodes import AgentError, Exit

if TYPE_CHECKING:  # a spinner (a terminal only) and the final panel (not with --json): lazily
    from rich.status import Status


def consoles() -> tuple[Console, Console]:
    """A command's stdout (its results, `--json`) and stderr (progress and errors), neither
    highlighting: what is printed is what the text says."""
    return Console(highlight=False), Console(stderr=True, highlight=False)


def clock(seconds: float) -> str:
    """m:ss (h:mm:ss from an hour), whole seconds rounded up: a countdown shows 0:01 until
    the time is really out, and 10:00 at the start of ten minutes."""
    m, s = divmod(max(0, math.ceil(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def read_secret(prompt: str, timeout: float | None, fd: int, out: IO[str]) -> str:
    """One line typed at the terminal `fd`, not echoed, with the time left on the prompt.

    getpass cannot say how long is left nor give up: this rewrites the prompt's line each
    second on a terminal (once elsewhere) and raises AgentError when `timeout` runs out, the
    human timeout the code would otherwise wait for anyway. Echo is restored in every case."""
    import select
    import termios

    end = None if timeout is None else time.monotonic() + timeout
    live = out.isatty()
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO  # canonical mode stays: the line arrives whole on Enter
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    typed = b""
    shown = ""
    try:
        while True:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                out.write("\n")
                out.flush()
                raise AgentError(
                    f"timed out waiting for the operator: {prompt}", Exit.HUMAN_TIMEOUT
                )
            line = f"{prompt}{'' if left is None else f' [{clock(left)} left]'}: "
            if line != shown and (live or not shown):
                out.write(("\r\x1b[K" if live else "") + line)
                out.flush()
                shown = line
            ready, _, _ = select.select([fd], [], [], None if left is None else min(1.0, left))
            if ready:
                chunk = os.read(fd, 1024)
                if not chunk:
                    raise AgentError(f"the terminal closed: {prompt}", Exit.HUMAN_TIMEOUT)
                typed += chunk
                if b"\n" in typed:
                    out.write("\n")
                    out.flush()
                    return typed.split(b"\n", 1)[0].decode(errors="replace").rstrip("\r")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class ConsoleReporter:
    def __init__(self, quiet: bool = False) -> None:
        self.out, self.err = consoles()
        self.quiet = quiet
        self._status: Status | None = None

    def _print(self, text: str) -> None:
        if not self.quiet:
            self.done_waiting()
            self.err.print(redact(text))

    def step(self, n: int, total: int, caption: str, status: str, detail: str = "") -> None:
        """A step as it starts (a spinner with the step, until it ends), done, skipped or
        failed; `n` 0 is the set-up before the first step (the browser starting)."""
        where = f"{n:>2}/{total} " if n else ""
        if status == "running":
            self._spin(f"{where}{caption}…")
        elif status == "done":
            self._print(f"[green]✓[/] {where}{caption}")
        elif status == "skipped":
            self._print(f"[dim]–  {where}{caption} (skipped: not on this page)[/]")
        elif status == "failed":
            self._print(f"[red]✗[/] {where}{caption}: {detail}")

    def _spin(self, text: str) -> None:
        if self.quiet or not self.err.is_terminal:
            return
        if self._status is None:
            self._status = self.err.status(redact(text), spinner="dots")
            self._status.start()
        else:
            self._status.update(redact(text))

    def waiting(self, say: str, elapsed: float, limit: float) -> None:
        if self.quiet:
            return
        text = redact(
            f"[bold yellow]Waiting for the client[/]: {say}  [dim]{clock(limit - elapsed)} left[/]"
        )
        if self._status is None:
            self._status = self.err.status(text, spinner="dots")
            self._status.start()
        else:
            self._status.update(text)

    def done_waiting(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def info(self, text: str) -> None:
        self._print(f"[cyan]•[/] {text}")

    def warn(self, text: str) -> None:
        self._print(f"[yellow]![/] {text}")

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        self.done_waiting()
        if not sys.stdin.isatty():
            raise AgentError(
                f"needed at the terminal ({prompt}) but there is no terminal", Exit.HUMAN_TIMEOUT
            )
        return read_secret(prompt, timeout, sys.stdin.fileno(), self.err.file)

    def panel(self, result: dict[str, Any]) -> None:
        from rich.panel import Panel
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        ok = result.get("status") == "ok"
        rest = str((result.get("verification") or {}).get("signed REST", ""))
        done = (
            "created, stored, checked"
            if rest.startswith("ok")
            else "created and stored; signed REST check pending (see below)"
            if rest.startswith("pending")
            else "created, stored, checked on the page; signed REST check not run"
        )
        rows = [
            ("Result", f"[green]{done}[/]" if ok else f"[red]{result.get('message')}[/]"),
            ("Label", result.get("label")),
            ("Account", result.get("account")),
            ("Site", result.get("base_url")),
            ("API key", result.get("api_key_masked")),
            ("Permissions", ", ".join(result.get("permissions") or [])),
            ("IP allowlist", ", ".join(result.get("ips") or [])),
            ("Stored", result.get("stored")),
        ]
        for name, value in (result.get("verification") or {}).items():
            rows.append((f"Check: {name}", value))
        for k, v in rows:
            if v:
                table.add_row(f"[bold]{k}[/]", redact(str(v)))
        self.done_waiting()
        self.out.print(
            Panel(table, title="onboard", border_style="green" if ok else "red", expand=False)
        )
