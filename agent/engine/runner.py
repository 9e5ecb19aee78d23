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
from agent.engine import engines
from agent.engine.engines import shows
from agent.engine.flow import (
    REQUESTED,
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
from agent.engine.press import NotActionable, is_disabled, press
from agent.exitcodes import AgentError, Exit
from agent.ips import canonical

# What the person is asked when the verification window shows no step the flow knows.
UNREAD_VERIFICATION = (
    "Please finish the security verification in the window yourself; the agent continues "
    "when it closes."
)


class Resubmit(Exception):
    """The verification dialog closed before it finished: submit again."""


class AccountFixed(AgentError):
    """A later key's account cannot be chosen on the create form: submit each key on its own."""


class NoSuchOption(AgentError):
    """A select's list opened without the value asked for (an unknown sub-account, say):
    not a page the flow misreads, so it is not handed to the human."""


class SessionLost(Exception):
    """The site logged the client out mid-flow: log in again, then start over."""


class Interrupted(Exception):
    """A step went wrong while something of the page's own showed (an announcement that came
    up mid-step closes an open list, takes a click): once it is passed, the step again."""


# Steps that can be done again from their start: each reads what the page holds and changes
# only what differs. Not a submission, a code or a capture (each of those happens once).
REDOABLE = frozenset({"fill", "fill_chips", "choose", "check"})


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
    # The flow's demo-trading switch (`demo.query`, or `demo.live_query` for a live key),
    # added to every page the flow navigates to; `demo` says which.
    trading_query: str = ""
    demo: bool = False


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
        on_capture: Callable[[list[dict[str, str]], int, int], None],
        stand_in: StandIn | None = None,
        artifacts: Any = None,
        on_state: Callable[[str], None] | None = None,
        drafts: list[dict[str, Any]] | None = None,
    ) -> None:
        self.page = page
        # Several keys in one submission: each draft's values, swapped into `vars` in turn.
        self.drafts = drafts if drafts and len(drafts) > 1 and flow.drafts else []
        self._draft = 0
        self._separate = False  # one submission per key (the form fixes the account)
        self._requests: list[int] = []  # the page's own fetch/xhr requests, once followed
        self._said_interruptions: list[str] = []  # each said once a run
        self._step: Step | None = None  # the step being done
        self._redone: dict[int, int] = {}  # step number -> times done again after an interruption
        self._offered: dict[int, list[str]] = {}  # per draft: the permission list's options
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
            if self._separate:
                self.vars["multi_draft"] = False

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

    def _plan_separate(self) -> list[tuple[Step, int]]:
        """The whole flow once per key: for exchanges whose form fixes the account."""
        out: list[tuple[Step, int]] = []
        for k, draft in enumerate(self.drafts):
            values = {**self.vars, **draft, "multi_draft": False}
            out += [(s, k) for s in self.flow.steps if not s.when or values.get(s.when)]
        return out

    def add_draft(self) -> None:
        spec = self.flow.drafts
        assert spec is not None
        box = self._box(self._add_step, "clicked by the agent") if self._add_step else None
        button = self.find.one(spec.add, "the button that adds another key", then=box)
        self._press(button, "the button that adds another key")
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
        self.guard_origin()
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
        while i < len(steps):
            step, k = plan[i]
            self._use_draft(k)
            self._n, self._step = i + 1, step
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
            except AccountFixed as fixed:
                # Nothing is submitted yet: one submission per account, each from its own list.
                self.rep.warn(
                    f"{fixed.message.removesuffix('; not submitted')}: the create form shows the "
                    "account its list was switched to, so each sub-account's key is submitted "
                    "(and verified) on its own"
                )
                self._separate = True
                plan = self._plan_separate()
                steps = [s for s, _ in plan]
                i = 0
                continue
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
                i = next(j for j, (_, d) in enumerate(plan) if d == k) if self._separate else 0
                continue
            except Resubmit:
                resubmits += 1
                submit_index = next((j for j in range(i, -1, -1) if _submits(steps[j])), None)
                if submit_index is None or resubmits > self.opts.max_resubmits:
                    raise AgentError(
                        "the verification was closed repeatedly; stopped", Exit.HUMAN_TIMEOUT
                    ) from None
                self.rep.warn("the verification window was closed; submitting again")
                i = submit_index
                continue
            except Interrupted:
                self._redo(step, i + 1, len(steps), caption)
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
                if err.code == Exit.UI_NOT_UNDERSTOOD and self._may_redo(step):
                    self._redo(step, i + 1, len(steps), caption)
                    continue
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
                if step.sensitive == "end" and not self.out.records:
                    self.art.resume_trace()
                elif step.sensitive == "end":  # the key list shows the new key: keep it out
                    self.art.log("trace", state="stays paused: the new key shows on the page")
            if step.sensitive == "end":
                self.on_state("confirmed")
                faults.point("complete:after")
            i += 1
        self.overlay.banner("Done. The API key was created, stored encrypted and checked.")
        return self.out

    def label_listed(self) -> bool | None:
        """After a stop between submit and capture: is a key with this label on its account's
        list? The flow's own steps up to its duplicate-name check answer it (False: there is
        none, so nothing was created). None: it cannot be told (several keys, or the page)."""
        if self.drafts:
            return None
        steps = [s for s in self.flow.steps if not s.when or self.vars.get(s.when)]
        check = next((k for k, s in enumerate(steps) if s.assert_ and s.assert_.absent), None)
        if check is None or not steps[0].navigate:
            return None
        plan = [s for s in steps[: check + 1] if s.navigate or s.choose or s is steps[check]]
        told, self.on_state = self.on_state, lambda _state: None  # a look: the journal stays
        try:
            for step in plan:
                if step.assert_:
                    self.do_assert_(step, step.assert_)
                else:
                    getattr(self, f"do_{step.action}")(step, getattr(step, step.action))
        except AgentError as err:
            return True if err.code == Exit.EXCHANGE_REFUSED else None
        except PWError:
            return None
        finally:
            self.on_state = told
        return False

    def _per_key(self, step: Step) -> bool:
        spec = self.flow.drafts
        return spec is not None and (
            step.id in spec.steps or step.id in spec.after or step.id == ADD_DRAFT
        )

    def _what(self, cands: list[Loc], step: Step) -> str:
        """The flow's own name for the thing, as a person would look for it."""
        for c in cands:
            v = c.words()
            if v and not v.startswith("/"):
                return self.vars.sub(v)
        return step.caption

    def _may_ask(self, err: AgentError) -> bool:
        return (
            err.code == Exit.UI_NOT_UNDERSTOOD
            and self.opts.drift_to_human
            and not isinstance(err, NoSuchOption)
        )

    def _may_redo(self, step: Step) -> bool:
        """Whether a step that went wrong is done again instead: it can be, it has not been
        twice already, and something of the page's own shows (it may be why)."""
        return self._redoable(step) and self._interrupted()

    def _redoable(self, step: Step) -> bool:
        redo = step.action in REDOABLE or bool(step.click and step.click.by == "agent")
        return redo and self._redone.get(self._n, 0) < 2

    def _redo(self, step: Step, n: int, total: int, caption: str) -> None:
        """The person passes what the page shows (the agent never closes it), then the step
        is done again from its start, not handed over as a page the flow does not know."""
        self._redone[n] = self._redone.get(n, 0) + 1
        self.rep.info(
            f"{caption}: the page showed something of its own meanwhile; once it is passed, the agent does this step again"
        )
        try:
            self.clear_interruptions(blocking=True)
        except AgentError as err:
            self.rep.step(n, total, caption, "failed", err.message)
            self.overlay.banner(f"Stopped: {err.message}", "error")
            raise

    def _ask_human(
        self, step: Step, cands: list[Loc], err: AgentError, say: str, done: Callable[[], bool]
    ) -> None:
        """The page differs from the flow: never guess. Show where, ask, then confirm by reading.

        Unless an announcement or banner came up meanwhile: that is done again (`_redo`)."""
        if self._may_redo(step):
            raise Interrupted()
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

    def _interrupted(self) -> bool:
        """Whether something the flow knows can cover the page shows now."""
        every = [c for it in self.flow.interruptions for c in it.detect]
        return bool(every) and self.find.any_visible(every)

    def clear_interruptions(self, blocking: bool = False) -> None:
        """Cookie banners, announcements: recognised, said, and left to the human to pass.

        Said once each, and waited for only when one is in the way (`blocking`: a click the
        agent must make lands on it). A banner at the foot of the page that covers nothing
        the agent needs does not stop an unattended run; the person may pass it any time."""
        every = self._interruptions()
        if every is None or not every.count():
            return  # one round trip on the usual page with nothing in the way
        for it in self.flow.interruptions:
            if not self.find.any_visible(it.detect):
                continue
            say = self.vars.sub(it.say)
            target = self.find.visible(self.page, it.detect[0]).first
            self.overlay.mark(target, "interruption", f"{say}", human=True)
            if say not in self._said_interruptions:
                self._said_interruptions.append(say)
                self.rep.info(f"the page shows something of its own: {say}")
            if not blocking:
                continue
            self.overlay.banner(say, "human")
            self.rep.info(f"it is in the agent's way: {say}")
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
        query = self.opts.trading_query
        url = self.base + nav.path + (("&" if "?" in nav.path else "?") + query if query else "")
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
        if self.opts.demo:  # the menu may lead to the live pages: no live key made for demo
            raise AgentError(
                f"{nav.path}?{query} did not show {step.caption} (demo trading)",
                Exit.UI_NOT_UNDERSTOOD,
            )
        # The direct URL did not land (moved page?): take the menu path from where we are.
        self.rep.warn(f"{nav.path} did not show the expected page; trying the menu")
        self.page.goto(self.base + "/", wait_until="domcontentloaded")
        self.clear_interruptions()
        for menu in nav.via:
            self.guard_origin()
            if menu.hover:
                self.find.one(menu.hover, f"menu entry for {step.caption}").hover()
            if menu.click:
                self._press(
                    self.find.one(menu.click, f"menu entry for {step.caption}"), step.caption
                )
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
        if c.by == "submit" and c.until and self.find.any_visible(c.until):
            # Someone at the browser submitted before the agent's read-back: the verification is
            # open. Carry on (the key must be captured); what the exchange shows is checked.
            self.rep.warn(
                f"{step.caption}: the form was submitted at the browser before the agent read "
                "it back; the agent carries on and checks what the exchange shows"
            )
            self.on_state("filled")
            self.on_state("submitted")
            return
        if c.by == "submit":
            try:
                self.audit()
            except AgentError:
                if not (c.until and self.find.any_visible(c.until)):
                    raise
                # Submitted at the browser while the agent was reading the form back.
                self.rep.warn(
                    f"{step.caption}: the form was submitted at the browser during the agent's "
                    "read-back; the agent carries on and checks what the exchange shows"
                )
                self.on_state("filled")
                self.on_state("submitted")
                return
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
            self._human_clicks(step, c, err)
            return
        if c.by == "submit":
            self.on_state("submitted")  # from here a key may exist that only this run can capture
        if agent_clicks:
            self.overlay.settle()
            for attempt in range(3):
                try:
                    self._press(target, step.caption)
                except NotActionable as err:
                    if c.by != "agent" or not c.until or not self._may_ask(err):
                        raise
                    self._human_clicks(step, c, err)
                    return
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
            stuck = AgentError(
                f"{step.caption}: nothing happened after the click", Exit.UI_NOT_UNDERSTOOD
            )
            if c.by != "agent" or not self._may_ask(stuck):
                raise stuck
            self._human_clicks(step, c, stuck)
            return
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

    def _human_clicks(self, step: Step, c: Click, err: AgentError) -> None:
        """A click the agent cannot make (no match, several, covered, disabled, no effect):
        the human makes it; the step is done when what follows the click shows."""
        until = c.until or []
        self._ask_human(
            step,
            c.target,
            err,
            f"Please click “{self._what(c.target, step)}” yourself (it may look different).",
            lambda: self.find.any_visible(until),
        )
        self.page.wait_for_load_state("load")

    def _press(self, target: Locator, what: str, before: str = "") -> None:
        """A click as a person makes it (see agent.engine.press), on an allowed origin only."""
        self.guard_origin()
        try:
            press(self.page, target, what, self.rep.info, self.opts.step_timeout, before)
        except NotActionable as err:
            # Something the flow knows as an interruption shows (an announcement that came up
            # a moment ago covers the click or takes it): the person passes it, then the same
            # click once more. Disabled is the control's own state, whatever else shows.
            if err.why == "disabled" or not self._interrupted():
                raise
            self.clear_interruptions(blocking=True)
            self.guard_origin()
            try:
                press(self.page, target, what, self.rep.info, self.opts.step_timeout, before)
            except NotActionable:
                # The page moved on meanwhile (the list it was in closed): the step again.
                if self._step is None or not self._redoable(self._step):
                    raise
                raise Interrupted() from None

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
        by_value = False  # read back by what the page holds, not by finding the field again
        try:
            target = self.find.one(
                f.target, step.caption, editable=True, then=self._box(step, "filled by the agent")
            )
        except AgentError as err:
            if not self._may_ask(err):
                raise
            if not f.secret:
                self._ask_human(
                    step,
                    f.target,
                    err,
                    f"Please type {value} into the field “{self._what(f.target, step)}” yourself.",
                    lambda: _inputs_holding(self.page, value) == 1,
                )
                self._expect_value(step, value)
                return
            # A secret is never shown to be typed: the human points at the field, the agent types.
            self._ask_human(
                step,
                f.target,
                err,
                f"Please click into the field “{self._what(f.target, step)}”; the agent types it for you.",
                lambda: bool(self.page.evaluate(FOCUSED_FIELD_JS)),
            )
            target, by_value = self.page.locator("*:focus"), True
        if f.secret:
            self.secret_targets.append(target)
        self.guard_origin()
        target.fill(value)
        got = target.input_value()
        if got != value:
            raise AgentError(
                f"{step.caption}: the field did not take the value", Exit.AUDIT_MISMATCH
            )
        if by_value:
            self._expect_value(step, value)
        elif step.audit:
            self.expected[step.audit] = value
            self.readers[step.audit] = lambda: self.find.one(
                f.target, step.caption, editable=True
            ).input_value()

    def _expect_value(self, step: Step, value: str) -> None:
        """Read back by value: exactly one field on the page must hold it."""
        if step.audit:
            self.expected[step.audit] = True
            self.readers[step.audit] = lambda: _inputs_holding(self.page, value) == 1

    # -- chips (the IP allowlist) ------------------------------------------------
    def _chip_area(self, box: Locator, fc: FillChips) -> Locator:
        """Where the field's chips show: around its input, up to its label (else the page)."""
        label = fc.label or next((c.field for c in fc.input if c.field), None)
        if label:
            area = box.locator("ob-area=" + engines.body(label=self.vars.sub(label)))
            if area.count() == 1:
                return area
        return self.page.locator("body")

    def do_fill_chips(self, step: Step, fc: FillChips) -> None:
        want = sorted({canonical(v) or v for v in self.vars.sub_list(fc.values)})
        try:
            box = self.find.one(
                fc.input, step.caption, editable=True, then=self._box(step, "filled by the agent")
            )
        except AgentError as err:
            if not self._may_ask(err):
                raise
            page_chips = self.page.locator("body")
            self._ask_human(
                step,
                fc.input,
                err,
                f"Please enter these IP addresses yourself: {', '.join(want)}.",
                lambda: shown_ips(page_chips) == want,
            )
            if step.audit:
                self.expected[step.audit] = want
                self.readers[step.audit] = lambda: shown_ips(page_chips)
            return
        area = self._chip_area(box, fc)
        for ip in shown_ips(area):
            if ip in want:
                continue  # already there: left alone
            close = area.locator("ob-chips=" + engines.body(close=True))
            chips = shown_ips(area, raw=True)
            at = [canonical(c) for c in chips].index(ip)
            if close.count() != len(chips):
                raise AgentError(
                    f"{step.caption}: the page shows {ip}, which was not requested, and it has "
                    "no control to remove it; not submitted",
                    Exit.AUDIT_MISMATCH,
                )
            self._press(close.nth(at), f"the remove control of {ip}")
        key = {"enter": "Enter", "comma": ",", "space": " "}[fc.confirm]
        for value in want:
            if value in shown_ips(area):
                continue
            self.guard_origin()
            box.fill(value)
            box.press(key)
            refused = self._error_text(fc.errors)
            if refused:
                raise AgentError(
                    f"{step.caption}: the exchange refused {value}: {refused}",
                    Exit.EXCHANGE_REFUSED,
                )
        if step.audit:
            self.expected[step.audit] = want
            self.readers[step.audit] = lambda: shown_ips(self._chip_area(
                self.find.one(fc.input, step.caption, editable=True), fc))  # fmt: skip
        got = shown_ips(area)
        if got != want:
            raise AgentError(f"{step.caption}: shows {got}, expected {want}", Exit.AUDIT_MISMATCH)

    # -- selects -------------------------------------------------------------------
    def _label(self, ch: Choose, step: Step) -> str:
        return self.vars.sub(ch.label) if ch.label else self._what(ch.open, step)

    def _select_shows(self, box: Locator, ch: Choose, step: Step) -> list[str]:
        """What the closed select shows, piece by piece (its value, or its tags)."""
        return engines.shown(box, self._label(ch, step))

    def _options(self, ch: Choose, name: str) -> list[Loc]:
        """An option is in the list the select opened, whatever kind of candidate finds it: the
        engine says so (`popup`), so a role or class the box's own tags share never counts."""
        return [c.bind(option=name).model_copy(update={"popup": True}) for c in ch.option]

    def _open_select(self, box: Locator, ch: Choose, step: Step, names: list[str]) -> None:
        """Open the list (remembering what showed before, so its options are told apart from
        the box's own text) and wait for an option; a second click if the page was not ready."""
        every = [c for n in names for c in self._options(ch, n)]
        for _ in range(2):
            self._press(box, f"{step.caption}: the select", before=engines.SNAP_JS)
            if self.find.wait_any(every, self.opts.step_timeout / 2):
                return
            offered = self.page.locator("ob-popup=" + engines.body(text="/\\S/"))
            if offered.count():  # a list opened, without what is asked for: no one can pick it
                texts = [" ".join(t.split()) for t in offered.all_inner_texts()][:12]
                raise NoSuchOption(
                    f"{step.caption}: the list offers no {' / '.join(names)!r} "
                    f"(it shows: {', '.join(texts)})",
                    Exit.UI_NOT_UNDERSTOOD,
                )
        raise AgentError(
            f"{step.caption}: the select shows no options after a click "
            f"(looked for {', '.join(names)})",
            Exit.UI_NOT_UNDERSTOOD,
        )

    def _close_select(self, ch: Choose, step: Step, names: list[str]) -> None:
        """Close the list as a person does: Escape, else a click on the field's label."""
        every = [c for n in names for c in self._options(ch, n)]
        self.page.keyboard.press("Escape")
        if not self.find.any_visible(every):
            return
        label = self.find.visible(self.page, Loc(text=self._label(ch, step), exact=True))
        if label.count():
            self.guard_origin()
            label.first.click()
        if self.find.any_visible(every):
            raise AgentError(f"{step.caption}: its list does not close", Exit.UI_NOT_UNDERSTOOD)

    def _state(self, box: Locator, ch: Choose, step: Step, names: list[str]) -> dict[str, bool]:
        shown = self._select_shows(box, ch, step)
        return {n: shows(shown, n) for n in names}

    def do_choose(self, step: Step, ch: Choose) -> None:
        want = [self.vars.sub(n) for n in ch.want]
        never = [self.vars.sub(n) for n in ch.never]
        names = want + never if ch.multiple else want[:1]
        target = {n: n in want for n in names}
        box = self.find.one(ch.open, step.caption, then=self._box(step, "set by the agent"))
        if self._state(box, ch, step, names) == target:
            self.rep.info(f"{step.caption}: already shows {', '.join(want)}; left as it is")
        elif is_disabled(box):
            fixed = AccountFixed if ch.audit == "account" and self._draft > 0 else AgentError
            if self._separate:
                fixed = AgentError
            raise fixed(
                f"{step.caption}: the field is fixed and shows "
                f"{' '.join(self._select_shows(box, ch, step)) or 'nothing'!r}, expected "
                f"{', '.join(want)!r}; not submitted",
                Exit.AUDIT_MISMATCH,
            )
        else:
            try:
                self._set_select(box, ch, step, names, target)
            except AgentError as err:
                if not self._may_ask(err):
                    raise
                say = f"Please choose {' and '.join(want)}" + (
                    f" (never {', '.join(never)})" if never else ""
                ) + f" in “{self._label(ch, step)}” yourself."  # fmt: skip
                self._ask_human(
                    step, ch.open, err, say, lambda: self._state(box, ch, step, names) == target
                )
            if ch.loaded:
                self._data_shown(ch.loaded, step)
        got = self._state(box, ch, step, names)
        if got != target:
            raise AgentError(f"{step.caption}: reads back as {got}", Exit.AUDIT_MISMATCH)
        if step.audit:
            self.expected[step.audit] = target
            self.readers[step.audit] = lambda: self._state(
                self.find.one(ch.open, step.caption), ch, step, names
            )

    def _set_select(
        self, box: Locator, ch: Choose, step: Step, names: list[str], target: dict[str, bool]
    ) -> None:
        """Click the options that differ from what the box shows, close, read again."""
        for _ in range(2):
            state = self._state(box, ch, step, names)
            todo = [n for n in names if state[n] != target[n]]
            if not todo:
                return
            self._open_select(box, ch, step, names)
            self._all_drafts_offered(ch, step)
            if ch.audit == "permissions":  # what the list offers, for the engine's read-back
                self._offered[self._draft] = self._list_texts()
            for name in todo:
                if not self.find.any_visible(self._options(ch, name)):
                    self._open_select(box, ch, step, names)  # a list that closes after each click
                option = self.find.one(self._options(ch, name), f"the option {name!r}")
                if is_disabled(option):
                    raise AgentError(
                        f"{step.caption}: {name!r} is fixed {'off' if target[name] else 'on'}; "
                        "not submitted",
                        Exit.AUDIT_MISMATCH,
                    )
                self._press(option, f"the option {name!r}")
                if not ch.multiple and ch.loaded:
                    break
            if ch.multiple or self.find.any_visible(
                [c for n in names for c in self._options(ch, n)]
            ):
                self._close_select(ch, step, names)

    def _all_drafts_offered(self, ch: Choose, step: Step) -> None:
        """Several keys, each for its own value of this select (their accounts): all must be
        offered before any is made, so an unknown one stops the run before the first key."""
        if len(self.drafts) < 2 or ch.multiple:
            return
        values = {Vars(d).sub(w) for d in self.drafts for w in ch.want if "{" in w}
        missing = [v for v in sorted(values) if not self.find.any_visible(self._options(ch, v))]
        if missing:
            raise NoSuchOption(
                f"{step.caption}: the list offers no {', '.join(map(repr, missing))}; nothing "
                "was submitted",
                Exit.UI_NOT_UNDERSTOOD,
            )

    def do_check(self, step: Step, c: Check) -> None:
        on = c.state == "on"
        target = self.find.one(
            c.target, step.caption, then=self._box(step, "set by the agent"), tick=True
        )
        if target.is_checked() != on:
            if is_disabled(target):
                raise AgentError(
                    f"{step.caption}: fixed {'off' if on else 'on'}; not submitted",
                    Exit.AUDIT_MISMATCH,
                )
            try:
                self._press(target, step.caption)
            except NotActionable as err:
                if not self._may_ask(err):
                    raise
                self._ask_human(
                    step,
                    c.target,
                    err,
                    f"Please set “{self._what(c.target, step)}” {c.state} yourself.",
                    lambda: target.is_checked() == on,
                )
        if target.is_checked() != on:
            raise AgentError(f"{step.caption}: could not set it {c.state}", Exit.AUDIT_MISMATCH)
        if step.audit:
            self.expected[step.audit] = on
            self.readers[step.audit] = lambda: self.find.one(
                c.target, step.caption, tick=True
            ).is_checked()

    # -- permissions: the engine's rule, whatever the flow's steps did ---------------
    def _permission_widget(self) -> Locator:
        label = self.flow.permission_field
        cands = [Loc(field=label), Loc(role="combobox", name=label, exact=True)]
        return self.find.one(cands, f"the {label!r} field", timeout=self.opts.step_timeout / 3)

    def _permission_state(self, box: Locator) -> dict[str, bool]:
        """Every permission the page offers, and whether it is on, read as a person reads it:
        the ticks beside each name, or the list a select opens and the tags its box shows."""
        label = self.flow.permission_field
        area = box.locator("ob-area=" + engines.body(label=label))
        ticks = area.evaluate_all(
            f"els => {{ {engines.SOURCE}; return els.length === 1 ? OB.ticks(els[0]) : [] }}"
        )  # fmt: skip
        if ticks:
            return {str(t["text"]): bool(t["checked"]) for t in ticks if t["text"]}
        tags = engines.shown(box, label)
        # The list as the flow's step saw it open in this form, else opened now. (A tag shown
        # now that the list did not offer counts as on, below: nothing hides behind a cache.)
        offered = self._offered.get(self._draft) or self._open_list(box, label)
        if self._draft not in self._offered:
            self.page.keyboard.press("Escape")
            if offered and self._list_open():
                self.guard_origin()
                self.find.visible(self.page, Loc(text=label, exact=True)).first.click()
        state = {o: shows(tags, o) for o in offered}
        # A tag that is no option offered (a name the list does not show): on, and unknown.
        for piece in tags:
            if re.search(r"[^\W\d_]", piece) and not any(shows([piece], o) for o in offered):
                state[piece] = True
        return state

    def _open_list(self, box: Locator, label: str) -> list[str]:
        """Open a select and read every option its list shows (empty when none shows)."""
        self._press(box, f"the {label!r} list", before=engines.SNAP_JS)
        if not self.find.wait_any([Loc(text="/\\S/", popup=True)], self.opts.step_timeout / 2):
            return []
        return self._list_texts()

    def _list_texts(self) -> list[str]:
        """Every text in the list that opened (its options), in page order."""
        texts = self.page.locator("ob-popup=" + engines.body(text="/\\S/")).all_inner_texts()
        return list(dict.fromkeys(" ".join(t.split()) for t in texts if t.strip()))

    def _list_open(self) -> bool:
        return self.find.any_visible([Loc(text="/\\S/", popup=True)])

    def _keep_only_requested(self, prefix: str = "") -> list[str]:
        """Before any submit: every permission the page offers is read, whatever the flow's
        steps did; anything on that was not requested is switched off by the engine, and what
        was requested must read on. Problems, one line each (none: exactly as requested)."""
        want = [self.flow.permissions[k] for k in REQUESTED]
        label = self.flow.permission_field
        try:
            box = self._permission_widget()
            state = self._permission_state(box)
            for name in [n for n, on in state.items() if on and not _among(n, want)]:
                self.rep.warn(f"{prefix}{label}: {name!r} was on; the agent switches it off")
                self._switch_off(box, name)
            if any(on and not _among(n, want) for n, on in state.items()):
                state = self._permission_state(box)
        except AgentError as err:
            return [f"{prefix}{label}: could not be read back from the page ({err.message})"]
        problems = [f"{prefix}{label}: {n!r} is on" for n, on in state.items()
                    if on and not _among(n, want)]  # fmt: skip
        for w in want:
            got = [on for n, on in state.items() if _among(n, [w])]
            if not got:
                problems.append(f"{prefix}{label}: the page offers no {w!r}")
            elif not any(got):
                problems.append(f"{prefix}{label}: {w!r} is off")
        offered = ", ".join(f"{n} {'on' if on else 'off'}" for n, on in state.items())
        self.out.audit[f"{prefix}every permission offered".strip()] = (
            "MISMATCH" if problems else "ok"
        )
        if self.art:
            self.art.log("permissions", offered=offered, problems=problems)
        return problems

    def _switch_off(self, box: Locator, name: str) -> None:
        label = self.flow.permission_field
        area = box.locator("ob-area=" + engines.body(label=label))
        scope = area if area.count() == 1 else self.page
        tick = self.find.visible(scope, Loc(field=name), tick=True)
        if tick.count() == 1:
            self._press(tick, f"{name!r}")
            return
        self._open_list(box, label)
        option = self.find.one([Loc(text=name, exact=True, popup=True)], f"the option {name!r}")
        self._press(option, f"the option {name!r}")
        self.page.keyboard.press("Escape")
        if self._list_open():
            self.guard_origin()
            self.find.visible(self.page, Loc(text=label, exact=True)).first.click()

    # -- before submit ---------------------------------------------------------
    def audit(self) -> None:
        """Read every filled field back from the page; any difference stops before submit.

        With several drafts, each is shown in turn and read back: the human verifies once
        for all of them, so every one must be exactly as requested."""
        diffs = []
        keys = [self._draft] if self._separate else range(max(1, len(self.drafts)))
        for k in keys:
            prefix = ""
            if self.drafts:
                self._use_draft(k)
                if not self._separate:
                    self._select_draft(k)
                prefix = f"key {k + 1} ({self.vars.get('account_text')}) "
            diffs += self._keep_only_requested(prefix)
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
        placed = time.monotonic()  # when a factor (or the window) was last understood
        while True:
            self.guard_origin()  # between codes too: a redirect there is never typed into
            if self.find.any_visible(cd.done):
                return
            dialog = self.find.union(cd.dialog).first
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
                if time.monotonic() - placed > self.opts.step_timeout:
                    # A window the agent cannot read (no factor, no result it knows): never an
                    # endless loop; the person finishes it, within the human timeout.
                    self._wait_human(
                        Need("code", UNREAD_VERIFICATION),
                        lambda: (
                            self.find.any_visible(cd.done) or not self.find.any_visible(cd.dialog)
                        ),
                        self.opts.human_timeout,
                    )
                    placed = time.monotonic()
                continue
            placed = time.monotonic()
            if factor not in self.out.factors:
                self.out.factors.append(factor)
            boxes = self.find.union(cd.boxes, dialog)
            say = cd.say.get(factor, f"Enter the {factor} code")
            if self.opts.codes.automatic(factor):
                tries[factor] = tries.get(factor, 0) + 1
                if tries[factor] > 3:
                    raise AgentError(
                        f"the {factor} code was refused three times", Exit.HUMAN_TIMEOUT
                    )
                code = self.opts.codes.get(
                    factor, self.rep, cd.names.get(factor), self.opts.human_timeout
                )
                self._mark(boxes.first, step, f"{factor} code entered by the agent")
                self.guard_origin()
                if not self._sends(functools.partial(enter_code, boxes, code)):
                    self._submit_code(cd, dialog)
            else:
                self._mark(boxes.first, step, say, human=True)
                self.overlay.banner(say, "human")
            self._await_step_change(cd, factor, dialog, Need("code", say, factor))

    def _sends(self, act: Callable[[], None]) -> bool:
        """Whether the page sent a request of its own while `act` ran (typing the sixth digit
        of a code that the page then submits by itself). The page's requests are followed from
        the first code on (one subscription for the run)."""
        if not self._requests:
            self._requests.append(0)
            self.page.on("request", self._count_request)
        before = self._requests[0]
        act()
        return self._requests[0] > before

    def _count_request(self, req: Any) -> None:
        if req.resource_type in ("fetch", "xhr"):
            self._requests[0] += 1

    def _submit_code(self, cd: Codes, dialog: Locator) -> None:
        """Click Continue/Confirm unless the page already took the code (no button, or the
        button disabled while it checks it): never a second submission of the same code."""
        try:
            button = self.find.one(cd.submit, "the verification button", dialog, timeout=0)
            self._press(button, "the verification button")
        except NotActionable as err:
            if err.why != "disabled":
                raise
        except AgentError:
            return  # no button: the page goes on by itself

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
        self.out.displayed += [
            {k: v for k, v in r.items() if k not in ("secret",)} for r in records
        ]
        self.on_state("captured")
        # Any image in the credentials' box may encode them (the QR code): always painted over.
        self.secret_targets.append(box.locator("svg, canvas, img"))
        # Screenshots from now on paint over anything shaped like a secret or a key (by format,
        # not value): the dialog now, the key list later.
        self.secret_targets += [
            self.find.visible(self.page, Loc(text=f"/^\\s*(?:{fmt})\\s*$/"))
            for fmt in cap.formats.values()
        ]
        # Which keys these are: the current one alone, or every draft of one submission.
        first, count = (self._draft, 1) if self._separate else (0, max(1, len(self.drafts)))
        self.on_capture(records, first, count)  # encrypted and on disk before anything else
        faults.point("capture:after-store")
        self.out.records += records
        self.out.timings["capture_to_disk"] = time.monotonic() - t0
        self._mark(box, step, "saved, encrypted")

    def _from_clipboard(self, cap: Capture, box: Locator) -> list[dict[str, str]]:
        if not cap.clipboard:
            return []
        out: list[dict[str, str]] = []
        buttons = self.find.union(cap.clipboard, box)
        # One button per key: a match inside another (the button's own text, found by a
        # second candidate) is the same button, not a second key's.
        outer = buttons.evaluate_all(
            "els => els.flatMap((e, i) => els.some(o => o !== e && o.contains(e)) ? [] : [i])"
        )
        for k in outer:
            self.guard_origin()
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
            if rec not in out:  # the same key's text twice is one key
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


def _among(name: str, labels: list[str]) -> bool:
    return any(" ".join(name.split()).lower() == " ".join(x.split()).lower() for x in labels)


def _submits(step: Step) -> bool:
    return step.click is not None and step.click.by == "submit"


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


# The field the human put the cursor in, when the agent is to type there (a secret).
FOCUSED_FIELD_JS = """() => { const e = document.activeElement;
  return !!e && e.matches('input:not([type=checkbox]):not([type=radio]):not([type=hidden]), textarea')
    && !e.disabled && !e.readOnly }"""


def shown_ips(area: Locator, raw: bool = False) -> list[str]:
    """The IP addresses an allowlist's chips show in `area`, as a person reads them (a close
    glyph, an icon or spacing around an address is ignored): canonical and sorted, or with
    `raw` as written, in page order (one per chip, as its close controls are ordered)."""
    texts = area.locator("ob-chips={}").evaluate_all(
        f"els => {{ {engines.SOURCE}; return els.map(e => OB.ipOf(e.innerText)) }}"
    )
    found = [str(t) for t in texts if t]
    if raw:
        return found
    return sorted({canonical(t) or t for t in found})


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
    """Labelled values in document order: a label line then its value line, or "Label: value"
    on one line; a repeated label starts a new record."""
    # Whitespace as a person reads it: a label written with no-break or double spaces is
    # the same label.
    by_label = {" ".join(v.split()).lower(): k for k, v in fields.items()}
    same_line = re.compile(
        r"^(" + "|".join(re.escape(v) for v in sorted(by_label, key=len, reverse=True)) + r")"
        r"\s*:\s*(\S.*)$",
        re.IGNORECASE,
    )
    lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
    records: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    for i, line in enumerate(lines):
        name = by_label.get(line.lower().rstrip(":").strip())
        value = lines[i + 1] if name is not None and i + 1 < len(lines) else None
        m = same_line.match(line) if name is None else None
        if m:
            name, value = by_label[m.group(1).lower()], m.group(2).strip()
        if name is None or value is None:
            continue
        if name in cur:
            records.append(cur)
            cur = {}
        cur[name] = value
    if cur:
        records.append(cur)
    return records


def valid(rec: dict[str, str], formats: dict[str, str]) -> bool:
    return all(re.fullmatch(p, rec.get(k, "")) for k, p in formats.items())
