"""The `onboard` command line. Heavy modules are imported inside commands so `--help` is instant."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="onboard",
    help=(
        "Get a client's OKX API key created, captured, stored encrypted and verified.\n\n"
        "Start with `onboard demo` (bundled replica, scripted client) or "
        "`onboard run --label ICG-MM --ip 203.0.113.7` alongside a client."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _not_yet(what: str) -> None:
    typer.echo(f"onboard {what}: not yet implemented", err=True)
    raise typer.Exit(2)


@app.command()
def replica(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8700,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Fault/variant knob, repeatable. See --list-scenarios."),
    ] = None,
    seed: Annotated[str | None, typer.Option(help="Accounts seed YAML (default: bundled).")] = None,
    list_scenarios: Annotated[bool, typer.Option(help="List the scenarios and exit.")] = False,
) -> None:
    """Serve the bundled OKX replica (web UI + REST) on loopback, for tests and demos."""
    from replica.scenarios import describe

    if list_scenarios:
        for name, doc in describe().items():
            typer.echo(f"{name:22} {doc}")
        raise typer.Exit(0)
    from replica.server import serve_forever

    try:
        serve_forever(host=host, port=port, scenarios=list(scenario or []), seed=seed)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def run() -> None:
    """Guide a client through creating an API key (not yet)."""
    _not_yet("run")


@app.command()
def demo() -> None:
    """Run the agent against the bundled replica with a scripted client (not yet)."""
    _not_yet("demo")


@app.command()
def verify() -> None:
    """Prove a stored key works with a signed REST call (not yet)."""
    _not_yet("verify")


@app.command()
def batch() -> None:
    """Onboard many accounts from a roster (not yet)."""
    _not_yet("batch")


@app.command()
def doctor() -> None:
    """Check this machine: browser, display, vault, flows (not yet)."""
    _not_yet("doctor")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
