"""Typer's click commands built when a command is looked up, not all at every start.

typer turns every command of the app into a click command (each function's signature, type
hints and options) before it parses the command line: for onboard's commands 44 to 60 ms of
CPU on every start (`python -m bench.startup`), though a process runs one command. Here a
group's commands are noted by name as typer builds the group, and each is built by typer's
own `get_command_from_info`, with the same arguments, the first time the group is asked for
it: parsing `onboard run ...` builds `run`; `--help` and completion list every command and
so build them all, as before. What a command is and does is typer's, unchanged.

Where typer's internals are not the ones this knows, nothing is changed (every command is
built at start, as typer does).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any


class Deferred:
    """A command typer has not built yet: its name (as typer names it) and how to build it."""

    def __init__(self, name: str, build: Callable[[], Any]) -> None:
        self.name = name
        self.build = build


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, in typer's order; each built on its first lookup."""

    def __init__(self, commands: Mapping[str, Any]) -> None:
        self._by_name = dict(commands)

    def __getitem__(self, name: str) -> Any:
        command = self._by_name[name]
        if isinstance(command, Deferred):
            command = self._by_name[name] = command.build()
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._by_name[name] = command

    def __delitem__(self, name: str) -> None:
        del self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


def install() -> None:
    try:
        import typer.main as tm
    except ImportError:  # pragma: no cover - no typer: nothing to change
        return
    group_from_info = getattr(tm, "get_group_from_info", None)
    name_of = getattr(tm, "get_command_name", None)
    if group_from_info is None or name_of is None or not hasattr(tm, "get_command_from_info"):
        return  # pragma: no cover - another typer: its own way
    if getattr(group_from_info, "_onboard_lazy", False):
        return

    def lazy_group(group_info: Any, **how: Any) -> Any:
        # Only while typer builds a group: its commands are noted, each to be built by the
        # function typer had then (a single-command app's command, which typer builds
        # elsewhere, is built at once as before).
        before = tm.get_command_from_info
        build = getattr(before, "builds", before)  # in a group's group: the outer's builder

        def deferred(command_info: Any, **made: Any) -> Deferred:
            name = command_info.name or name_of(command_info.callback.__name__)
            return Deferred(name, functools.partial(build, command_info=command_info, **made))

        deferred.builds = build  # type: ignore[attr-defined]
        tm.get_command_from_info = deferred  # type: ignore[assignment]
        try:
            group = group_from_info(group_info, **how)
        finally:
            tm.get_command_from_info = before
        group.commands = LazyCommands(group.commands)
        return group

    lazy_group._onboard_lazy = True  # type: ignore[attr-defined]
    tm.get_group_from_info = lazy_group
