"""Clicking as a person does: on what the pointer actually reaches.

Component libraries lay transparent layers over some widgets (public scripts click such selects with
`force: true`), so Playwright's "receives pointer events" check fails there and its click
waits out the whole step timeout. A person just clicks where the box shows. Before each
click the element is brought into view and the point under its centre is looked at, in
one round trip: the element itself (or something inside it) -> an ordinary click; a layer
inside the same widget -> a real mouse click at that point, said in the log; something
else over it (a banner, a dialog) or a disabled control -> not actionable, and the step
says so at once instead of timing out. `force` is never used.

The ordinary click is a mouse click at that point, guarded: the look that found the point
also arms a one-shot guard in the page, which lets the press through only when it lands on
the element, and swallows it (at the window, in the capture phase, as Playwright's own
hit-target check does) when something else took the point meanwhile. One more call reads
the guard: landed; swallowed -> looked at again and clicked with Playwright's full checks
(stable, receives events); never reached the page -> not actionable. A caller that waits
for the click's effect next folds that read into the wait (agent.engine.pressing.waited:
the effect shown with the guard passed, in one look) and makes it only when that is not
seen at once. Playwright's click
makes those checks on every click, with animation frames waited for each, at about three
times the CPU of this (`python -m bench.actions`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PWError
from playwright.sync_api import Locator, Page

from agent.engine import pagelib
from agent.engine.locate import Then, then_after
from agent.exitcodes import AgentError, Exit

# Disabled the way a person sees it too: greyed controls show a "not allowed" cursor, and
# component libraries mark them with a class ending in "disabled" (a hint, never alone).
DISABLED_JS = """e => e.matches(':disabled') || !!e.closest('[aria-disabled=true]')
  || getComputedStyle(e).cursor === 'not-allowed'
  || [...e.classList].some(c => /(^|[-_])disabled$/.test(c))"""

# Armed on the element the look found, in the top document only (the point is the top
# window's): the next trusted press at that point (pointerdown or mousedown) that lands on the
# element passes and disarms it; one that lands elsewhere is swallowed, with the rest of its
# sequence (up, click) at that point. Presses elsewhere (a person's) are never touched. Every
# look (HIT_JS) first takes off the guard an earlier look left (one not followed by a click:
# a box already ticked), and a guard lapses after 20 s.
GUARD_JS = r"""(el, x, y, name) => {
  const types = ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'auxclick', 'dblclick', 'contextmenu'];
  const g = {state: 'armed', hit: null};
  const here = ev => Math.abs(ev.clientX - x) < 1 && Math.abs(ev.clientY - y) < 1;
  const on = ev => {
    if (!ev.isTrusted || !here(ev)) return;
    if (g.state === 'armed' && (ev.type === 'pointerdown' || ev.type === 'mousedown')) {
      if (ev.composedPath().includes(el)) { g.state = 'passed'; g.off(); return; }
      g.state = 'blocked'; g.hit = name(ev.target instanceof Element ? ev.target : el);
    }
    if (g.state !== 'blocked') return;
    ev.preventDefault(); ev.stopImmediatePropagation();
    if (ev.type === 'click' || ev.type === 'auxclick' || ev.type === 'contextmenu') g.off();
  };
  g.off = () => { clearTimeout(g.t); for (const t of types) window.removeEventListener(t, on, true); };
  for (const t of types) window.addEventListener(t, on, true);
  g.t = setTimeout(() => { g.off(); if (g.state === 'armed') g.state = 'lapsed'; }, 20000);
  window.__obGuard = g;
  return true;
}"""
GUARD_READ_JS = """() => { const g = window.__obGuard; window.__obGuard = null;
  if (!g) return null; g.off(); return {state: g.state, hit: g.hit}; }"""

HIT_JS = rf"""(el, arm = true) => {{
  if (window.__obGuard) {{ window.__obGuard.off(); window.__obGuard = null; }}
  const disabled = ({DISABLED_JS})(el);
  let r = el.getBoundingClientRect();
  if (r.width <= 0 || r.height <= 0) return {{state: 'hidden'}};
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {{
    el.scrollIntoView({{block: 'center', inline: 'center', behavior: 'instant'}});
    r = el.getBoundingClientRect();
  }}
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (disabled) return {{state: 'disabled', x, y}};
  const hit = document.elementFromPoint(x, y);
  const name = e => e.tagName.toLowerCase() + [...e.classList].slice(0, 2).map(c => '.' + c).join('');
  if (!hit || hit === el || el.contains(hit))
    return {{state: 'ok', x, y, guard: arm && window === window.top && ({GUARD_JS})(el, x, y, name)}};
  let common = el;
  while (common && !common.contains(hit)) common = common.parentElement;
  // One widget: nothing else one could use around the two, and not much taller than the target.
  const others = common ? [...common.querySelectorAll('input, textarea, select, button, a[href], [tabindex]')]
    .filter(x => !el.contains(x) && !x.contains(el) && !hit.contains(x) && !x.contains(hit)) : [];
  const same = !!common && common !== document.body && common !== document.documentElement
    && !others.length && common.getBoundingClientRect().height <= Math.max(3 * r.height, r.height + 120);
  // Or layers a person sees through: everything over the element at that point paints
  // nothing (no words, no background, no border), whatever sits around the two. A dialog's
  // dimmed mask paints; a banner has words.
  const clear = e => {{
    const s = getComputedStyle(e);
    const alpha = c => {{ const m = /rgba?\(([^)]*)\)/.exec(c); if (!m) return c === 'transparent' ? 0 : 1;
      const p = m[1].split(','); return p.length > 3 ? parseFloat(p[3]) : 1; }};
    return !(e.innerText || '').trim() && alpha(s.backgroundColor) === 0 && s.backgroundImage === 'none'
      && !(parseFloat(s.borderTopWidth) && alpha(s.borderTopColor));
  }};
  const stack = document.elementsFromPoint(x, y);
  const at = stack.findIndex(e => e === el || el.contains(e));
  const over = at > 0 && stack.slice(0, at).every(e => e.contains(el) || clear(e));
  if (over) return {{state: 'layer', x, y, hit: name(hit)}};
  return {{state: same ? 'layer' : 'covered', x, y, hit: name(hit)}};
}}"""


# Playwright's is_checked as page script: an input's checked state, else an ARIA one; null
# when the element has neither (the caller then asks Playwright, which says why not).
CHECKED_JS = """e => {
  if (e.matches('input[type=checkbox], input[type=radio]')) return e.checked;
  const roles = ['checkbox', 'radio', 'switch', 'menuitemcheckbox', 'menuitemradio', 'option', 'treeitem'];
  const v = e.getAttribute('aria-checked');
  return roles.includes(e.getAttribute('role')) && (v === 'true' || v === 'false') ? v === 'true' : null;
}"""


class NotActionable(AgentError):
    """Found, but a person could not use it now: `why` is disabled, covered, hidden, gone or
    unresponsive."""

    def __init__(self, message: str, why: str = "unresponsive") -> None:
        super().__init__(message, Exit.UI_NOT_UNDERSTOOD)
        self.why = why


def with_hit(then: Then | None, checked: bool = False) -> Then:
    """`then` (the highlight) and the look at what the pointer would reach, in the round trip
    that finds the element: its result (Resolver.then) is `press(hit=...)`'s, a call fewer
    per click. Only for a click made right away: a page that had time to move is looked at
    again. `checked`: with the tick's state too (`checked`: CHECKED_JS's answer)."""
    hit = f"({HIT_JS})(el)"
    if checked:
        hit = f"Object.assign({hit}, {{checked: ({CHECKED_JS})(el)}})"
    return then_after(then, f"return {hit}")


def is_disabled(target: Locator) -> bool:
    # evaluate_all: one round trip (evaluate is three: resolve, run, release).
    return bool(target.evaluate_all(f"els => !!els[0] && ({DISABLED_JS})(els[0])"))


def press(
    page: Page,
    target: Locator,
    what: str,
    log: Callable[[str], Any],
    timeout: float,
    before: str = "",
    hit: dict[str, Any] | None = None,
    careful: bool = False,
    later: list[Callable[[], None]] | None = None,
) -> None:
    """Click `target` where a person would; NotActionable when no person could. `before`:
    page script run on the element (`el`) first, in the same round trip. `hit`: the look at
    the element just made where it was found (with_hit), not made again. `careful`: no guard,
    Playwright's click with its checks (after a guarded click was taken by something else).
    `later`: the guard's read is not made now but put there, for a caller that waits for the
    click's effect next (agent.engine.pressing.waited)."""
    got = hit
    if got is None:
        try:
            arm = "false" if careful else "true"
            js = f"els => {{ const el = els[0]; if (!el) return null; {before}; return ({HIT_JS})(el, {arm}) }}"
            # Only a `before` uses the agent's page scripts (engines.SNAP_JS)
            got = pagelib.evaluate_all(target, js) if before else target.evaluate_all(js)
        except PWError as exc:
            raise NotActionable(f"{what}: it could not be looked at ({_first(exc)})") from None
    hit = got or {"state": "gone"}
    state = hit.get("state")
    if state == "gone":
        raise NotActionable(f"{what}: it went away before it could be clicked", "gone")
    if state == "disabled":
        raise NotActionable(f"{what} is disabled", "disabled")
    if state == "hidden":
        raise NotActionable(f"{what} is not shown", "hidden")
    if state == "covered":
        raise NotActionable(f"{what} is covered by another element ({hit.get('hit')})", "covered")
    try:
        if state == "layer":
            log(
                f"{what}: a layer inside the widget ({hit.get('hit')}) takes the pointer; clicked it where it shows"
            )
            page.mouse.click(hit["x"], hit["y"])
        elif hit.get("guard"):
            page.mouse.click(hit["x"], hit["y"])
            read = functools.partial(_guarded, page, target, what, log, timeout)
            if later is None:
                read()
            else:
                later.append(read)
        else:
            target.click(timeout=timeout * 1000)
    except PWError as exc:
        raise NotActionable(f"{what} did not respond to a click ({_first(exc)})") from None


def _guarded(
    page: Page, target: Locator, what: str, log: Callable[[str], Any], timeout: float
) -> None:
    """After a guarded mouse click: what the guard saw (GUARD_JS)."""
    try:
        seen = page.evaluate(GUARD_READ_JS)
    except PWError:
        return  # the document went away as the click landed: it led on
    state = seen["state"] if seen else "passed"  # no guard: a new document, the click led on
    if state == "passed":
        return
    if state == "lapsed":  # 20 s between the look and the click: it went unguarded
        log(f"{what}: clicked long after it was looked at; the click was not checked")
        return
    if state == "blocked":
        log(f"{what}: {seen['hit']} took the click at its point; looked at again")
        press(page, target, what, log, timeout, careful=True)
        return
    raise NotActionable(f"{what}: the click never reached the page")


def _first(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
