"""Leaving the process when a command is done, without the interpreter's teardown.

After the last line of a command, CPython's finalization takes every module apart and frees
every object one by one: for `onboard run` (Playwright, pydantic, ccxt, the flow models) that
is ~0.15-0.2 s of CPU, after the result was printed and the files were closed, that nothing
needs (measured with strace: no system call between the atexit handlers and the exit).

`leave(code)` does what a normal exit does that matters, then ends the process: the atexit
handlers run (logging's flush, coverage, weakref finalizers, a profiler's report), stdout
and stderr are flushed. It declines (returns, and the caller exits normally) when a
non-daemon thread still runs (a normal exit waits for it), when the code is not a number,
or when flushing fails (a closed pipe: the interpreter's own exit reports it as it always
has).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def leave(code: object) -> None:
    """End the process now with `code` (None is 0), or return when a normal exit is needed."""
    if code is None:
        code = 0
    if not isinstance(code, int) or isinstance(code, bool):
        return
    main = threading.main_thread()
    if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()  # then cleared: a normal exit after this does not run them twice
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code & 0xFF)
