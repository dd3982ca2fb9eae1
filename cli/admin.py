"""``tradeledger admin …``: the consortium admin's tasks.

Every task the REST API offers under ``/v1/admin`` is a thin command over it, run with the
admin API key (``--key`` or ``TRADELEDGER_API_KEY``): organisations and their signing keys
(``cli.organisations``), their encryption keys (``cli.content``), API keys (``cli.apikeys``). One task needs no API:
``admin recover-key`` (also ``tradeledger admin-key``) issues an admin API key straight into
the service database, the way back when the last one was lost or revoked; it needs what only
the operator has, the data folder (or the database) and its settings.
"""

from __future__ import annotations

import re

import typer
from rich.console import Console
from typer.models import CommandInfo

from cli.apikeys import api_key_app
from cli.client import errors_to_exit
from cli.content import enc_key_app
from cli.organisations import key_app, org_app

GROUPS = (
    ("org", org_app),
    ("key", key_app),
    ("enc-key", enc_key_app),
    ("api-key", api_key_app),
)

admin_app = typer.Typer(no_args_is_help=True)


@admin_app.command("recover-key")
def admin_key(
    label: str = typer.Option("Recovered consortium admin", help="What the key is for."),
) -> None:
    """Issue an admin API key from the data folder, without the API; printed once.

    For when no admin API key is left. Needs the service's data folder (or TRADELEDGER_DATABASE_URL) and settings. Also `tradeledger admin-key`.
    """
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


def _summary(command: CommandInfo) -> str:
    """The first clause of a command's help: short enough for one line of the listing."""
    lines = (command.callback.__doc__ or "").strip().splitlines() if command.callback else []
    return re.split(r"; | \(|\. ", lines[0] if lines else "", maxsplit=1)[0].rstrip(".")


def _listing() -> str:
    """One line per admin command, from the commands' own help (so it cannot drift)."""
    commands = [(f"{group} {c.name}", c) for group, sub in GROUPS for c in sub.registered_commands]
    commands += [(str(c.name), c) for c in admin_app.registered_commands]
    return "\n".join(f"{name:<16}{_summary(command)}" for name, command in commands)


for _name, _sub in GROUPS:
    admin_app.add_typer(_sub, name=_name)
admin_app.info.help = (
    "The consortium admin's tasks: organisations, their keys, API keys.\n\n"
    "Each is a call of the service's API with the admin API key (--key or "
    "TRADELEDGER_API_KEY), e.g. `tradeledger --key $ADMIN admin org list`. Refusals print the "
    "API's message and exit 1; --json prints the API's answer.\n\n\b\n" + _listing()
)


def register(app: typer.Typer) -> None:
    app.add_typer(admin_app, name="admin")
    app.command("admin-key", help="Same as `tradeledger admin recover-key`.")(admin_key)
