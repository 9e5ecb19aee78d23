"""`onboard replica`: the bundled OKX replica (web UI + REST) on loopback, for tests and demos.

Not on the production path: the replica and its web server (the `replica` extra: starlette,
uvicorn, segno) are imported only inside this command and `onboard demo`, after
`need_replica` has said in one line what to install when they are missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def replica(
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8700,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", "-s", help="Fault/variant knob, repeatable. See --list-scenarios."
        ),
    ] = None,
    seed: Annotated[str | None, typer.Option(help="Accounts seed YAML (default: bundled).")] = None,
    list_scenarios: Annotated[
        bool, typer.Option("--list-scenarios", help="List the scenarios and exit.")
    ] = False,
    mutate: Annotated[
        str | None,
        typer.Option(
            help="Serve the pages with this seed's random mutations (7, or 7:late,cover for "
            "only those kinds); prints them and the agent command the fuzz runs.",
        ),
    ] = None,
    list_mutations: Annotated[
        bool, typer.Option("--list-mutations", help="List the mutation kinds and exit.")
    ] = False,
) -> None:
    """Serve the bundled OKX replica (web UI + REST) on loopback, for tests and demos."""
    need_replica("replica")
    from replica.scenarios import describe

    if list_scenarios:
        for name, doc in describe().items():
            typer.echo(f"{name:22} {doc}")
        raise typer.Exit(0)
    if list_mutations:
        from replica.mutations import describe as kinds

        for name, doc in kinds().items():
            typer.echo(f"{name:18} {' '.join(doc.split())}")
        raise typer.Exit(0)
    from replica.server import serve_forever

    problem = replica_problem(host, port, seed, mutate)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    try:
        serve_forever(
            host=host, port=port, scenarios=list(scenario or []), seed=seed, mutate=mutate
        )
    except (ValueError, OSError) as exc:
        typer.echo(f"error: {getattr(exc, 'strerror', None) or exc}", err=True)
        raise typer.Exit(2 if isinstance(exc, ValueError) else 1) from None


def need_replica(command: str) -> None:
    """One line and exit 1 when the replica's extra (its web server) is not installed."""
    from agent.extras import replica_hint

    hint = replica_hint(command)
    if hint:
        typer.echo(f"error: {hint}", err=True)
        raise typer.Exit(1)


def replica_problem(
    host: str, port: int, seed: str | None, mutate: str | None = None
) -> str | None:
    """What is wrong with the replica's options, before anything binds."""
    import ipaddress

    if mutate is not None:
        from replica.mutations import parse_spec

        try:
            parse_spec(mutate)
        except ValueError as exc:
            return f"--mutate {mutate}: {exc}"
    if not 0 <= port <= 65535:
        return f"--port {port}: give a TCP port from 0 to 65535 (0 picks a free one)"
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return f"--host {host!r}: give an IP address to bind (e.g. 127.0.0.1)"
    if seed is not None:
        path = Path(seed)
        if not path.is_file():
            return f"--seed {seed}: no such file"
        import yaml

        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            return f"--seed {seed}: not a readable YAML file ({type(exc).__name__})"
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            return f"--seed {seed}: not a replica seed (a mapping with an 'accounts' list)"
    return None
