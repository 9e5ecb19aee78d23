"""Fault injection for durability tests: die with SIGKILL, or fail a write, at a named point.

Set ONBOARD_FAULT=<point> (tests only). A real run never sets it; the cost is
one environment lookup at a handful of places around credential custody.
"""

from __future__ import annotations

import errno
import os
import signal


def point(name: str) -> None:
    fault = os.environ.get("ONBOARD_FAULT")
    if fault == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == name.replace(":during", ":enospc"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
