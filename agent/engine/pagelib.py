"""The agent's own scripts in the page, installed once per document instead of sent with every
call: engines.js's reader (`OB`) and overlay.js's highlight layer.

Why: both were part of the text of most of a run's calls (707 KB over the bench run's 37
`evalOnSelectorAll`), and the page parsed and compiled them again for each one. A renderer
trace of one run showed 265 ms of V8 parsing and compiling against the floor's 75, and a
call that carried them cost the renderer 4.9 ms against 0.8 ms for one that names them.

So the context's init script (`install`) puts both in every document, the reader as
`window.__onboardOB` (read-only: defined once, not writable, frozen) and the layer as
`window.__onboard`, and a call only names them. It goes through `evaluate_all` or
`evaluate`, which check first that the document has them. A document without them (one
already open when the init script was added, or a test's bare page) answers MISSING; they
are then installed in that page and the call is made once more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakSet

from playwright.sync_api import BrowserContext, Locator, Page
from playwright.sync_api import Error as PWError

HERE = Path(__file__).parent


def ascii_js(source: str) -> str:
    """`source` with every non-ASCII character written as a JavaScript escape (`\\uXXXX`, per
    UTF-16 unit): the same program. Chromium's DevTools carries a string with any non-ASCII
    character in it as UTF-16, and V8 keeps such a source two bytes a character: one "—" in a
    comment doubled the size of every document's injected script (the engines ride in it) and
    the renderer's time to take it in (a trace of the bench run: 1.07 MB messages, 3 per world)."""
    return _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], source)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


ENGINES = ascii_js((HERE / "engines.js").read_text())  # defines `const OB`
LAYER = ascii_js((HERE / "overlay.js").read_text())  # defines window.__onboard (per document)
STILL = "window.__onboardStill = true;"  # read by the layer when it is built

MISSING = "onboard: the agent's page scripts are not in this document"
# First thing in every call that uses them.
NEED = f"if (!window.__onboardOB || !window.__onboard) throw new Error({json.dumps(MISSING)});"
# The reader, for a script run within such a call.
OB = "const OB = window.__onboardOB;"
# Defines the reader unless the document has it, as statements for a function's body. The
# reader's source sits in a function declared and called only when needed: a script holding
# this that finds the reader there (an engine's source, below) only skims it.
INSTALL_OB = (
    "if (!window.__onboardOB) Object.defineProperty(window, '__onboardOB', "
    "{ value: __obReader() }); "
    f"function __obReader() {{ {ENGINES}\n; "
    "for (const e of Object.values(OB.engines)) Object.freeze(e); "
    "Object.freeze(OB.engines); return Object.freeze(OB); }"
)

_STILL: WeakSet[BrowserContext] = WeakSet()  # the contexts whose layer is still (install)

T = TypeVar("T")


def script(still: bool) -> str:
    """Both, as the init script of a context (`still`: a window nobody sees, see Overlay)."""
    return (STILL if still else "") + f"(() => {{ {INSTALL_OB} }})();" + LAYER


def install(context: BrowserContext, still: bool = False) -> None:
    """Both in every document of the context from now on: one call."""
    context.add_init_script(script(still))
    if still:
        _STILL.add(context)


def is_still(context: BrowserContext) -> bool:
    return context in _STILL


def engine_source(name: str, carrier: bool) -> str:
    """A selector engine's registration: the reader's engine, looked up when it is used.

    Playwright builds its engines in a document before a page's first look, init scripts or
    not, and evaluates every registered engine's source then, in the same script. So one of
    them (`carrier`) installs the reader where the document has not got it, and the others
    only name it: the reader's source travels and is parsed once per document and world,
    not once per engine (eight copies were a third of each injected script)."""
    if carrier:
        return f'(() => {{ {INSTALL_OB}; return window.__onboardOB.engines["{name}"]; }})()'
    return f'({{ queryAll: (root, body) => window.__onboardOB.engines["{name}"].queryAll(root, body) }})'


def install_here(page: Page) -> None:
    """Both in the page's current document (one that was open before `install`)."""
    page.evaluate(f"() => {{ {script(is_still(page.context))} }}")


def _again(page: Page, run: Callable[[], T]) -> T:
    try:
        return run()
    except PWError as exc:
        if MISSING not in str(exc):
            raise
    try:
        install_here(page)
    except PWError:
        pass  # navigating away: the call below says what is wrong, if anything still is
    return run()


def evaluate_all(target: Locator, js: str, arg: Any = None) -> Any:
    """`target.evaluate_all(js, arg)` for a script `(els, a) => ...` that uses the reader or
    the layer."""
    wrapped = f"(els, a) => {{ {NEED} return ({js})(els, a); }}"
    return _again(target.page, lambda: target.evaluate_all(wrapped, arg))


def evaluate(page: Page, js: str, arg: Any = None) -> Any:
    """`page.evaluate(js, arg)` for a script `(a) => ...` that uses the reader or the layer."""
    wrapped = f"(a) => {{ {NEED} return ({js})(a); }}"
    return _again(page, lambda: page.evaluate(wrapped, arg))
