"""What the operator sees: a ticking step list, a spinner while a human is needed, a final panel.

Progress goes to stderr so `--json` keeps stdout machine-clean. Every string
passes the redaction layer on its way out.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.table import Table

from agent.custody.redact import redact
from agent.exitcodes import AgentError, Exit


class ConsoleReporter:
    def __init__(self, quiet: bool = False) -> None:
        self.err = Console(stderr=True, highlight=False)
        self.out = Console(highlight=False)
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
        m, s = divmod(int(elapsed), 60)
        lm, ls = divmod(int(limit), 60)
        text = redact(
            f"[bold yellow]Waiting for the client[/]: {say}  [dim]{m}:{s:02d} / {lm}:{ls:02d}[/]"
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

    def ask_secret(self, prompt: str) -> str:
        self.done_waiting()
        if not sys.stdin.isatty():
            raise AgentError(
                f"needed at the terminal ({prompt}) but there is no terminal", Exit.HUMAN_TIMEOUT
            )
        import getpass

        return getpass.getpass(f"{prompt}: ")

    def panel(self, result: dict[str, Any]) -> None:
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
