"""`onboard vault ...`: list, show, export and re-encrypt stored credentials."""

from __future__ import annotations

import typer

vault_app = typer.Typer(help="Stored credentials: list (no secrets), show, export, rekey.", no_args_is_help=True)
