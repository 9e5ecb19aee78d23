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
import traceback
from pathlib import Path
from typing import Any


def caller() -> str:
    """The innermost frames of the agent's own code that made the call (profiling only)."""
    frames = [
        f"{Path(f.filename).stem}.{f.name}"
        for f in traceback.extract_stack()
        if "/agent/" in f.filename or "/bench/floor" in f.filename
    ]
    return " @ " + " < ".join(reversed(frames[-3:]))


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

    def write() -> None:
        with open(out, "w") as f:
            json.dump(dict(counts), f)

    atexit.register(write)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
