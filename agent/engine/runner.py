"""Carrying out a flow in a page: the loop over its steps. Each step's verb is a module of
agent.engine.verbs; this file decides only what comes next (the next step, the same step
again, a new submission, a new login) and tells the person and the run's log where it is.

Rules the engine enforces whatever the flow says: every fill and click is on an allowed
origin (Context.guard_origin); nothing is submitted before the form reads back exactly as
requested (agent.engine.audit), with every permission beyond read and trade off
(agent.engine.permissions); captured credentials are handed to custody before any further
action (verbs.capture).
"""

from __future__ import annotations

import time

from playwright.sync_api import Error as PWError

from agent import faults
from agent.engine import drafts
from agent.engine.context import Context, Options, Outcome
from agent.engine.flow import Loc, Step
from agent.engine.handover import wait_for_login
from agent.engine.interruptions import look_along, may_redo, redo
from agent.engine.signals import AccountFixed, Interrupted, Resubmit, SessionLost
from agent.engine.verbs import verb_for
from agent.exitcodes import AgentError, Exit

__all__ = ["Options", "Outcome", "Runner"]


class Runner(Context):
    """A run of one flow in one page. Its constructor is the Context's (what a run is given);
    observers attach to `hooks` before `run`."""

    _at: tuple[int, str] = (0, "")  # the plan's length and the step's caption, as shown

    def run(self) -> Outcome:
        plan = drafts.plan(self, self._wanted())
        # What skipped steps saw (their if_visible/unless_visible), until a step acts.
        self._looked: dict[str, bool] = {}
        i = resubmits = restarts = 0
        while i < len(plan):
            step, k = plan[i]
            self.use_draft(k)
            self.n, self.step = i + 1, step
            t0 = time.monotonic()
            caption = step.caption
            if self.drafts and (k > 0 or drafts.per_key(self, step)):
                caption += f" (key {k + 1}/{len(self.drafts)}: {self.vars.get('account_text')})"
            self._at = (len(plan), caption)
            self._tell("running")
            if self.art:
                self.art.log(
                    "step", id=step.id, caption=step.caption, state="running", url=self.page.url
                )
                if step.sensitive == "start":
                    self.art.pause_trace()
            try:
                if not self._do(step, f"Step {i + 1}/{len(plan)} — {caption}"):
                    self._tell("skipped")
                    i += 1
                    continue
            except AccountFixed as fixed:
                # Nothing is submitted yet: one submission per account, each from its own list.
                self.rep.warn(
                    f"{fixed.message.removesuffix('; not submitted')}: the create form shows the "
                    "account its list was switched to, so each sub-account's key is submitted "
                    "(and verified) on its own"
                )
                self.separate = True
                plan, i = drafts.plan_separate(self), 0
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
                wait_for_login(self)
                i = next(j for j, (_, d) in enumerate(plan) if d == k) if self.separate else 0
                continue
            except Resubmit:
                resubmits += 1
                at = next((j for j in range(i, -1, -1) if _submits(plan[j][0])), None)
                if at is None or resubmits > self.opts.max_resubmits:
                    raise AgentError(
                        "the verification was closed repeatedly; stopped", Exit.HUMAN_TIMEOUT
                    ) from None
                self.rep.warn("the verification window was closed; submitting again")
                i = at
                continue
            except Interrupted:
                redo(self, step, i + 1, len(plan), caption)
                continue
            except PWError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                err = AgentError(
                    f"{step.caption}: the page did not respond as expected ({first})",
                    Exit.UI_NOT_UNDERSTOOD,
                )
                self._stopped(err)
                raise err from None
            except AgentError as err:
                if err.code == Exit.UI_NOT_UNDERSTOOD and may_redo(self, step):
                    redo(self, step, i + 1, len(plan), caption)
                    continue
                self._stopped(err)
                raise
            self._done(step, k, time.monotonic() - t0)
            self._tell("done")
            i += 1
        self.overlay.banner(self.flow.done_say, unseen=True)  # a still window: none sees it
        return self.out

    def _wanted(self) -> list[Step]:
        """The flow's steps this request asks for (a step `when` a variable is set)."""
        return [s for s in self.flow.steps if not s.when or self.vars.get(s.when)]

    def _do(self, step: Step, banner: str) -> bool:
        """One step, on the login-free allowed page; False: not for this variant of the page."""
        if step.action != "navigate":
            if self.on_login_page():
                raise SessionLost()
            self.guard_origin()
        # A step for another variant of the page is skipped before anything is shown.
        if not self._applies(step):
            return False
        self._looked = {}  # a step acts: what the last skipped ones saw may have changed
        if step.action == "navigate":  # shown before the page goes; looked at once it is there
            self.overlay.banner(banner, unseen=True)  # (a still window's is replaced unseen)
        else:
            # The step's banner and the look for anything covering the page ride the step's
            # first read of its page (no round trip of their own); said before it acts.
            look_along(self, *self.overlay.banner_js(banner))
        try:
            if step.id == drafts.ADD_DRAFT:
                drafts.add_draft(self, step)
            else:
                self.perform(step)
        except BaseException:
            self.find.rider = None  # stopped before its first read: what follows says its own
            raise
        self.find.flush()
        return True

    def perform(self, step: Step) -> None:
        """Do one step with its verb: the observers are told before, and after it succeeded."""
        for hook in self.hooks.before_step:
            hook(step)
        verb_for(step).act(self, step, getattr(step, step.action))
        for hook in self.hooks.after_step:
            hook(step)

    def _applies(self, step: Step) -> bool:
        """UI variants: a step may be for pages that show (or do not show) something.

        Checked at once, not waited for: such steps follow a step that already waited
        for their page, and a wait here would be paid on every page without the variant.
        Steps skipped one after another that look for the same thing look once (nothing
        acted on the page in between)."""
        if step.if_visible and not self._shows(step.if_visible):
            return False
        return not (step.unless_visible and self._shows(step.unless_visible))

    def _shows(self, cands: list[Loc]) -> bool:
        key = "|".join(c.describe() for c in cands)
        if key not in self._looked:
            self._looked[key] = self.find.any_visible(cands)
        return self._looked[key]

    def _tell(self, status: str, detail: str = "") -> None:
        """The step's state, as the person and the operator see it ("Step 3/12 ...")."""
        total, caption = self._at
        self.rep.step(self.n, total, caption, status, detail)

    def _stopped(self, err: AgentError) -> None:
        self._tell("failed", err.message)
        self.overlay.banner(f"Stopped: {err.message}", "error")

    def _done(self, step: Step, k: int, seconds: float) -> None:
        """After a step: its time, its masked screenshot, and the trace resumed once the
        secrets are off the page (kept paused while the new key shows in the list)."""
        self.overlay.settle()
        per_key = self.drafts and (k or drafts.per_key(self, step))
        tkey = f"{step.id}#{k + 1}" if per_key else step.id
        self.out.timings[tkey] = seconds
        if self.art:
            self.art.log("step", id=step.id, state="done", seconds=round(seconds, 3))
            if step.screenshot:
                masks = self.secret_targets + [self.find.visible(self.page, m) for m in step.mask]
                self.art.screenshot(self.page, step.screenshot, masks)
            if step.sensitive == "end" and not self.out.records:
                self.art.resume_trace()
            elif step.sensitive == "end":  # the key list shows the new key: keep it out
                self.art.log("trace", state="stays paused: the new key shows on the page")
        if step.sensitive == "end":
            self.on_state("confirmed")
            faults.point("complete:after")

    def label_listed(self) -> bool | None:
        """After a stop between submit and capture: is a key with this label on its account's
        list? The flow's own steps up to its duplicate-name check answer it (False: there is
        none, so nothing was created). None: it cannot be told (several keys, or the page)."""
        if self.drafts:
            return None
        steps = self._wanted()
        check = next((k for k, s in enumerate(steps) if s.assert_ and s.assert_.absent), None)
        if check is None or not steps[0].navigate:
            return None
        plan = [s for s in steps[: check + 1] if s.navigate or s.choose or s is steps[check]]
        told, self.on_state = self.on_state, lambda _state: None  # a look: the journal stays
        try:
            for step in plan:
                self.perform(step)
        except AgentError as err:
            return True if err.code == Exit.EXCHANGE_REFUSED else None
        except PWError:
            return None
        finally:
            self.on_state = told
        return False


def _submits(step: Step) -> bool:
    return step.click is not None and step.click.by == "submit"
