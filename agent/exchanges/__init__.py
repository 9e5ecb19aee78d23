"""What onboard knows about exchanges outside the flow files: the bundled exchange's name, its
flow (sites, REST hosts, texts, locators, permission names: data, in flows/<name>.yaml), and
one adapter module per exchange for what cannot be data (agent.exchanges.okx: the ccxt client
and the exchange's error codes). Orchestration, custody and batch ask here; none of them names
an exchange itself."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.engine.flow import Flow

DEFAULT = "okx"  # the bundled flow and exchange: flows/okx.yaml, agent/exchanges/okx.py


@cache
def bundled_flow() -> Flow:
    """The bundled flow, loaded once (read it, never change it): its sites and REST hosts."""
    from agent.engine.flow import load_named

    return load_named(DEFAULT)
