"""The locator contract, checked on a recorded fixture page (no waiting, nothing clicked):
the helpers each verb's `contract` uses to say whether the flow still finds its elements,
and, when it does not, which candidates it tried."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

from agent.engine.context import Vars
from agent.engine.flow import Loc
from agent.engine.locate import to_locator

Scope = Page | Locator

_CLICKABLE_JS = """el => {
  const tag = el.tagName.toLowerCase(); const role = (el.getAttribute('role') || '').toLowerCase();
  const disabled = el.disabled === true || el.getAttribute('aria-disabled') === 'true';
  const kind = ['button', 'a', 'summary', 'label'].includes(tag) || (tag === 'input' &&
      ['button', 'submit', 'radio', 'checkbox'].includes((el.type || '').toLowerCase())) ||
    ['button', 'link', 'menuitem', 'tab', 'option', 'radio', 'checkbox', 'switch', 'combobox']
      .includes(role) || getComputedStyle(el).cursor === 'pointer' || el.hasAttribute('tabindex');
  return {kind, disabled, tag, role};
}"""


class Fail(Exception):
    """The flow does not fit the recorded page: why, and the candidates tried."""

    def __init__(self, detail: str, tried: list[str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.tried = tried or []


def vis(scope: Scope, loc: Loc, vars: Vars) -> Locator:
    return to_locator(scope, loc, vars).filter(visible=True)


def resolve(
    scope: Scope, cands: list[Loc], vars: Vars, editable: bool = False, tick: bool = False
) -> tuple[Locator | None, list[str]]:
    """Like Resolver.one without waiting: the first candidate with exactly one visible match."""
    tried = []
    for c in cands:
        found = to_locator(scope, c, vars, editable, tick).filter(visible=True)
        n = found.count()
        if n == 1 and editable and not found.is_editable():
            tried.append(f"{c.describe()} -> 1 match, not editable")
            continue
        tried.append(f"{c.describe()} -> {n} match(es)")
        if n == 1:
            return found, tried
    return None, tried


def one(scope: Scope, cands: list[Loc], vars: Vars, what: str, editable: bool = False) -> Locator:
    el, tried = resolve(scope, cands, vars, editable)
    if el is None:
        kind = "editable visible element" if editable else "visible element"
        raise Fail(f"no candidate gave exactly one {kind} for {what}", tried)
    return el


def clickable(el: Locator, what: str, tried: list[str]) -> None:
    info: dict[str, Any] = el.evaluate(_CLICKABLE_JS)
    if not info["kind"]:
        raise Fail(f"{what} resolves to a <{info['tag']}> that is not clickable", tried)
    if info["disabled"]:
        raise Fail(f"{what} resolves to a disabled element", tried)
