"""The page-reading engines (engines.js) as Playwright selector engines, and what a control shows.

Registered once per Playwright instance, before pages are used: `ob-field`, `ob-popup`,
`ob-snap`, `ob-dialog`. They let a flow find a field by its visible label, an option by its
text in the list that just opened and a dialog by its title, on pages with no ARIA at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Error as PWError
from playwright.sync_api import Locator, Playwright

from agent.engine import pagelib

NAMES = (
    "ob-field",
    "ob-popup",
    "ob-fresh",
    "ob-snap",
    "ob-dialog",
    "ob-chips",
    "ob-area",
    "ob-tag",
    "ob-self",
    "ob-landed",
)


def register(playwright: Playwright) -> None:
    """Make the engines available to every context of this Playwright (idempotent)."""
    for i, name in enumerate(NAMES):
        try:
            playwright.selectors.register(
                name,
                pagelib.engine_source(name, carrier=i == 0),
                content_script=False,
            )
        except PWError as exc:
            if "already registered" not in str(exc):
                raise


def body(**kw: Any) -> str:
    """An engine's selector body: JSON, which never contains Playwright's ' >> ' separator."""
    return json.dumps({k: v for k, v in kw.items() if v is not None})


def shown(control: Locator, label: str | None = None) -> list[str]:
    """What a control shows a person, piece by piece (a select's value, each of its tags, a
    field's value), without the field's label; for a box that shows nothing itself, the
    nearest one around it that does."""
    got = pagelib.evaluate_all(
        control, f"(els, a) => {{ {pagelib.OB} return els[0] ? OB.shown(els[0], a) : [] }}", label
    )
    return [str(x) for x in got or []]


# Page script for press(before=...): remember what shows before a select opens (ob-popup).
SNAP_JS = f"{pagelib.OB} OB.engines['ob-snap'].queryAll(el)"


def shows(pieces: list[str], text: str) -> bool:
    """Whether `text` is among what shows, as whole words ("Trade" in "Trade ×", not in
    "Trader"); case aside."""
    pat = re.compile(r"(?<![\w])" + re.escape(" ".join(text.split())) + r"(?![\w])", re.I)
    return any(pat.search(" ".join(p.split())) for p in pieces)
