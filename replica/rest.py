"""Placeholder: OKX REST auth (filled in by the REST work)."""

from __future__ import annotations

from typing import Any

from replica.state import World


def rest_routes(world: World) -> list[Any]:
    return []
