"""The operator's prompts: the factor named as the page names it, and the time left to answer.

The names come from the flow (flows/okx.yaml `names`), the time from the human timeout; a
prompt at the terminal counts down on its own line and gives up when the time is out.
"""

from __future__ import annotations

import os
import pty
import queue
import termios
import threading
import time
from typing import Any

import pytest
from rich.console import Console

from agent.batch import Board, EntryReporter, Stop, View
from agent.cli_batch import table
from agent.console import clock, read_secret
from agent.engine.flow import load_named
from agent.engine.human import CodeSources
from agent.exitcodes import AgentError
from agent.request import build_request
from agent.roster import Entry


class Asked:
    """A reporter that records what it was asked and answers with a code."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, float | None]] = []

    def ask_secret(self, prompt: str, timeout: float | None = None) -> str:
        self.asked.append((prompt, timeout))
        return "123456"


def flow_names() -> dict[str, str]:
    [codes] = [s.wait_codes for s in load_named("okx").steps if s.wait_codes]
    return codes.names


def test_the_flow_names_each_factor_as_the_page_does():
    assert flow_names() == {
        "totp": "Authenticator code", "sms": "SMS code", "email": "Email code",
    }  # fmt: skip


def test_an_operator_prompt_uses_the_flows_name_and_the_human_timeout():
    rep = Asked()
    src = CodeSources(prompt={"totp", "sms", "email"})
    for factor, name in flow_names().items():
        assert src.get(factor, rep, name, 540.0) == "123456"
    assert rep.asked == [
        ("Authenticator code (as the client reads it out)", 540.0),
        ("SMS code (as the client reads it out)", 540.0),
        ("Email code (as the client reads it out)", 540.0),
    ]


def test_clock_counts_down_in_whole_seconds_rounded_up():
    assert [clock(s) for s in (600, 599.2, 61, 0.2, 0, -3, 3725)] == [
        "10:00", "10:00", "1:01", "0:01", "0:00", "0:00", "1:02:05",
    ]  # fmt: skip


class Tty:
    """The prompt's output, as a terminal would get it (it says it is one)."""

    def __init__(self) -> None:
        self.text = ""
        self.lock = threading.Lock()

    def write(self, s: str) -> int:
        with self.lock:
            self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def read(self) -> str:
        with self.lock:
            return self.text


def in_background(fn: Any, *args: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def go() -> None:
        try:
            out["value"] = fn(*args)
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    return t, out


def wait_for(cond: Any, timeout: float = 5) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_terminal_prompt_counts_down_unechoed_and_returns_the_line():
    master, slave = pty.openpty()
    try:
        out = Tty()
        t, res = in_background(read_secret, "Authenticator code (as the client reads it out)",
                               120.0, slave, out)  # fmt: skip
        wait_for(lambda: "[2:00 left]: " in out.read())
        wait_for(lambda: "[1:59 left]: " in out.read())  # the line is rewritten as time goes
        assert out.read().count("\r\x1b[K") >= 2
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # what is typed is not shown
        os.write(master, b"654321\n")
        t.join(5)
        assert res == {"value": "654321"}
        assert termios.tcgetattr(slave)[3] & termios.ECHO  # and echo is back
    finally:
        os.close(master)
        os.close(slave)


def test_terminal_prompt_gives_up_at_the_human_timeout():
    master, slave = pty.openpty()
    try:
        out = Tty()
        started = time.monotonic()
        with pytest.raises(AgentError, match="timed out waiting for the operator: SMS code"):
            read_secret("SMS code", 1.2, slave, out)
        assert 1.1 < time.monotonic() - started < 3
        assert "[0:02 left]: " in out.read() and "[0:01 left]: " in out.read()
        assert termios.tcgetattr(slave)[3] & termios.ECHO
    finally:
        os.close(master)
        os.close(slave)


def test_batch_prompt_names_the_factor_and_the_table_counts_down():
    said: list[str] = []
    board = Board(lambda _v, text: said.append(text))
    board.add(View("acct-6", "A6", "main", started=time.monotonic()))
    entry = Entry(
        "acct-6",
        build_request({"label": "A6", "ips": ["203.0.113.7"], "allow_private_ip": True}),
        1,
    )
    codes: queue.Queue[str] = queue.Queue()
    rep = EntryReporter(board, entry, Stop(), None, codes, code_timeout=600)
    t, res = in_background(rep.ask_secret, "Authenticator code (as the client reads it out)",
                           300.0)  # fmt: skip
    wait_for(lambda: bool(board.views["acct-6"].waiting))
    # The shorter of the human timeout and the batch's code timeout, said once and counted.
    assert said == [
        "acct-6: Authenticator code (as the client reads it out): type `acct-6 <code>` "
        "+ Enter (5:00 left)"
    ]
    until = board.views["acct-6"].until
    assert until is not None
    con = Console(record=True, width=200, color_system=None)
    con.print(table(board, "onboard batch", now=until - 61))
    text = con.export_text()
    assert "waiting: Authenticator code (as the client reads it out)" in text
    assert "(1:01 left)" in text
    codes.put("123456")
    t.join(5)
    assert res == {"value": "123456"}
    assert board.views["acct-6"].until is None and not board.views["acct-6"].waiting
