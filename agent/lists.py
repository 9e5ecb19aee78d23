"""One list splitter, for every list that arrives as text: a comma-separated field the exchange
shows or returns ("read_only,trade"), a journal or CSV cell, an environment variable, a roster
cell. Standard library only: the CLI's start-up may import it."""

from __future__ import annotations

import re
from collections.abc import Iterable

WHITESPACE = " \t\n\r\f\v"


def split_list(value: object, separators: str = ",") -> list[str]:
    """The items of `value`, stripped, empty ones dropped. `value` is text split at any of the
    `separators` characters, or already a list (each item taken as text); None is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[object] = re.split(f"[{re.escape(separators)}]", value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [value]
    return [str(i).strip() for i in items if str(i).strip()]
