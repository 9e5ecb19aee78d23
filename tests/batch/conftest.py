"""Batch tests: real CLI processes, real browsers, the live replica, pre-logged-in profiles."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import CLIENT


def write_roster(path: Path, entries: list[dict[str, Any]], **defaults: Any) -> Path:
    doc: Any = {"defaults": defaults, "entries": entries} if defaults else entries
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def issued(replica: Any) -> list[dict[str, Any]]:
    return httpx.get(f"{replica.base_url}/replica/issued").json()["keys"]


def journal_rows(home: Path, sql: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(home / "journal.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql)]
    finally:
        db.close()


@pytest.fixture
def totp_env(replica: Any) -> dict[str, str]:
    return {"CLIENT_TOTP": replica.world.accounts[CLIENT].totp_secret or ""}


# -- Playwright browser servers (`playwright run-server`) on loopback -------------------
LAUNCHED = 'engaged launch mode for "chromium"'
CLEANED_UP = "finished cleanup"


class BrowserServer:
    """`playwright run-server --port 0 --host 127.0.0.1` with its log (DEBUG=pw:server)."""

    def __init__(self, unsafe: bool = True, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-m", "playwright", "run-server", "--port", "0",
               "--host", "127.0.0.1", *(["--unsafe"] if unsafe else [])]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # the wrapper and its node child: one group to stop
            env={**os.environ, "DEBUG": "pw:server", **(env or {})},
        )
        self.lines: list[str] = []
        self.ended = False
        self.cond = threading.Condition()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.ws = self.wait_for(r"Listening on (ws://\S+)", 60).group(1)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip())
                self.cond.notify_all()
        with self.cond:
            self.ended = True  # stdout closed: the server process is gone
            self.cond.notify_all()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    log = "\n".join(self.lines[-30:])
                    raise AssertionError(f"browser server: no {pattern!r} in its log:\n{log}")
                self.cond.wait(left)

    def count(self, text: str) -> int:
        with self.cond:
            return sum(text in line for line in self.lines)

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            self.pump.join(15)  # returns once the node server closed its output (exited)
            if not self.pump.is_alive():
                break
        self.proc.wait(10)


@pytest.fixture
def browser_server() -> Iterator[Callable[..., BrowserServer]]:
    started: list[BrowserServer] = []

    def start(**kw: Any) -> BrowserServer:
        started.append(BrowserServer(**kw))
        return started[-1]

    yield start
    for srv in started:
        srv.stop()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
