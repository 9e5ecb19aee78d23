"""A warm batch slot: one Playwright driver and its browsers, kept across the slot's entries.

Why: starting Playwright's driver (a Node process) and a Chromium for every entry cost
more CPU than the entry's own pages. A slot starts them once; each entry gets a fresh
context (its own cookies and storage, closed when the entry ends) in the slot's browser.

Sync Playwright is bound to the thread that started it (its calls run on that thread's
greenlet loop), so "one driver per batch" is, honestly, one driver per slot thread: each
slot is a thread that runs its entries one after another with its own driver. The slot is
found by agent.session through a thread-local (`current`), so `agent.run.execute` needs no
new parameter and a run outside a batch stays as it was (a driver and browser of its own).

Entries that open a client's persistent profile still launch their own browser (one user
data directory, one browser process), but through the slot's driver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

_here = threading.local()


class Slot:
    """The driver and the browsers of one slot thread, started on first use."""

    def __init__(self) -> None:
        self._pw: Playwright | None = None
        self.browsers: dict[str, Browser] = {}
        self.registered = False  # the engines (agent.engine.engines) are on its driver

    def playwright(self) -> Playwright:
        if self._pw is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
        return self._pw

    def browser(self, key: str, start: Callable[[], Browser]) -> Browser:
        """The slot's browser for `key` (what was launched or connected to, and how); started
        again when the last one went away (crashed, or its server died)."""
        b = self.browsers.get(key)
        if b is None or not b.is_connected():
            b = self.browsers[key] = start()
        return b

    def close(self) -> None:
        for b in self.browsers.values():
            try:
                b.close()
            except Exception:
                pass  # already gone with its server
        self.browsers.clear()
        if self._pw is not None:
            try:
                self._pw.stop()
            except Exception:
                pass  # the driver died with the process it ran
            self._pw = None


def current() -> Slot | None:
    """The slot the calling thread runs entries for, if it is a warm batch slot."""
    slot: Slot | None = getattr(_here, "slot", None)
    return slot


@contextmanager
def bound(slot: Slot) -> Iterator[Slot]:
    """Make `slot` this thread's for the block; its driver and browsers stop at the end."""
    _here.slot = slot
    try:
        yield slot
    finally:
        _here.slot = None
        slot.close()
