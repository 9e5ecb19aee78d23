"""Handing over to the person at the browser: a bounded wait that re-reads the page on each
of its events, the page that differs from the flow (shown, asked, confirmed by reading), the
login and the site's language. The agent never guesses on a page it does not understand."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Error as PWError

from agent.engine.context import Context
from agent.engine.flow import Loc, Step
from agent.engine.human import Need
from agent.engine.interruptions import may_redo
from agent.engine.signals import Interrupted, NoSuchOption
from agent.engine.waiting import wait_human
from agent.exitcodes import AgentError, Exit


def may_ask(ctx: Context, err: AgentError) -> bool:
    """Whether a page that differs from the flow is the human's (guided) or a stop."""
    return (
        err.code == Exit.UI_NOT_UNDERSTOOD
        and ctx.opts.drift_to_human
        and not isinstance(err, NoSuchOption)
    )


def ask_human(
    ctx: Context, step: Step, cands: list[Loc], err: AgentError, say: str, done: Callable[[], bool]
) -> None:
    """The page differs from the flow: never guess. Show where, ask, then confirm by reading.

    Unless an announcement or banner came up meanwhile: that step is done again instead."""
    if may_redo(ctx, step):
        raise Interrupted()
    ctx.rep.warn(f"{step.caption}: the page does not match the flow ({err.message})")
    ctx.out.drifted.append(step.id)
    if ctx.art:
        ctx.art.log("drift", step=step.id, detail=err.message)
        ctx.art.screenshot(ctx.page, f"unexpected-{step.id}", ctx.secret_targets, whole=True)
    for c in cands:  # several matches: box each one so the human sees the candidates
        els = ctx.find.visible(ctx.page, c)
        for k in range(min(els.count(), 5)):
            ctx.overlay.mark(els.nth(k), f"drift-{k}", f"{ctx.n} - which one? {step.caption}", True)
    ctx.overlay.banner(say, "human")
    wait_human(ctx, Need("act", say), done, ctx.opts.human_timeout)
    for k in range(5):
        ctx.overlay.unmark(f"drift-{k}")
    ctx.rep.info(f"{step.caption}: confirmed on the page after the human acted")


def wait_for_login(ctx: Context) -> None:
    say = ctx.flow.login.say
    ctx.overlay.banner(say, "human")
    ctx.rep.info(f"waiting for the client to log in: {say}")
    wait_human(ctx, Need("login", say), lambda: not ctx.on_login_page(), ctx.opts.login_timeout)
    ctx.page.wait_for_load_state("domcontentloaded")
    ctx.rep.info("logged in; continuing")


def check_language(ctx: Context) -> None:
    """The flow's texts are in one language: another one shown is the person's to switch."""
    lang = ctx.flow.language
    if lang is None:
        return

    def ok() -> bool:
        try:
            shown = ctx.page.evaluate("document.documentElement.lang || ''")
        except PWError:
            return False
        return str(shown).lower().startswith(lang.expect.lower())

    if ok():
        return
    say = ctx.vars.sub(lang.say)
    ctx.overlay.banner(say, "human")
    ctx.rep.warn(f"the site is not in the flow's language: {say}")
    wait_human(ctx, Need("act", say), ok, ctx.opts.human_timeout)
    ctx.page.wait_for_load_state("load")
