"""navigate: open a page of the flow by its path (with the demo-trading switch), through the
login if the site asks for one, and by the menu when the direct path no longer lands; the
page counts as open when its `ready` marker shows and its data (`loaded`) has arrived."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from agent.engine.context import Context, Vars
from agent.engine.contract import Fail, one, vis
from agent.engine.flow import Loc, Navigate, Step
from agent.engine.handover import check_language, wait_for_login
from agent.engine.interruptions import clear_interruptions, look_along
from agent.engine.pressing import press_in
from agent.engine.verbs.base import Verb, register
from agent.exitcodes import AgentError, Exit


def act(ctx: Context, step: Step, nav: Navigate) -> None:
    ctx.on_state("opened")
    query = ctx.opts.trading_query
    url = ctx.base + nav.path + (("&" if "?" in nav.path else "?") + query if query else "")
    ctx.page.goto(url, wait_until="domcontentloaded")
    if ctx.on_login_page():
        wait_for_login(ctx)
        if not ctx.find.wait_any(nav.ready, 3):
            ctx.page.goto(url, wait_until="domcontentloaded")
    ctx.guard_origin()
    check_language(ctx)
    look_along(ctx)  # with the look for the page's marker: one call when it shows already
    landed = urlsplit(ctx.page.url).path.rstrip("/") == nav.path.rstrip("/")
    if ctx.find.wait_any(nav.ready, ctx.opts.step_timeout if landed else 1.0):
        _loaded(ctx, nav, step)
        return
    if ctx.opts.demo:  # the menu may lead to the live pages: no live key made for demo
        raise AgentError(
            f"{nav.path}?{query} did not show {step.caption} (demo trading)",
            Exit.UI_NOT_UNDERSTOOD,
        )
    # The direct URL did not land (moved page?): take the menu path from where we are.
    ctx.rep.warn(f"{nav.path} did not show the expected page; trying the menu")
    ctx.page.goto(ctx.base + "/", wait_until="domcontentloaded")
    clear_interruptions(ctx)
    for menu in nav.via:
        ctx.guard_origin()
        if menu.hover:
            ctx.find.one(menu.hover, f"menu entry for {step.caption}").hover()
        if menu.click:
            press_in(ctx, ctx.find.one(menu.click, f"menu entry for {step.caption}"), step.caption)
    ctx.guard_origin()
    if not ctx.find.wait_any(nav.ready, ctx.opts.step_timeout):
        raise AgentError(
            f"could not reach {step.caption} (direct URL and menu both failed)",
            Exit.UI_NOT_UNDERSTOOD,
        )
    _loaded(ctx, nav, step)


def _loaded(ctx: Context, nav: Navigate, step: Step) -> None:
    ctx.page.wait_for_load_state("load")
    data_shown(ctx, nav.loaded, step)


def data_shown(ctx: Context, loaded: list[Loc] | None, step: Step) -> None:
    """The page's data has arrived: one of the flow's `loaded` markers shows."""
    if loaded and not ctx.find.wait_any(loaded, ctx.opts.step_timeout):
        raise AgentError(
            f"{step.caption}: the page never finished loading its data", Exit.UI_NOT_UNDERSTOOD
        )


def contract(page: Page, step: Step, stage: str, vars: Vars) -> str:
    nav = step.navigate
    assert nav is not None
    one(page, nav.ready, vars, "the page's `ready` marker")
    if nav.loaded:
        counts = [f"{c.describe()} -> {vis(page, c, vars).count()} match(es)" for c in nav.loaded]
        if not any(vis(page, c, vars).count() for c in nav.loaded):
            raise Fail("none of `loaded` shows (the list never looks loaded)", counts)
    return "ready and loaded found"


VERB = register(Verb("navigate", act, contract))
