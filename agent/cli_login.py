"""`onboard login-state save PROFILE`: a client profile's login sealed as storage state.

Why: a batch entry that opens a profile needs a browser of its own; the same login sealed
(agent.custody.logins) runs in a fresh context of the batch's warm browser, here or on a
browser server of the pool (roster: `login_state: NAME`). Only the cookies and local
storage leave the profile, encrypted to this machine's identity; nothing is printed but
where the sealed file is.
"""

from __future__ import annotations

from typing import Annotated

import typer

login_app = typer.Typer(
    help="Client logins sealed as storage state, for warm batch slots and browser pools.",
    no_args_is_help=True,
)


@login_app.command("save")
def save(
    profile: Annotated[str, typer.Argument(help="The client's profile (logged in already).")],
    name: Annotated[
        str | None, typer.Option(help="Name to seal it under (default: the profile's).")
    ] = None,
) -> None:
    """Seal a profile's login (cookies, local storage), age-encrypted to this machine."""
    from agent.config import Settings, name_problem
    from agent.custody import logins

    name = name or profile
    for what, value in (("profile", profile), ("--name", name)):
        if problem := name_problem(what, value):
            typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(2)
    settings = Settings()
    data_dir = settings.profiles_dir / profile
    if not data_dir.is_dir():
        typer.echo(f"error: no profile {profile!r} in {settings.profiles_dir}", err=True)
        raise typer.Exit(2)
    path = logins.seal(settings, name, read_state(data_dir))
    typer.echo(f"sealed the login of profile {profile} as {name}: {path}")


def read_state(data_dir: object) -> dict[str, object]:
    """The profile's storage state, read by this machine's browser (headless, then closed)."""
    from playwright.sync_api import sync_playwright

    from agent.browser import require_browser

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(data_dir),
            headless=True,
            **require_browser(True, p).launch_kwargs(),  # type: ignore[arg-type]
        )
        try:
            return dict(ctx.storage_state())
        finally:
            ctx.close()
