"""Print the latest SMS or email code the replica "sent": a stand-in for the client's phone.

Used as `--sms-code-cmd "python -m replica.outbox --base URL --channel sms"` in
tests, the demo and the benchmark. It exists only for the replica.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import urllib.parse


def _get(url: str) -> bytes:
    """A bare HTTP/1.0 GET to the loopback replica.

    Not urllib.request or httpx: this runs as a process per code, and importing either
    costs 70-100 ms here (the email and ssl packages), three times this whole command."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname or "127.0.0.1"
    with socket.create_connection((host, u.port or 80), timeout=10) as sock:
        target = f"{u.path}?{u.query}" if u.query else u.path
        sock.sendall(f"GET {target} HTTP/1.0\r\nHost: {u.netloc}\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise OSError(f"{url}: {status.decode(errors='replace')}")
    return body


def latest(base: str, channel: str, to: str | None = None) -> str | None:
    query = urllib.parse.urlencode({"channel": channel})
    data = json.loads(_get(f"{base.rstrip('/')}/replica/outbox?{query}"))
    msgs = [m for m in data["messages"] if not to or m["to"] == to]
    return msgs[-1]["code"] if msgs else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", required=True)
    ap.add_argument("--channel", choices=["sms", "email"], required=True)
    ap.add_argument("--to")
    a = ap.parse_args()
    code = latest(a.base, a.channel, a.to)
    if not code:
        print(f"no {a.channel} code in the replica outbox", file=sys.stderr)
        return 1
    print(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
