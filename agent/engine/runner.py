"""Carrying out a flow in a page: one method per action of the vocabulary.

Rules the runner enforces whatever the flow says: every fill and click is on
an allowed origin; nothing is submitted before the form reads back exactly as
requested; the `never` options (the forbidden permissions) are off; captured credentials are
handed to custody before any further action.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Error as PWError
from playwright.sync_api import Locator, Page

from agent import faults
from agent.engine.flow import (
    Assert,
    Capture,
    Check,
    Choose,
    Click,
    Codes,
    Fill,
    FillChips,
    Flow,
    Loc,
    Step,
)
from agent.engine.human import CodeSources, Need, Reporter, StandIn
from agent.engine.locate import Resolver, Then, Vars
from agent.engine.overlay import Overlay
from agent.exitcodes import AgentError, Exit


class Resubmit(Exception):
    """The verification dialog closed before it finished: submit again."""


class SessionLost(Exception):
    """The site logged the client out mid-flow: log in again, then start over."""


@dataclass
class Options:
    pace: float = 0.0
    auto_submit: bool = False
    step_timeout: float = 15.0
    login_timeout: float = 300.0
    human_timeout: float = 600.0
    codes: CodeSources = field(default_factory=CodeSources)
    max_resubmits: int = 2
    # When the page does not match the flow: ask the human (guided) or stop (unattended).
    drift_to_human: bool = True


@dataclass
class Outcome:
    records: list[dict[str, str]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    displayed: list[dict[str, str]] = field(default_factory=list)
    listed: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    factors: list[str] = field(default_factory=list)
    drifted: list[str] = field(
        default_factory=list
    )  # steps the human did because the page differed


def origin_of(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}".lower()


class Runner:
    def __init__(
        self,
        page: Page,
        flow: Flow,
        vars: Vars,
        base_url: str,
        origins: list[str],
        opts: Options,
        reporter: Reporter,
        on_capture: Callable[[list[dict[str, str]]], None],
        stand_in: StandIn | None = None,
        artifacts: Any = None,
        on_state: Callable[[str], None] | None = None,
        drafts: list[dict[str, Any]] | None = None,
    ) -> None:
        self.page = page
        # Several keys in one submission: each draft's values, swapped into `vars` in turn.
        self.drafts = drafts if drafts and len(drafts) > 1 and flow.drafts else []
        self._draft = 0
        self._audits: dict[int, tuple[dict[str, Callable[[], Any]], dict[str, Any]]] = {}
        self._listed = 0
        self._add_step: Step | None = None
        self.on_state = on_state or (lambda _state: None)
        self.art = artifacts  # agent.artifacts.RunArtifacts or None
        self.secret_targets: list[Locator] = []
        self.flow = flow
        self.vars = vars
        self.base = base_url.rstrip("/")
        self.origins = {origin_of(o) for o in origins}
        self.opts = opts
        self.rep = reporter
        self.on_capture = on_capture
        self.stand_in = stand_in
        self.find = Resolver(page, vars, opts.step_timeout)
        page.set_default_timeout(opts.step_timeout * 1000)
        self.overlay = Overlay(page, pace=opts.pace)
        self.out = Outcome()
        self._n = 0
        page.on("load", lambda _: self.overlay.reapply())

    # -- drafts (several keys, one submission) ---------------------------------
    @property
    def readers(self) -> dict[str, Callable[[], Any]]:
        """How to read each filled field back from the page, for the current draft."""
        return self._audits.setdefault(self._draft, ({}, {}))[0]

    @property
    def expected(self) -> dict[str, Any]:
        return self._audits.setdefault(self._draft, ({}, {}))[1]

    def _use_draft(self, k: int) -> None:
        if self.drafts:
            self._draft = k
            self.vars.update(self.drafts[k])

    def _plan(self, steps: list[Step]) -> list[tuple[Step, int]]:
        """The flow's steps, with the per-key blocks repeated once per draft."""
        spec = self.flow.drafts
        if not self.drafts or spec is None:
            return [(s, 0) for s in steps]
        add = Step(id=ADD_DRAFT, caption="Add another key to this submission",
                   click=Click(target=spec.add))  # fmt: skip
        out: list[tuple[Step, int]] = []
        i = 0
        while i < len(steps):
            block = next((b for b in (spec.steps, spec.after) if steps[i].id in b), None)
            if block is None:
                out.append((steps[i], 0))
                i += 1
                continue
            j = i
            while j < len(steps) and steps[j].id in block:
                j += 1
            for k in range(len(self.drafts)):
                if block is spec.steps and k > 0:
                    out.append((add, k))
                out += [(t, k) for t in steps[i:j]]
            i = j
        return out

    def add_draft(self) -> None:
        spec = self.flow.drafts
        assert spec is not None
        box = self._box(self._add_step, "clicked by the agent") if self._add_step else None
        button = self.find.one(spec.add, "the button that adds another key", then=box)
        button.click()
        deadline = time.monotonic() + self.opts.step_timeout
        while True:  # the new draft shows once its first field reads empty
            field = self.find.one(spec.empty, "the new key's first field", editable=True)
            if field.input_value() == "":
                return
            if time.monotonic() > deadline:
                raise AgentError("another key could not be added to the submission",
                                 Exit.UI_NOT_UNDERSTOOD)  # fmt: skip
            self.find.wait_any([Loc(css="body")], 0.2)

    def _select_draft(self, k: int) -> None:
        """Show draft k in the form: the k-th of the drafts listed under its name."""
        spec = self.flow.drafts
        assert spec is not None
        same = [
            j for j, d in enumerate(self.drafts) if d.get("label") == self.drafts[k].get("label")
        ]
        tiles = self.find.visible(self.page, spec.tile)
        if tiles.count() != len(same):
            raise AgentError(
                f"the drafts list shows {tiles.count()} draft(s) named {self.vars.sub(spec.tile.text or '')!r}, "
                f"expected {len(same)}; not submitted",
                Exit.AUDIT_MISMATCH,
            )
        tiles.nth(same.index(k)).click()

    # -- guards ------------------------------------------------------------
    def guard_origin(self) -> None:
        url = self.page.url
        if url.startswith(("about:", "chrome-error:")):
            return
        if origin_of(url) not in self.origins:
            raise AgentError(
                f"the page went to {origin_of(url)}, which is not an allowed exchange origin; "
                "stopped without touching it (possible phishing redirect)",
                Exit.ORIGIN_REFUSED,
            )

    def on_login_page(self) -> bool:
        return self.flow.login.url_contains in self.page.url

    def wait_for_login(self) -> None:
        say = self.flow.login.say
        self.overlay.banner(say, "human")
        self.rep.info(f"waiting for the client to log in: {say}")
        self._wait_human(
            Need("login", say), lambda: not self.on_login_page(), self.opts.login_timeout
        )
        self.page.wait_for_load_state("domcontentloaded")
        self.rep.info("logged in; continuing")

    def _wait_human(self, need: Need, done: Callable[[], bool], limit: float) -> None:
        """Bounded wait for a person, re-checking page state on each page event or second."""
        start = time.monotonic()
        try:
            while not done():
                elapsed = time.monotonic() - start
                if elapsed > limit:
                    raise AgentError(
                        f"timed out after {int(limit)} s waiting for the human: {need.say}",
                        Exit.HUMAN_TIMEOUT,
                    )
                self.rep.waiting(need.say, elapsed, limit)
                if self.stand_in:
                    self.stand_in.act(self.page, need)
                try:
                    # Wake on the next page event (navigation, DOM change) or after a second.
                    self.page.wait_for_function(
                        "() => new Promise(r => { const o = new MutationObserver(() => { o.disconnect(); r(true); });"
                        " o.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});"
                        " setTimeout(() => { o.disconnect(); r(true); }, 1000); })",
                        timeout=5000,
                    )
                except PWError:
                    pass  # navigation tore the context down: re-check
        finally:
            self.rep.done_waiting()

    # -- the loop ------------------------------------------------------------
    def run(self) -> Outcome:
        plan = self._plan([s for s in self.flow.steps if not s.when or self.vars.get(s.when)])
        steps = [s for s, _ in plan]
        i = 0
        resubmits = 0
        restarts = 0
        submit_index = next(
            (k for k, s in enumerate(steps) if s.click and s.click.by == "submit"), None
        )
        while i < len(steps):
            step, k = plan[i]
            self._use_draft(k)
            self._n = i + 1
            t0 = time.monotonic()
            caption = step.caption
            if self.drafts and (k > 0 or self._per_key(step)):
                caption += f" (key {k + 1}/{len(self.drafts)}: {self.vars.get('account_text')})"
            self.rep.step(i + 1, len(steps), caption, "running")
            if self.art:
                self.art.log(
                    "step", id=step.id, caption=step.caption, state="running", url=self.page.url
                )
                if step.sensitive == "start":
                    self.art.pause_trace()
            try:
                if step.action != "navigate":
                    if self.on_login_page():
                        raise SessionLost()
                    self.guard_origin()
                # A step for another variant of the page is skipped before anything is shown.
                if not self._applies(step):
                    self.rep.step(i + 1, len(steps), caption, "skipped")
                    i += 1
                    continue
                # The step's banner and the look for anything covering the page: one round trip.
                probe = self._interruptions() if step.action != "navigate" else None
                if self.overlay.banner(f"Step {i + 1}/{len(steps)} — {caption}", count=probe):
                    self.clear_interruptions()
                if step.id == ADD_DRAFT:
                    self._add_step = step
                    self.add_draft()
                else:
                    getattr(self, f"do_{step.action}")(step, getattr(step, step.action))
            except SessionLost:
                restarts += 1
                if restarts > 2:
                    raise AgentError(
                        "the site keeps ending the session; stopped", Exit.HUMAN_TIMEOUT
                    ) from None
                self.rep.warn(
                    "the site ended the session mid-flow; log in again and the agent starts over"
                )
                self.wait_for_login()
                i = 0
                continue
            except Resubmit:
                resubmits += 1
                if submit_index is None or resubmits > self.opts.max_resubmits:
                    raise AgentError(
                        "the verification was closed repeatedly; stopped", Exit.HUMAN_TIMEOUT
                    ) from None
                self.rep.warn("the verification window was closed; submitting again")
                i = submit_index
                continue
            except PWError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                err = AgentError(
                    f"{step.caption}: the page did not respond as expected ({first})",
                    Exit.UI_NOT_UNDERSTOOD,
                )
                self.rep.step(i + 1, len(steps), caption, "failed", err.message)
                self.overlay.banner(f"Stopped: {err.message}", "error")
                raise err from None
            except AgentError as err:
                self.rep.step(i + 1, len(steps), caption, "failed", err.message)
                self.overlay.banner(f"Stopped: {err.message}", "error")
                raise
            self.overlay.settle()
            tkey = (
                step.id
                if not self.drafts or not (k or self._per_key(step))
                else f"{step.id}#{k + 1}"
            )
            self.out.timings[tkey] = time.monotonic() - t0
            self.rep.step(i + 1, len(steps), caption, "done")
            if self.art:
                self.art.log(
                    "step", id=step.id, state="done", seconds=round(self.out.timings[tkey], 3)
                )
                if step.screenshot:
                    masks = self.secret_targets + [
                        self.find.visible(self.page, m) for m in step.mask
                    ]
                    self.art.screenshot(self.page, step.screenshot, masks)
                if step.sensitive == "end":
                    self.art.resume_trace()
            if step.sensitive == "end":
                self.on_state("confirmed")
                faults.point("complete:after")
            i += 1
        self.overlay.banner("Done. The API key was created, stored encrypted and checked.")
        return self.out

    def _per_key(self, step: Step) -> bool:
        spec = self.flow.drafts
        return spec is not None and (
            step.id in spec.steps or step.id in spec.after or step.id == ADD_DRAFT
        )

    def _what(self, cands: list[Loc], step: Step) -> str:
        """The flow's own name for the thing, as a person would look for it."""
        for c in cands:
            for v in (c.name, c.label, c.field, c.placeholder, c.text):
                if v and not v.startswith("/"):
                    return self.vars.sub(v)
        return step.caption

    def _may_ask(self, err: AgentError) -> bool:
        return err.code == Exit.UI_NOT_UNDERSTOOD and self.opts.drift_to_human

    def _ask_human(
        self, step: Step, cands: list[Loc], err: AgentError, say: str, done: Callable[[], bool]
    ) -> None:
        """The page differs from the flow: never guess. Show where, ask, then confirm by reading."""
        self.rep.warn(f"{step.caption}: the page does not match the flow ({err.message})")
        self.out.drifted.append(step.id)
        if self.art:
            self.art.log("drift", step=step.id, detail=err.message)
            self.art.screenshot(self.page, f"unexpected-{step.id}", self.secret_targets)
        for c in cands:  # several matches: box each one so the human sees the candidates
            els = self.find.visible(self.page, c)
            for k in range(min(els.count(), 5)):
                self.overlay.mark(
                    els.nth(k), f"drift-{k}", f"{self._n} - which one? {step.caption}", True
                )
        self.overlay.banner(say, "human")
        self._wait_human(Need("act", say), done, self.opts.human_timeout)
        for k in range(5):
            self.overlay.unmark(f"drift-{k}")
        self.rep.info(f"{step.caption}: confirmed on the page after the human acted")

    def _applies(self, step: Step) -> bool:
        """UI variants: a step may be for pages that show (or do not show) something.

        Checked at once, not waited for: such steps follow a step that already waited
        for their page, and a wait here would be paid on every page without the variant."""
        if step.if_visible and not self.find.any_visible(step.if_visible):
            return False
        return not (step.unless_visible and self.find.any_visible(step.unless_visible))

    def _interruptions(self) -> Locator | None:
        """Everything the flow knows can cover the page, as one locator."""
        every = [c for it in self.flow.interruptions for c in it.detect]
        return self.find.union(every) if every else None

    def clear_interruptions(self) -> None:
        """Cookie banners, announcements: recognised, said, and left to the human."""
        every = self._interruptions()
        if every is None or not every.count():
            return  # one round trip on the usual page with nothing in the way
        for it in self.flow.interruptions:
            if not self.find.any_visible(it.detect):
                continue
            say = self.vars.sub(it.say)
            self.overlay.banner(say, "human")
            target = self.find.visible(self.page, it.detect[0]).first
            self.overlay.mark(target, "interruption", f"{say}", human=True)
            self.rep.info(f"the page is covered: {say}")
            gone = functools.partial(self._gone, it.detect)
            self._wait_human(Need("act", say), gone, self.opts.human_timeout)
            self.overlay.unmark("interruption")

    def _gone(self, cands: list[Loc]) -> bool:
        return not self.find.any_visible(cands)

    def check_language(self) -> None:
        lang = self.flow.language
        if lang is None:
            return

        def ok() -> bool:
            try:
                shown = self.page.evaluate("document.documentElement.lang || ''")
            except PWError:
                return False
            return str(shown).lower().startswith(lang.expect.lower())

        if ok():
            return
        say = self.vars.sub(lang.say)
        self.overlay.banner(say, "human")
        self.rep.warn(f"the site is not in the flow's language: {say}")
        self._wait_human(Need("act", say), ok, self.opts.human_timeout)
        self.page.wait_for_load_state("load")

    def _mark(self, target: Locator, step: Step, note: str, human: bool = False) -> None:
        self.overlay.mark(target, step.id, f"{self._n} - {step.caption}: {note}", human)

    def _box(self, step: Step, note: str, human: bool = False) -> Then | None:
        """The same box, drawn by the resolver in the round trip that finds the element."""
        return self.overlay.then_mark(step.id, f"{self._n} - {step.caption}: {note}", human)

    # -- actions -------------------------------------------------------------
    def do_navigate(self, step: Step, nav: Any) -> None:
        self.on_state("opened")
        url = self.base + nav.path
        self.page.goto(url, wait_until="domcontentloaded")
        if self.on_login_page():
            self.wait_for_login()
            if not self.find.wait_any(nav.ready, 3):
                self.page.goto(url, wait_until="domcontentloaded")
        self.guard_origin()
        self.check_language()
        self.clear_interruptions()
        landed = urlsplit(self.page.url).path.rstrip("/") == nav.path.rstrip("/")
        if self.find.wait_any(nav.ready, self.opts.step_timeout if landed else 1.0):
            self._loaded(nav, step)
            return
        # The direct URL did not land (moved page?): take the menu path from where we are.
        self.rep.warn(f"{nav.path} did not show the expected page; trying the menu")
        self.page.goto(self.base + "/", wait_until="domcontentloaded")
        self.clear_interruptions()
        for menu in nav.via:
            if menu.hover:
                self.find.one(menu.hover, f"menu entry for {step.caption}").hover()
            if menu.click:
                self.find.one(menu.click, f"menu entry for {step.caption}").click()
        self.guard_origin()
        if not self.find.wait_any(nav.ready, self.opts.step_timeout):
            raise AgentError(
                f"could not reach {step.caption} (direct URL and menu both failed)",
                Exit.UI_NOT_UNDERSTOOD,
            )
        self._loaded(nav, step)

    def _loaded(self, nav: Any, step: Step) -> None:
        self.page.wait_for_load_state("load")
        self._data_shown(nav.loaded, step)

    def _data_shown(self, loaded: list[Loc] | None, step: Step) -> None:
        """The page's data has arrived: one of the flow's `loaded` markers shows."""
        if loaded and not self.find.wait_any(loaded, self.opts.step_timeout):
            raise AgentError(
                f"{step.caption}: the page never finished loading its data", Exit.UI_NOT_UNDERSTOOD
            )

    def do_assert_(self, step: Step, a: Assert) -> None:
        msg = self.vars.sub(a.message)
        code = {"exchange_refused": Exit.EXCHANGE_REFUSED, "verify_failed": Exit.VERIFY_FAILED}.get(
            a.code, Exit.UI_NOT_UNDERSTOOD
        )
        if a.absent is not None and self.find.visible(self.page, a.absent).count() > 0:
            raise AgentError(msg, code)
        if a.present is not None:
            if not self.find.wait_any([a.present], self.opts.step_timeout):
                raise AgentError(msg, code)
            el = self.find.visible(self.page, a.present).first
            wanted = [w for item in a.near for w in self.vars.sub_list(item)]
            text = el.evaluate(
                """(el, wanted) => { let n = el; for (let d = 0; n && d < 8; d++, n = n.parentElement) {
                     const t = n.innerText || ''; if (wanted.every(w => t.includes(w))) return t; } return null; }""",
                wanted,
            )
            if text is None:
                raise AgentError(msg, code)
            self._mark(el, step, "confirmed")
            self._listed += 1
            self.out.listed = self._listed >= max(1, len(self.drafts))

    def do_click(self, step: Step, c: Click) -> None:
        if c.by == "submit":
            self.audit()
            self.on_state("filled")
        agent_clicks = c.by == "agent" or (c.by == "submit" and self.opts.auto_submit)
        box = (
            self._box(step, "clicked by the agent")
            if agent_clicks
            else self._box(step, "your turn", human=True)
        )
        try:
            target = self.find.one(c.target, step.caption, then=box)
        except AgentError as err:
            if c.by != "agent" or not c.until or not self._may_ask(err):
                raise
            until = c.until
            self._ask_human(
                step,
                c.target,
                err,
                f"Please click “{self._what(c.target, step)}” yourself (it may look different).",
                lambda: self.find.any_visible(until),
            )
            return
        if c.by == "submit":
            self.on_state("submitted")  # from here a key may exist that only this run can capture
        if agent_clicks:
            self.overlay.settle()
            for attempt in range(3):
                target.click()
                if not c.until:
                    return
                if self._until_or_error(c, self.opts.step_timeout):
                    self.page.wait_for_load_state("load")  # the page's scripts, not just its HTML
                    return
                if self.on_login_page():
                    raise SessionLost()
                if attempt < 2 and c.by == "submit":
                    self.rep.warn("the exchange refused the submission; trying once more")
                    # Let the refusal's message go first, so the next one read is new.
                    self._errors_gone(c.errors)
                    continue
                break
            raise AgentError(
                f"{step.caption}: nothing happened after the click", Exit.UI_NOT_UNDERSTOOD
            )
        say = self.vars.sub(c.say or f"Please click: {step.caption}")
        self.overlay.banner(say, "human")
        seen_error = [""]

        def done() -> bool:
            if self.on_login_page() or (c.until and self.find.any_visible(c.until)):
                return True
            err = self._error_text(c.errors)
            if err and err != seen_error[0]:
                seen_error[0] = err
                self.rep.warn(f"the exchange says: {err} (click again when ready)")
            return False

        self._wait_human(Need("submit", say), done, self.opts.human_timeout)
        if self.on_login_page():
            raise SessionLost()

    def _error_text(self, errors: list[Loc] | None) -> str:
        if not errors:
            return ""
        for loc in errors:
            el = self.find.visible(self.page, loc)
            if el.count():
                return " ".join(el.first.inner_text().split())
        return ""

    def _errors_gone(self, errors: list[Loc] | None) -> None:
        if not errors:
            return
        try:
            self.find.union(errors).first.wait_for(
                state="hidden", timeout=self.opts.step_timeout * 1000
            )
        except PWError:
            pass  # a message that stays: the next attempt reads it again

    def _until_or_error(self, c: Click, timeout: float) -> bool:
        cands = list(c.until or []) + list(c.errors or [])
        deadline = time.monotonic() + timeout
        while not self.find.wait_any(cands, min(1.0, max(deadline - time.monotonic(), 0.01))):
            if self.on_login_page() or time.monotonic() >= deadline:
                break
        if c.until and self.find.any_visible(c.until):
            return True
        err = self._error_text(c.errors)
        if err:
            self.rep.warn(f"the exchange says: {err}")
            if c.by != "submit":
                raise AgentError(f"the exchange refused: {err}", Exit.EXCHANGE_REFUSED)
            if re.search(r"already|limit|maximum", err, re.I):
                raise AgentError(f"the exchange refused: {err}", Exit.EXCHANGE_REFUSED)
            self.find.wait_any([Loc(css="body")], 0.1)
            self._last_error = err
        return False

    def do_fill(self, step: Step, f: Fill) -> None:
        value = self.vars.sub(f.value)
        try:
            target = self.find.one(
                f.target, step.caption, editable=True, then=self._box(step, "filled by the agent")
            )
        except AgentError as err:
            if f.secret or not self._may_ask(err):
                raise
            self._ask_human(
                step,
                f.target,
                err,
                f"Please type {value} into the field “{self._what(f.target, step)}” yourself.",
                lambda: _inputs_holding(self.page, value) == 1,
            )
            if step.audit:  # read back by value: exactly one field on the page must hold it
                self.expected[step.audit] = True
                self.readers[step.audit] = lambda: _inputs_holding(self.page, value) == 1
            return
        if f.secret:
            self.secret_targets.append(target)
        target.fill(value)
        got = target.input_value()
        if got != value:
            raise AgentError(
                f"{step.caption}: the field did not take the value", Exit.AUDIT_MISMATCH
            )
        if step.audit:
            self.expected[step.audit] = value
            self.readers[step.audit] = lambda: self.find.one(
                f.target, step.caption, editable=True
            ).input_value()

    def do_fill_chips(self, step: Step, fc: FillChips) -> None:
        want = self.vars.sub_list(fc.values)
        box = self.find.one(
            fc.input, step.caption, editable=True, then=self._box(step, "filled by the agent")
        )

        def chips() -> list[str]:
            els = self.find.visible(self.page, fc.chips)
            return [" ".join(t.split()) for t in els.all_inner_texts()]

        for text in chips():
            if text not in want:  # extras the page came with: removed
                chip = self.find.visible(self.page, fc.chips).filter(has_text=text).first
                self.find.visible(chip, fc.remove).first.click()
        key = {"enter": "Enter", "comma": ",", "space": " "}[fc.confirm]
        for value in want:
            if value in chips():
                continue
            box.fill(value)
            box.press(key)
            err = self._error_text(fc.errors)
            if err:
                raise AgentError(
                    f"{step.caption}: the exchange refused {value}: {err}", Exit.EXCHANGE_REFUSED
                )
        if step.audit:
            self.expected[step.audit] = sorted(want)
            self.readers[step.audit] = lambda: sorted(chips())
        got = sorted(chips())
        if got != sorted(want):
            raise AgentError(
                f"{step.caption}: shows {got}, expected {sorted(want)}", Exit.AUDIT_MISMATCH
            )

    def _open_select(self, ch: Choose, step: Step, then: Then | None = None) -> Locator:
        box = self.find.one(ch.open, step.caption, then=then)
        for _ in range(2):  # a second click if the widget's script was not ready yet
            box.click()
            if self.find.wait_any([ch.option], self.opts.step_timeout / 2):
                break
        return box

    def _close_select(self, box: Locator) -> None:
        self.page.keyboard.press("Escape")
        if self.find.visible(self.page, Loc(role="listbox")).count():
            self.page.mouse.click(5, 5)  # a click on empty page space closes most custom selects

    @staticmethod
    def _option_loc(ch: Choose, name: str) -> Loc:
        return Loc(**{**ch.option.model_dump(exclude_none=True), "name": name, "exact": True})

    def _option(self, ch: Choose, name: str) -> Locator:
        return self.find.one([self._option_loc(ch, name)], f"option {name!r}")

    def _option_state(self, ch: Choose, name: str) -> tuple[Locator, bool, bool]:
        """An option, whether it is selected and whether it is fixed (disabled).

        One round trip when the option is there exactly once; otherwise the usual search,
        which waits for it and says precisely what it found."""
        el = self.find.visible(self.page, self._option_loc(ch, name))
        attrs = [ch.selected_attr, "aria-disabled"]
        got = el.evaluate_all(
            "(els, names) => els.map(e => names.map(n => e.getAttribute(n)))", attrs
        )
        if len(got) != 1:
            el = self._option(ch, name)
            got = [[el.get_attribute(a) for a in attrs]]
        selected, fixed = ((v or "").lower() == "true" for v in got[0])
        return el, selected, fixed

    def read_options(self, ch: Choose, step: Step) -> dict[str, bool]:
        box = self._open_select(ch, step)
        names = [self.vars.sub(n) for n in (ch.want + ch.never)]
        state = {n: self._option_state(ch, n)[1] for n in names}
        self._close_select(box)
        return state

    def do_choose(self, step: Step, ch: Choose) -> None:
        want = [self.vars.sub(n) for n in ch.want]
        never = [self.vars.sub(n) for n in ch.never]
        box = self._open_select(ch, step, self._box(step, "set by the agent"))
        if ch.multiple:
            for name in want + never:
                opt, selected, fixed = self._option_state(ch, name)
                if selected != (name in want):
                    if fixed:
                        raise AgentError(
                            f"{step.caption}: {name!r} is fixed the wrong way", Exit.AUDIT_MISMATCH
                        )
                    opt.click()
            self._close_select(box)
            state = self.read_options(ch, step)
            if [n for n, on in state.items() if on] != want or any(state[n] for n in never):
                raise AgentError(f"{step.caption}: reads back as {state}", Exit.AUDIT_MISMATCH)
            if step.audit:
                self.expected[step.audit] = {n: n in want for n in want + never}
                self.readers[step.audit] = lambda: self.read_options(ch, step)
        else:
            self._option(ch, want[0]).click()
            self._data_shown(ch.loaded, step)
            shown = " ".join(box.inner_text().split())
            if want[0] not in shown:
                raise AgentError(
                    f"{step.caption}: shows {shown!r}, expected {want[0]!r}", Exit.AUDIT_MISMATCH
                )
            if step.audit:
                self.expected[step.audit] = True
                self.readers[step.audit] = lambda: (
                    want[0] in " ".join(self.find.one(ch.open, step.caption).inner_text().split())
                )

    def do_check(self, step: Step, c: Check) -> None:
        target = self.find.one(c.target, step.caption, then=self._box(step, "set by the agent"))
        target.set_checked(c.state == "on", force=True)
        if target.is_checked() != (c.state == "on"):
            raise AgentError(f"{step.caption}: could not set it {c.state}", Exit.AUDIT_MISMATCH)
        if step.audit:
            self.expected[step.audit] = c.state == "on"
            self.readers[step.audit] = lambda: self.find.one(c.target, step.caption).is_checked()

    # -- before submit ---------------------------------------------------------
    def audit(self) -> None:
        """Read every filled field back from the page; any difference stops before submit.

        With several drafts, each is shown in turn and read back: the human verifies once
        for all of them, so every one must be exactly as requested."""
        diffs = []
        for k in range(max(1, len(self.drafts))):
            prefix = ""
            if self.drafts:
                self._use_draft(k)
                self._select_draft(k)
                prefix = f"key {k + 1} ({self.vars.get('account_text')}) "
            for name, read in self.readers.items():
                got = read()
                want = self.expected[name]
                if got != want:
                    hide = name.startswith("passphrase")
                    diffs.append(
                        f"{prefix}{name}: page shows {'(hidden)' if hide else got}, "
                        f"requested {'(hidden)' if hide else want}"
                    )
                key = f"key{k + 1}.{name}" if self.drafts else name
                self.out.audit[key] = "ok" if got == want else "MISMATCH"
            for need in self.flow.required_audits:
                if not any(r == need or r.startswith(need + ".") for r in self.readers):
                    diffs.append(
                        f"{prefix}{need}: could not be read back from the page with certainty"
                    )
        if diffs:
            raise AgentError(
                "the form does not match the request; not submitted: " + "; ".join(diffs),
                Exit.AUDIT_MISMATCH,
            )
        self.rep.info("pre-submit audit: every field reads back exactly as requested")

    # -- the human's verification -------------------------------------------------
    def do_wait_codes(self, step: Step, cd: Codes) -> None:
        self.on_state("verifying-human")
        if not self.find.wait_any(cd.dialog + cd.done, self.opts.step_timeout):
            raise AgentError("the security verification did not appear", Exit.UI_NOT_UNDERSTOOD)
        tries: dict[str, int] = {}
        while True:
            if self.find.any_visible(cd.done):
                return
            dialog = self.find.visible(self.page, cd.dialog[0]).first
            # A factor showing in the dialog means the dialog shows: no separate look for it.
            factor = next(
                (f for f, c in cd.factors.items() if self.find.any_visible(c, dialog)), None
            )
            if factor is None and not self.find.any_visible(cd.dialog):
                raise Resubmit()
            if factor is None:
                self.find.wait_any(cd.done + [loc for c in cd.factors.values() for loc in c], 2)
                if not self.find.any_visible(cd.dialog) and not self.find.any_visible(cd.done):
                    raise Resubmit()
                continue
            if factor not in self.out.factors:
                self.out.factors.append(factor)
            boxes = self.find.visible(dialog, cd.boxes)
            say = cd.say.get(factor, f"Enter the {factor} code")
            if self.opts.codes.automatic(factor):
                tries[factor] = tries.get(factor, 0) + 1
                if tries[factor] > 3:
                    raise AgentError(
                        f"the {factor} code was refused three times", Exit.HUMAN_TIMEOUT
                    )
                code = self.opts.codes.get(factor, self.rep)
                self._mark(boxes.first, step, f"{factor} code entered by the agent")
                enter_code(boxes, code)
                self.find.one(cd.submit, "the verification button", scope=dialog).click()
            else:
                self._mark(boxes.first, step, say, human=True)
                self.overlay.banner(say, "human")
            self._await_step_change(cd, factor, dialog, Need("code", say, factor))

    def _await_step_change(self, cd: Codes, factor: str, dialog: Locator, need: Need) -> None:
        seen_err = [""]

        def changed() -> bool:
            # The factor's step gone covers the result shown and the dialog closed.
            if not self.find.any_visible(cd.factors[factor], dialog):
                return True
            if self.find.any_visible(cd.done):
                return True
            err = self._error_text(cd.error)
            if err and err != seen_err[0]:
                seen_err[0] = err
                self.rep.warn(f"{factor}: {err}")
                if self.opts.codes.automatic(factor):
                    return True
            return False

        if self.opts.codes.automatic(factor):
            # Wake on whatever comes next: the next factor's step, the result, or an error.
            others = [loc for f, c in cd.factors.items() if f != factor for loc in c]
            self.find.wait_any(cd.done + (cd.error or []) + others, self.opts.step_timeout)
            if changed():
                return
        self._wait_human(need, changed, self.opts.human_timeout)

    # -- capture -------------------------------------------------------------------
    def do_capture(self, step: Step, cap: Capture) -> None:
        t0 = time.monotonic()
        box = self.find.one(cap.container, step.caption)
        shown = parse_labelled(box.inner_text(), cap.fields)
        records = shown
        if not records or not all(valid(r, cap.formats) for r in records):
            # Masked or unreadable on screen: the page's own copy buttons give the text.
            clipped = self._from_clipboard(cap, box)
            if clipped:
                records = [
                    {**(shown[k] if k < len(shown) else {}), **rec} for k, rec in enumerate(clipped)
                ]
        if not records or not all(valid(r, cap.formats) for r in records):
            records = self._from_prompt(cap)
        self.out.displayed = [{k: v for k, v in r.items() if k not in ("secret",)} for r in records]
        self.on_state("captured")
        # Screenshots from now on paint over anything shaped like a secret (by format, not value).
        self.secret_targets += [
            self.find.visible(self.page, Loc(text=f"/^\\s*(?:{fmt})\\s*$/"))
            for name, fmt in cap.formats.items()
            if name == "secret"
        ]
        self.on_capture(records)  # encrypted and on disk before anything else happens
        faults.point("capture:after-store")
        self.out.records = records
        self.out.timings["capture_to_disk"] = time.monotonic() - t0
        self._mark(box, step, "saved, encrypted")

    def _from_clipboard(self, cap: Capture, box: Locator) -> list[dict[str, str]]:
        if not cap.clipboard:
            return []
        out = []
        buttons = self.find.visible(box, cap.clipboard[0])
        for k in range(buttons.count()):
            buttons.nth(k).click()
            try:
                text = self.page.evaluate("navigator.clipboard.readText()")
            except PWError:
                return []
            rec = {}
            for name, pat in cap.clipboard_patterns.items():
                m = re.search(pat, text)
                if m:
                    rec[name] = m.group(1)
            out.append(rec)
        return out

    def _from_prompt(self, cap: Capture) -> list[dict[str, str]]:
        self.rep.warn("could not read the credentials from the page; paste them at the prompt")
        rec = {}
        for name in cap.formats:
            rec[name] = self.rep.ask_secret(f"paste the {name.replace('_', ' ')}").strip()
        if not valid(rec, cap.formats):
            raise AgentError(
                "the pasted credentials do not have the expected format", Exit.CUSTODY_FAILED
            )
        return [rec]


ADD_DRAFT = "add-draft"


def enter_code(boxes: Locator, code: str) -> None:
    """Type the code as a person does: into the first box, the page moving focus along.

    One round trip, and one to read the boxes back; a page that does not move the focus
    on by itself gets each digit put in its own box. Boxes gone after the last digit mean
    the page took the code by itself: nothing more to type."""
    boxes.first.press_sequentially(code)
    shown = boxes.evaluate_all("els => els.map(e => e.value)")
    if shown and "".join(shown) != code:
        for idx, digit in enumerate(code):
            boxes.nth(idx).fill(digit)


def _inputs_holding(page: Page, value: str) -> int:
    """How many visible text fields hold exactly this value (drift confirmation by page state)."""
    return int(
        page.evaluate(
            """v => [...document.querySelectorAll('input, textarea')].filter(e =>
                 e.value === v && e.offsetParent !== null).length""",
            value,
        )
    )


def parse_labelled(text: str, fields: dict[str, str]) -> list[dict[str, str]]:
    """'Label' line then value line, in document order; a repeated label starts a new record."""
    by_label = {v.strip().lower(): k for k, v in fields.items()}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    records: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for i, line in enumerate(lines[:-1]):
        name = by_label.get(line.lower())
        if name is None:
            continue
        if name in cur:
            records.append(cur)
            cur = {}
        cur[name] = lines[i + 1]
    if cur:
        records.append(cur)
    return records


def valid(rec: dict[str, str], formats: dict[str, str]) -> bool:
    return all(re.fullmatch(p, rec.get(k, "")) for k, p in formats.items())
