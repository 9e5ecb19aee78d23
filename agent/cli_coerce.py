"""Typer's coercion of option values, without a pydantic TypeAdapter where none is needed.

typer (0.2x) builds a pydantic TypeAdapter for every option of a command before coercing its
value, given or not: for `onboard run`, 25 adapters (~50 ms of CPU on every run) of which a
run needs none in the common case. Here, before typer's own `process_value`, the value is
settled without one when that is certain to give what the adapter gives:

- an option not given, with no default (None): None, or () for a repeatable one (typer's own
  `RuntimeParam.coerce` answers that before looking at the adapter);
- text for a plain `str` option: the text; texts for a `list[str]` one: their list; a
  choice's default that is already one of its members: that member;
- an option with a `parser` (onboard's bounded numbers, --sink): the parser's answer when it
  accepts the value. When it refuses, typer's adapter path runs as before and gives the
  refusal it always gave.

Anything else (an enum, a path, a list of choices) goes to typer's adapter as before. Where
typer's internals are not the ones this knows, nothing is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

_MISS = object()


def install() -> None:
    try:
        from typer._coercion import RuntimeParam
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - another typer: its own coercion, unchanged
        return
    if getattr(_TyperParameter, "_onboard_lean", False):
        return
    typer_process_value = _TyperParameter.process_value

    @dataclass(frozen=True)
    class Settled(RuntimeParam):  # type: ignore[misc]
        """The value already coerced (RuntimeParam.coerce still answers None itself)."""

        got: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return self.got

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        got = _settle(self, value) if getattr(self, "_runtime_param", 0) is None else _MISS
        if got is _MISS:
            return typer_process_value(self, ctx, value)
        desc = self.type_descriptor
        self._runtime_param = Settled(desc.parameter_info, desc.annotation, got)
        try:
            return typer_process_value(self, ctx, value)
        finally:
            self._runtime_param = None  # the next value is settled afresh

    _TyperParameter.process_value = process_value  # type: ignore[method-assign]
    _TyperParameter._onboard_lean = True  # type: ignore[attr-defined]


def _settle(param: Any, value: Any) -> Any:
    """`value` as typer's adapter would return it, or _MISS when only the adapter can say."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None or desc.file_annotation is not None:
        return _MISS
    multi = param.multiple or param.nargs == -1
    if value is None:
        return None  # RuntimeParam.coerce answers it; Settled is never asked
    info, ann = desc.parameter_info, desc.annotation
    if multi:
        texts = isinstance(value, (list, tuple)) and all(type(v) is str for v in value)
        return list(value) if ann == list[str] and info.parser is None and texts else _MISS
    if info.parser is not None:
        try:
            return info.parser(value)
        except Exception:
            return _MISS  # refused: typer's path says so, as it always has
    if isinstance(ann, type) and issubclass(ann, Enum) and isinstance(value, ann):
        return value  # a default already one of the choices: typer's choice check returns it
    if ann is str and type(value) is str:
        return value
    return _MISS
