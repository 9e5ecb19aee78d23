"""The flow vocabulary, one module per verb; each registers itself on import (base.register).

Every module in this package is imported here, so a new verb is one new module (with its
field on `agent.engine.flow.Step`) and its tests."""

from __future__ import annotations

import importlib
import pkgutil

from agent.engine.verbs.base import VERBS, Verb, verb_for

for _m in pkgutil.iter_modules(__path__):
    if _m.name != "base":
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["VERBS", "Verb", "verb_for"]
