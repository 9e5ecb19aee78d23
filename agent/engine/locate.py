"""Turning locator candidates into exactly one element, or a precise refusal.

Candidates are tried in order; one counts when it matches exactly one visible
element. Several matches are never guessed between.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PWTimeout

from agent.engine import engines, pagelib
from agent.engine.flow import Loc
from agent.exitcodes import AgentError, Exit

if TYPE_CHECKING:  # the request's values live with the run's shared state
    from agent.engine.context import Vars


def _pattern(text: str) -> str | re.Pattern[str]:
    """'/regex/flags' -> compiled regex, otherwise the plain string."""
    if len(text) > 1 and text.startswith("/") and text.rfind("/") > 0:
        end = text.rfind("/")
        flags = re.IGNORECASE if "i" in text[end + 1 :] else 0
        return re.compile(text[1:end], flags)
    return text


def _text_re(text: str) -> re.Pattern[str]:
    """The whole text, case and whitespace aside: around it, and how much and which between
    its words (a page that writes a title over two lines, or with two spaces, or a
    no-break space, says the same; Playwright tests a pattern against the raw text)."""
    words = [re.escape(w) for w in text.split()]
    return re.compile(r"^\s*" + r"\s+".join(words) + r"\s*$", re.IGNORECASE)


def to_locator(
    scope: Page | Locator, loc: Loc, vars: Vars, editable: bool = False, tick: bool = False
) -> Locator:
    """The candidate as a Playwright locator. For `field`, what kind of control is wanted:
    `editable` one types into, `tick` a checkbox or radio, else the control one clicks (a
    select's box)."""

    def words(v: str) -> str | re.Pattern[str]:
        # exact: the whole wording, case and surrounding space aside (a site that changes a
        # label's case has not changed what it says); a /pattern/ as written.
        got = _pattern(vars.sub(v))
        return _text_re(got) if loc.exact and isinstance(got, str) else got

    if loc.role:
        name = words(loc.name) if loc.name else None
        out = scope.get_by_role(loc.role, name=name)  # type: ignore[arg-type]
    elif loc.label:
        out = scope.get_by_label(words(loc.label))
    elif loc.placeholder:
        out = scope.get_by_placeholder(words(loc.placeholder))
    elif loc.text and loc.popup:
        out = scope.locator("ob-popup=" + engines.body(text=vars.sub(loc.text)))
    elif loc.text:
        out = scope.get_by_text(words(loc.text))
    elif loc.field:
        out = scope.locator(
            "ob-field="
            + engines.body(label=vars.sub(loc.field), editable=editable or None, tick=tick or None)
        )
    elif loc.dialog:
        out = scope.locator("ob-dialog=" + engines.body(title=vars.sub(loc.dialog)))
    else:
        out = scope.locator(vars.sub(loc.css or ""))
    if loc.popup and not loc.text:
        out = out.and_(scope.locator("ob-fresh=x"))
    if loc.has_text:
        out = out.filter(has_text=_text_re(vars.sub(loc.has_text)))
    if loc.nth is not None:
        out = out.nth(loc.nth)
    return out


@dataclass
class Tried:
    loc: Loc
    count: int


# Playwright's "editable" (enabled and not read-only, for a field one can type in), as one
# expression, so a candidate's count and this check cost one round trip, not two.
EDITABLE_JS = """e => {
  if (e.matches(':disabled') || e.closest('[aria-disabled=true]')) return false;
  if (e.matches('input, textarea, select')) return !e.hasAttribute('readonly');
  if (e.isContentEditable) return true;
  const roles = ['textbox', 'searchbox', 'combobox', 'spinbutton', 'listbox'];
  return roles.includes(e.getAttribute('role')) && e.getAttribute('aria-readonly') !== 'true';
}"""


# Among look-alikes, what a person can actually see: a copy kept off screen, clipped to a
# pixel or fully transparent (Playwright calls those visible) is no choice. Used only to
# narrow several matches, never to reject a single one (a dialog fading in starts at 0).
PERCEIVABLE_JS = """e => {
  const r = e.getBoundingClientRect();
  if (r.width < 4 || r.height < 4 || r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return false;
  for (let a = e, up = 0; a && a !== document.body && up < 8; a = a.parentElement, up++) {
    const s = getComputedStyle(a);
    if (parseFloat(s.opacity) === 0) return false;
    if (s.overflow !== 'visible') {
      const b = a.getBoundingClientRect();
      if (b.width < 4 || b.height < 4) return false;
    }
  }
  return true;
}"""


@dataclass(frozen=True)
class Then:
    """Page script run on the single match in the same round trip (the highlight box, and
    for a click the look at what the pointer would reach: agent.engine.press.with_hit).

    `js` sees the element as `el` and `arg` as `a.then`; what it returns is `Resolver.then`."""

    js: str
    arg: dict[str, Any]


def then_after(first: Then | None, js: str, arg: dict[str, Any] | None = None) -> Then:
    """`first` (the highlight box; None when the layer is off), then `js` on the same element
    in the same call: `js`'s answer is the Then's, and the two args are one (`a.then`)."""
    head = f"{first.js}; " if first else ""
    return Then(head + js, {**(first.arg if first else {}), **(arg or {})})


@dataclass(frozen=True)
class Rider:
    """What a step asks of the first call that reads its page (the runner's: the step's
    banner, and the look for anything covering the page), so that neither costs a round
    trip of its own. `js` runs once in the page (`a.ride` is `arg`); whether `watch` has any
    match goes to `seen` right after that call. Carried by `one`, `any_visible` and
    `wait_any`; `flush` makes it a call of its own when a step acts before reading."""

    js: str
    arg: dict[str, Any]
    watch: Locator | None
    seen: Callable[[bool], None]


# Page script for the carrying call: the rider's script, and whether its watch matched (its
# anchor, the document's root element, is among the elements, first: DOM order), which is
# then taken out of them. `els`, `a.ride` in scope.
_RIDE_JS = """const root = document.documentElement;
  const watched = !!a.ride && a.ride.watch && els.includes(root);
  if (watched) els = els.filter(e => e !== root);
  if (a.ride) { (() => { RIDE })(); }"""


def _ride_js(rider: Rider | None) -> str:
    return _RIDE_JS.replace("RIDE", rider.js if rider else "")


_calls = itertools.count(1)  # numbers each union call's `ob-tag` notes


@dataclass(frozen=True)
class Look:
    """A question `Resolver.one` answers (its candidates, the kind of element, the page script
    run on it), put as data so several can be asked in one call (`Resolver.ahead`)."""

    cands: list[Loc]
    editable: bool = False
    then: Then | None = None


@dataclass(frozen=True)
class Group:
    """One question of a call over several (`Resolver._ask`): its candidates as locators."""

    looks: list[Locator]
    editable: bool
    then: Then | None


class Resolver:
    def __init__(self, page: Page, vars: Vars, timeout: float) -> None:
        self.page = page
        self.vars = vars
        self.timeout = timeout
        self.then: Any = None  # what the last `one` call's Then returned (None: none ran)
        self.rider: Rider | None = None  # carried by the next call that reads the page
        self._ahead: dict[str, tuple[Locator, Any]] = {}  # answers asked ahead (`ahead`)

    def ride(self, rider: Rider) -> None:
        self.rider = rider

    def _take(self, found: Locator) -> tuple[Locator, Rider | None, dict[str, Any] | None]:
        """The pending rider, taken (told once): the locator that also holds its watch's
        anchor (the root element, when the watch has a match), and its part of the arg."""
        rider, self.rider = self.rider, None
        if rider is None:
            return found, None, None
        arg = {**rider.arg, "watch": rider.watch is not None}
        if rider.watch is not None:
            found = found.or_(self.page.locator("html").filter(has=rider.watch))
        return found, rider, arg

    def flush(self) -> None:
        """The pending rider as a call of its own (a step that acted, or ended, before any
        read carried it)."""
        if self.rider is not None:
            self.any_visible([Loc(css="head")])  # never shown: only the rider's look counts

    def looks(
        self,
        cands: list[Loc],
        watch: list[Loc],
        scope: Page | Locator | None = None,
        also: list[Loc] | None = None,
    ) -> tuple[bool, bool, bool]:
        """Whether any candidate shows (in `scope`), whether any of `watch` shows on the page,
        and whether any of `also` shows (in `scope`): one call, which also carries the pending
        rider (each candidate counted, as `one` counts them)."""
        sc = scope or self.page
        groups = [
            Group([self.visible(where, c) for c in cs], False, None)
            for cs, where in ((cands, sc), (watch, self.page), (also or [], sc))
        ]
        asked = [g for g in groups if g.looks]
        if not asked:
            self.flush()
            return False, False, False
        answers = iter(self._ask(asked))
        shown = [any(n > 0 for n in next(answers)[0]) if g.looks else False for g in groups]
        return shown[0], shown[1], shown[2]

    def _count_riding(self, union: Locator) -> int:
        """How many `union` matches, with the pending rider: one call."""
        loc, rider, ride = self._take(union)
        if rider is None:
            return union.count()
        n, watched = pagelib.evaluate_all(
            loc,
            f"(els, a) => {{ {_ride_js(rider)}; return [els.length, watched] }}",
            {"ride": ride},
        )
        rider.seen(bool(watched))
        return int(n)

    def visible(
        self, scope: Page | Locator, loc: Loc, editable: bool = False, tick: bool = False
    ) -> Locator:
        return to_locator(scope, loc, self.vars, editable, tick).filter(visible=True)

    def any_visible(self, cands: list[Loc], scope: Page | Locator | None = None) -> bool:
        return bool(cands) and self._count_riding(self.union(cands, scope)) > 0

    def union(self, cands: list[Loc], scope: Page | Locator | None = None) -> Locator:
        """Every visible match of any candidate, as one locator (one round trip to count).

        It ends in `ob-self` (each element itself), which keeps its counts and waits in the
        page's main world, where the agent's own calls run: Playwright would run a look made
        only of its own engines in a second world, whose script (some 350 KB) it builds in
        each document first (in the bench run: the list page before and after, for one
        wait each; 20 to 35 ms of CPU per document, python -m bench.docs)."""
        sc = scope or self.page
        out = self.visible(sc, cands[0])
        for c in cands[1:]:
            out = out.or_(self.visible(sc, c))
        return out.locator("ob-self=x")

    def wait_any(
        self,
        cands: list[Loc],
        timeout: float,
        scope: Page | Locator | None = None,
        landed: bool = False,
    ) -> bool:
        """Wait (on the page's own events, no polling sleep) until any candidate shows.
        `landed`: and the last guarded click landed (the `ob-landed` engine: its guard passed,
        or a new document), so that a click's effect seen needs no read of the guard."""
        union = self.union(cands, scope)
        if landed:
            union = self.page.locator("ob-landed=x").filter(has=union)
        if self.rider is not None and self._count_riding(union):
            return True  # it shows: the look that carried the rider answers
        try:
            union.first.wait_for(state="visible", timeout=max(timeout, 0.001) * 1000)
        except PWTimeout:
            return False
        return True

    def probe(self, found: Locator, editable: bool, then: Then | None) -> tuple[int, bool, int]:
        """How many match, whether exactly one is usable (for a field: the one editable among
        look-alikes, a disabled copy being no choice), its index, and `then` run on it: one call
        (`_ask` on this look alone, so the index is in the look's own order). What `then`
        returns is kept in `self.then`."""
        ((counts, win, got, at),) = self._ask([Group([found], editable, then)])
        self.then = got
        return abs(counts[0]), win == 0, at

    def tagged(self, looks: list[Locator]) -> tuple[Locator, int]:
        """The looks as one locator whose elements say which look matched them (the `ob-tag`
        engine), for one call over all of them, and that call's number."""
        n = next(_calls)
        union = looks[0].locator("ob-tag=" + engines.body(n=n, i=0))
        for i, look in enumerate(looks[1:], 1):
            union = union.or_(look.locator("ob-tag=" + engines.body(n=n, i=i)))
        return union, n

    def _ask(
        self, groups: list[Group], soft: bool = False
    ) -> list[tuple[list[int], int, Any, int]]:
        """Several `one` questions in one call. For each group (its looks in order): how many
        each look matches (-1: one match, but not a field one can type in), the first whose
        matches hold exactly one usable element (-1: none), the group's `then` run on that
        element, and its index among that look's matches (in the union's document order, which
        is the look's own when it is asked alone). Among several matches a field needs the one
        editable one, and look-alikes are narrowed to what a person can perceive. `soft`: a
        group whose script throws answers nothing (-1), and the others still answer."""
        union, n = self.tagged([look for g in groups for look in g.looks])
        loc, rider, ride = self._take(union)
        thens = ", ".join(f"(el, a) => {{ {g.then.js if g.then else ''} }}" for g in groups)
        js = (
            f"(els, a) => {{ {_ride_js(rider)}; const t = window.__obTag; window.__obTag = null; "
            f"const tags = t && t.n === a.n ? t.m : new WeakMap(); const thens = [{thens}]; "
            f"const out = []; let base = 0; a.groups.forEach((g, j) => {{ const counts = []; "
            f"let win = -1, got = null, at = -1; for (let i = 0; i < g.k; i++) {{ "
            f"const mine = els.filter(e => (tags.get(e) || []).includes(base + i)); "
            f"counts.push(mine.length); if (win >= 0) continue; "
            f"let use = g.editable ? mine.filter(e => ({EDITABLE_JS})(e)) : mine; "
            f"if (use.length > 1) use = use.filter({PERCEIVABLE_JS}); "
            f"if (use.length !== 1) {{ if (mine.length === 1) counts[i] = -1; continue; }} "
            f"win = i; at = mine.indexOf(use[0]); if (g.then) {{ try {{ got = thens[j](use[0], {{ then: g.arg }}); }} "
            f"catch (e) {{ if (!a.soft) throw e; win = -1; at = -1; break; }} }} }} "
            f"base += g.k; out.push([counts, win, got === undefined ? null : got, at]); }}); "
            f"return [out, watched]; }}"
        )
        arg = [{"k": len(g.looks), "editable": g.editable, "then": g.then is not None,
                "arg": g.then.arg if g.then else {}} for g in groups]  # fmt: skip
        out, watched = pagelib.evaluate_all(
            loc, js, {"n": n, "groups": arg, "ride": ride, "soft": soft}
        )
        if rider is not None:
            rider.seen(bool(watched))
        return [([int(c) for c in counts], int(win), got, int(at)) for counts, win, got, at in out]

    def probe_all(
        self, looks: list[Locator], editable: bool, then: Then | None
    ) -> tuple[list[int], int]:
        """Every look counted in one call (`_ask`), `then`'s answer kept in `self.then`."""
        ((counts, win, got, _),) = self._ask([Group(looks, editable, then)])
        self.then = got
        return counts, win

    def _key(self, looks: list[Locator], editable: bool, then: Then | None) -> str:
        return json.dumps(
            [[repr(x) for x in looks], editable, then.js if then else None,
             then.arg if then else None], sort_keys=True, default=str,
        )  # fmt: skip

    def ahead(self, asks: list[Look], watch: list[Loc] | None = None) -> bool:
        """Ask several `one` questions now, in one call (the read-back before submit reads
        every field so); each answer that found exactly one element is kept for the `one`
        call asking the same, until then or until the page is acted on (`forget`). Whether
        any of `watch` shows on the page, looked at in the same call."""
        groups = [
            Group([self.visible(self.page, c, a.editable) for c in a.cands], a.editable, a.then)
            for a in asks
            if a.cands
        ]
        if watch:
            groups.append(Group([self.visible(self.page, c) for c in watch], False, None))
        if not groups:
            return False
        answers = self._ask(groups, soft=True)
        for g, (counts, win, got, _) in zip(
            groups[: len(groups) - bool(watch)], answers, strict=False
        ):
            if win >= 0 and counts[win] == 1:
                self._ahead[self._key(g.looks, g.editable, g.then)] = (g.looks[win], got)
        return bool(watch) and any(n > 0 for n in answers[-1][0])

    def forget(self) -> None:
        """The answers asked ahead, dropped: the page is about to change."""
        self._ahead.clear()

    def answer(self, look: Look, what: str, timeout: float | None = None) -> Locator:
        """`one` for a question put as a Look (the form `ahead` takes)."""
        return self.one(look.cands, what, timeout=timeout, editable=look.editable, then=look.then)

    def one(
        self,
        cands: list[Loc],
        what: str,
        scope: Page | Locator | None = None,
        timeout: float | None = None,
        editable: bool = False,
        then: Then | None = None,
        tick: bool = False,
    ) -> Locator:
        """Exactly one visible element (of the right kind) from the first candidate that has one.

        Every candidate is counted in one round trip (their union, each element tagged with
        the candidates it matched), and `then` runs on the chosen element in it (the
        highlight)."""
        self.then = None
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        sc = scope or self.page
        looks = [self.visible(sc, c, editable, tick) for c in cands]
        if self._ahead:
            known = self._ahead.pop(self._key(looks, editable, then), None)
            if known is not None:  # asked ahead, and the page not acted on since
                self.then = known[1]
                return known[0]
        tried: list[Tried] = []
        ambiguous = 0
        while True:
            counts, win = self.probe_all(looks, editable, then)
            tried = [Tried(c, k) for c, k in zip(cands, counts, strict=True)]
            if win >= 0:
                found = looks[win]
                if counts[win] == 1:
                    return found
                # Narrowed among several: which one, by the look's own order (an engine's
                # need not be the union's document order), that look alone says (one call).
                _, ok, own = self.probe(found, editable, then)
                if ok:
                    return found.nth(own)
                # The page changed between the two calls: looked at again, within bounds.
            if any(t.count > 1 for t in tried):
                ambiguous += 1  # several matches and no single one: never guess
                if ambiguous >= 3:
                    break
                self.page.wait_for_load_state("domcontentloaded")
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Nothing yet: wait for something to render rather than sleeping.
            self.wait_any(cands, min(left, 1.0), sc)
        detail = "; ".join(
            f"{t.loc.describe()} -> "
            + ("1 match, not editable" if t.count < 0 else f"{t.count} match(es)")
            for t in tried
        )
        raise AgentError(
            f"could not find {what} on the page (tried {detail}); "
            "the site may have changed: see `onboard doctor` or update the flow",
            Exit.UI_NOT_UNDERSTOOD,
        )
