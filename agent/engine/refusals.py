"""What the site says when it refuses (an alert, a toast: the flow's `errors` locators),
read as a person reads it, and waited away before the next attempt reads a new one."""

from __future__ import annotations

from playwright.sync_api import Error as PWError

from agent.engine.context import Context
from agent.engine.flow import Loc


def error_text(ctx: Context, errors: list[Loc] | None) -> str:
    if not errors:
        return ""
    for loc in errors:
        el = ctx.find.visible(ctx.page, loc)
        if el.count():
            return " ".join(el.first.inner_text().split())
    return ""


def errors_gone(ctx: Context, errors: list[Loc] | None) -> None:
    if not errors:
        return
    try:
        ctx.find.union(errors).first.wait_for(state="hidden", timeout=ctx.opts.step_timeout * 1000)
    except PWError:
        pass  # a message that stays: the next attempt reads it again
