"""What onboard knows about exchanges outside the flow files: the bundled exchange's name, its
flow (sites, REST hosts, texts, locators, permission names: data, in flows/<name>.yaml), and
one adapter module per exchange for what cannot be data (agent.exchanges.okx: the ccxt client
and the exchange's error codes). Orchestration, custody and batch ask here; none of them names
an exchange itself."""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.engine.flow import Flow

DEFAULT = "okx"  # the bundled flow and exchange: flows/okx.yaml, agent/exchanges/okx.py


@cache
def bundled_flow() -> Flow:
    """The bundled flow, loaded once (read it, never change it): its sites and REST hosts."""
    from agent.engine.flow import load_named

    return load_named(DEFAULT)


def adapter(exchange: str) -> ModuleType | None:
    """The adapter module of `exchange` (a flow's `exchange`, a Credential's): agent.exchanges.okx
    for OKX; None for an exchange that has only its flow file."""
    if not exchange.isidentifier():
        return None
    name = f"agent.exchanges.{exchange}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def rest_permissions(flow: Flow) -> list[str]:
    """The permissions every key is made with (Read + Trade), in the exchange's REST API's
    words when it has an adapter (OKX: read_only, trade), else in the flow's own (read, trade):
    what a credential record says it may do."""
    mod = adapter(flow.exchange)
    return list(mod.PERMISSIONS) if mod is not None else list(flow.permissions)
