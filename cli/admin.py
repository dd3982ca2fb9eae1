"""``tradeledger admin-key``: issue a consortium admin API key straight into the service
database, with no API call. The way back when the last admin key was lost or revoked: it
needs what only the operator has, the data folder (or the database) and its settings."""

from __future__ import annotations

import typer
from rich.console import Console

from cli.client import errors_to_exit


def admin_key(
    label: str = typer.Option("Recovered consortium admin", help="What the key is for."),
) -> None:
    """Issue a new admin API key locally (for when no admin key is left); printed once."""
    from ledger.config import get_settings
    from ledger.db import make_engine
    from ledger.flows import ApiKeys, Role

    settings = get_settings()
    with errors_to_exit():
        engine = make_engine(settings.db_url)
        try:
            _, token = ApiKeys(engine).create(label, Role.ADMIN, None, "deployer")
        finally:
            engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    Console(stderr=True).print(f"admin API key issued in {where} (shown once):")
    print(token)


def register(app: typer.Typer) -> None:
    app.command("admin-key")(admin_key)
