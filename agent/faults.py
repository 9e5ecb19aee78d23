"""Fault injection for durability tests: die with SIGKILL at a named point.

Set ONBOARD_FAULT=<point> (tests only). A real run never sets it; the cost is
one environment lookup at a handful of places around credential custody.
"""

from __future__ import annotations

import os
import signal


def point(name: str) -> None:
    if os.environ.get("ONBOARD_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
