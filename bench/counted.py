"""`python -m bench.counted OUT MODULE ARGS...`: run MODULE as `python -m MODULE ARGS...` and
write to OUT how many calls it sent to Playwright's driver, by method.

A driver call is one protocol message from this process to Playwright's Node driver
(`Connection.send_message_to_server`): what both the agent and the floor pay per action,
whatever API wrapped it. Fire-and-forget `__waitInfo__` notes are not calls. The hook is one
counter increment per call, the same in both; it is how bench/run.py counts both processes.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import runpy
import sys
import time
import traceback
from pathlib import Path
from typing import Any

_at = [""]
_ms: dict[
    str, float
] = {}  # wall ms spent in the sync calls of each caller (profiling only)  # the agent's frames of the sync API call being made (profiling only)


# How many of the agent's frames name a caller (BENCH_DEPTH, default 3); pagelib's own
# frames are skipped, as every page script goes through it.
_DEPTH = int(os.environ.get("BENCH_DEPTH", "3"))


def caller() -> str:
    return _at[0]


def track_callers() -> None:
    """Each sync API call notes the innermost frames of the agent's code that made it; the
    calls it sends to the driver (from the dispatcher, where that stack is gone) take it."""
    from playwright._impl._sync_base import SyncBase

    sync = SyncBase._sync

    def noting(self: Any, awaitable: Any) -> Any:
        frames = [
            f"{Path(f.filename).stem}.{f.name}"
            for f in traceback.extract_stack()
            if ("/agent/" in f.filename or "/bench/floor" in f.filename)
            and not f.filename.endswith("pagelib.py")
        ]
        _at[0] = " @ " + " < ".join(reversed(frames[-_DEPTH:]))
        t0 = time.perf_counter()
        try:
            return sync(self, awaitable)
        finally:
            _ms[_at[0]] = _ms.get(_at[0], 0.0) + (time.perf_counter() - t0) * 1000

    SyncBase._sync = noting  # type: ignore[method-assign]


def main() -> None:
    out, module, *args = sys.argv[1:]
    from playwright._impl.connection import Connection

    counts: collections.Counter[str] = collections.Counter()
    send = Connection.send_message_to_server

    sites = bool(os.environ.get("BENCH_CALL_SITES"))  # profiling: by the agent's caller too

    def counting(self: Any, object: Any, method: str, params: Any, options: Any) -> Any:
        if method != "__waitInfo__":
            counts[f"{object._type}.{method}" + (caller() if sites else "")] += 1
        return send(self, object, method, params, options)

    Connection.send_message_to_server = counting  # type: ignore[method-assign]
    if sites:
        track_callers()

    def write() -> None:
        with open(out, "w") as f:
            json.dump(dict(counts), f)
        if sites:
            with open(out + ".ms", "w") as f:
                json.dump(_ms, f)

    atexit.register(write)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
