"""Optional extras: the bundled replica's web server (starlette, uvicorn, segno) is not a
dependency of the production path (`run`, `batch`, `vault`, `verify`, `subkeys` never import the
replica); `onboard demo` and `onboard replica` need it and say so in one line when it is absent.
Standard library only: the CLI imports this at start-up."""

from __future__ import annotations

import importlib

REPLICA = ("starlette", "uvicorn", "segno")


def missing(modules: tuple[str, ...] = REPLICA) -> list[str]:
    """The modules of an extra that cannot be imported here."""
    out = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            out.append(name)
    return out


def replica_hint(command: str) -> str | None:
    """One line for `onboard COMMAND` when the replica's extra is not installed, else None."""
    gone = missing()
    if not gone:
        return None
    return (
        f"onboard {command} needs the replica extra ({', '.join(gone)} missing): "
        "pip install 'onboard[replica]' (make demo installs it)"
    )
