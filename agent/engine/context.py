"""What every part of a run shares: the page, the flow, the request's values, and where the
run stands (which step, which key of a submission, what must read back before submit).

One object handed to every verb and helper, so that a verb is a module of plain functions
and the loop over the steps (agent.engine.runner) stays small. It also holds the one rule
every action obeys first: act only on an allowed origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page

from agent.engine.flow import Flow, Loc, Step
from agent.engine.human import CodeSources, Reporter, StandIn
from agent.engine.locate import Look, Resolver, Then, then_after
from agent.engine.overlay import Overlay
from agent.exitcodes import AgentError, Exit

_VAR = re.compile(r"\{([a-z_]+)\}")


class Vars(dict[str, Any]):
    """Request values a flow refers to as {name}."""

    def sub(self, text: str) -> str:
        def rep(m: re.Match[str]) -> str:
            v = self.get(m.group(1))
            if v is None:
                raise AgentError(f"flow refers to unknown value {{{m.group(1)}}}", Exit.BAD_INPUT)
            return ", ".join(v) if isinstance(v, list) else str(v)

        return _VAR.sub(rep, text)

    def sub_list(self, text: str) -> list[str]:
        """ "{ips}" -> the list itself; anything else -> one substituted string."""
        m = _VAR.fullmatch(text.strip())
        if m and isinstance(self.get(m.group(1)), list):
            return [str(x) for x in self[m.group(1)]]
        return [self.sub(text)]


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


@dataclass
class Hooks:
    """Observers of a run (recording a fixture set, say): told before and after each step's
    verb (after: only when it succeeded) and when a verification step shows a factor. They
    watch the page; they never steer the run."""

    before_step: list[Callable[[Step], None]] = field(default_factory=list)
    after_step: list[Callable[[Step], None]] = field(default_factory=list)
    on_factor: list[Callable[[str], None]] = field(default_factory=list)


def origin_of(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}".lower()


@dataclass
class Ledger:
    """The read-back before submit of one draft (agent.engine.audit)."""

    readers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    looks: dict[str, Look] = field(default_factory=dict)


class Context:
    """The run's shared state. Its constructor takes what a run is given (the runner's)."""

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
        self.draft = 0
        self.separate = False  # one submission per key (the form fixes the account)
        self.requests: list[int] = []  # the page's own fetch/xhr requests, once followed
        self.said_interruptions: list[str] = []  # each said once a run
        self.step: Step | None = None  # the step being done
        self.redone: dict[int, int] = {}  # step number -> times done again after an interruption
        self.offered: dict[int, list[str]] = {}  # per draft: the permission list's options
        # per draft: how to read each field back, what it must read, and the question each
        # reader asks the page (asked together, ahead); agent.engine.audit's
        self.audits: dict[int, Ledger] = {}
        self.listed = 0
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
        self.hooks = Hooks()
        self.find = Resolver(page, vars, opts.step_timeout)
        page.set_default_timeout(opts.step_timeout * 1000)
        self.overlay = Overlay(page, pace=opts.pace)
        self.out = Outcome()
        self.n = 0  # the step's number, as the person sees it
        page.on("load", lambda _: self.overlay.lost())

    def use_draft(self, k: int) -> None:
        if self.drafts:
            self.draft = k
            self.vars.update(self.drafts[k])
            if self.separate:
                self.vars["multi_draft"] = False

    # -- the one rule before every action ------------------------------------------
    def guard_origin(self) -> None:
        self.find.flush()  # a step's banner and look for interruptions come before it acts
        self.find.forget()  # what was read ahead holds no longer once the page is acted on
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

    # -- what the person sees -----------------------------------------------------------
    def mark(self, target: Locator, step: Step, note: str, human: bool = False) -> None:
        self.overlay.mark(target, step.id, f"{self.n} - {step.caption}: {note}", human)

    def box(self, step: Step, note: str, human: bool = False) -> Then | None:
        """The same box, drawn by the resolver in the round trip that finds the element."""
        return self.overlay.then_mark(step.id, f"{self.n} - {step.caption}: {note}", human)

    def field_to_fill(self, cands: list[Loc], step: Step, also: Then | None = None) -> Locator:
        """The one editable field a step types into, boxed as the agent's in the same call;
        `also` runs after the box, its answer in `find.then`."""
        then = self.box(step, "filled by the agent")
        if also is not None:
            then = then_after(then, also.js, also.arg)
        return self.find.one(cands, step.caption, editable=True, then=then)

    def what(self, cands: list[Loc], step: Step) -> str:
        """The flow's own name for the thing, as a person would look for it."""
        for c in cands:
            v = c.words()
            if v and not v.startswith("/"):
                return self.vars.sub(v)
        return step.caption
