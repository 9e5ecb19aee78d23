"""A pool of Playwright browser servers (`playwright run-server`) for one batch.

Why: on one machine the batch is bound by its cores; each server launches and runs its own
browsers, so the entries that need no profile of their own (firm-owned accounts, or logins
carried as sealed storage state) spread over several machines and this one only
orchestrates. Named by repeated `onboard batch --browser-ws URL` or a roster's top-level
`browser_pool:` (a list of URLs, or of `{ws: URL, concurrency: N}`).

The checks here are the ones made before an endpoint is used: its URL (agent.session's own
rule: plain ws:// only on loopback) and whether it answers at all (`health`, an HTTP
request to the server, which answers it without launching a browser).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

HEALTH_TIMEOUT = 5.0  # seconds for a server to answer one HTTP request


@dataclass(frozen=True)
class Endpoint:
    """One browser server and how many entries it may run at once (None: as many as the
    batch's --concurrency gives it)."""

    ws: str
    concurrency: int | None = None


def health(url: str, timeout: float = HEALTH_TIMEOUT) -> str | None:
    """None when the server at `url` answers an HTTP request; else why not, in a few words.

    Any HTTP answer counts (Playwright's server, or a TLS proxy in front of it): what is
    checked is that something listens and speaks HTTP there, not that it has a browser
    (the first connection says that, in agent.session's words)."""
    u = urlsplit(url)
    secure = u.scheme == "wss"
    port = u.port or (443 if secure else 80)
    host = u.hostname or ""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            sock: Any = raw
            if secure:
                sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host)
            sock.settimeout(timeout)
            path = u.path or "/"
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {u.netloc.rsplit('@', 1)[-1]}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            first = sock.recv(64)
    except ssl.SSLError as exc:
        return f"TLS failed ({exc.reason or exc})"
    except TimeoutError:
        return f"no answer within {timeout:.0f} s"
    except OSError as exc:
        return exc.strerror.lower() if exc.strerror else type(exc).__name__
    if not first.startswith(b"HTTP/"):
        return "not an HTTP server" if first else "closed the connection without an answer"
    return None


def parse_roster_pool(name: str, text: str) -> tuple[list[Endpoint], list[str]]:
    """A YAML roster's top-level `browser_pool:`, with every problem (file:line: what)."""
    from agent.session import browser_ws_problem

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return [], []  # the roster's own parser says where
    if not isinstance(root, yaml.MappingNode):
        return [], []
    node = next((v for k, v in root.value if k.value == "browser_pool"), None)
    if node is None:
        return [], []
    at = f"{name}:{node.start_mark.line + 1}"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        return [], [f"{at}: browser_pool must be a list of ws:// or wss:// URLs"]
    pool: list[Endpoint] = []
    problems: list[str] = []
    for item in node.value:
        line = f"{name}:{item.start_mark.line + 1}"
        value: Any = yaml.safe_load(yaml.serialize(item))
        url, cap = (value, None) if isinstance(value, str) else (None, None)
        if isinstance(value, dict):
            unknown = sorted(set(value) - {"ws", "concurrency"})
            if unknown:
                problems.append(f"{line}: browser_pool: unknown field {unknown[0]!r} "
                                "(known: ws, concurrency)")  # fmt: skip
                continue
            url, cap = value.get("ws"), value.get("concurrency")
        if not isinstance(url, str):
            problems.append(f"{line}: browser_pool: each item is a URL or {{ws: URL, "
                            "concurrency: N}")  # fmt: skip
            continue
        problem = browser_ws_problem(url, "browser_pool")
        if problem:
            problems.append(f"{line}: {problem}")
            continue
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            problems.append(f"{line}: browser_pool: concurrency must be a whole number >= 1")
            continue
        if any(e.ws == url for e in pool):
            problems.append(f"{line}: browser_pool: {url} is listed twice")
            continue
        pool.append(Endpoint(url, cap))
    return pool, problems


def slots_for(pool: list[Endpoint], concurrency: int) -> list[Endpoint | None]:
    """The batch's slots, each bound to an endpoint (None: this machine): round-robin over
    the pool so entries spread, each endpoint up to its own concurrency, `concurrency` in
    all. Without a pool, `concurrency` slots on this machine."""
    if not pool:
        return [None] * concurrency
    out: list[Endpoint | None] = []
    used = {e.ws: 0 for e in pool}
    while len(out) < concurrency:
        free = [e for e in pool if e.concurrency is None or used[e.ws] < e.concurrency]
        if not free:
            break
        for e in free:
            if len(out) < concurrency:
                out.append(e)
                used[e.ws] += 1
    return out
