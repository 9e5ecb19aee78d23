"""Print the latest SMS or email code the replica "sent": a stand-in for the client's phone.

Used as `--sms-code-cmd "python -m replica.outbox --base URL --channel sms"` in
tests, the demo and the benchmark. It exists only for the replica.
"""

from __future__ import annotations

import argparse
import sys

import httpx


def latest(base: str, channel: str, to: str | None = None) -> str | None:
    r = httpx.get(f"{base.rstrip('/')}/replica/outbox", params={"channel": channel}, timeout=10)
    r.raise_for_status()
    msgs = [m for m in r.json()["messages"] if not to or m["to"] == to]
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
