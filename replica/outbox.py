"""Print the latest SMS or email code the replica "sent": a stand-in for the client's phone.

Used as `--sms-code-cmd "python -m replica.outbox --base URL --channel sms"` in
tests, the demo and the benchmark. It exists only for the replica.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
import urllib.request


def latest(base: str, channel: str, to: str | None = None) -> str | None:
    # urllib, not httpx: this runs as a subprocess per code and should start fast.
    query = urllib.parse.urlencode({"channel": channel})
    with urllib.request.urlopen(f"{base.rstrip('/')}/replica/outbox?{query}", timeout=10) as r:
        data = json.load(r)
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
