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


def adapter(exchange: str) -> ModuleType:
    """The adapter module of `exchange` (a flow's `exchange`, a Credential's): agent.exchanges.okx
    for OKX. Its PERMISSIONS are the REST names of the permissions every key is made with."""
    if not exchange.isidentifier():
        raise ValueError(f"no adapter for exchange {exchange!r}")
    return importlib.import_module(f"agent.exchanges.{exchange}")
