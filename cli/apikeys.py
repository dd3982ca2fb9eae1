"""``tradeledger admin api-key …``: issue, list and revoke the service's API keys, as thin
commands over ``/v1/admin/api-keys`` with the consortium admin's API key.

A token is shown once, when issued: ``issue`` prints it alone on stdout (for a script to
capture) and what it is on stderr.
"""

from __future__ import annotations

from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.client import Client, err, errors_to_exit
from cli.organisations import JsonOption, print_json

api_key_app = typer.Typer(
    help="API keys of the service: issue one for a role and organisation, list, revoke.",
    no_args_is_help=True,
)
out = Console(highlight=False)

ROLES = ("exporter", "issuer", "customs", "auditor", "admin")


@api_key_app.command("issue")
def issue(
    ctx: typer.Context,
    label: str = typer.Option(
        ..., "--label", help="Who or what the key is for, e.g. 'KZ flour exporter, desk 2'."
    ),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    org_id: int | None = typer.Option(
        None,
        "--org",
        metavar="ORG_ID",
        help="The organisation the key acts for (required for every role but admin).",
    ),
    signing_key: str | None = typer.Option(
        None,
        "--signing-key",
        metavar="NAME",
        help="Keystore name of a key the service holds for that organisation (from "
        "`admin key generate`), to sign its registrations with.",
    ),
    json_out: bool = JsonOption,
) -> None:
    """Issue an API key; prints the token, shown this once only.

    Example:

    tradeledger --key $ADMIN admin api-key issue --label "KZ exporter relay" --role exporter --org 1
    """
    request: dict[str, Any] = {"label": label, "role": role}
    if org_id is not None:
        request["organisation_id"] = org_id
    if signing_key is not None:
        request["signing_key"] = signing_key
    with errors_to_exit(), Client(ctx) as client:
        body = client.json("POST", "/v1/admin/api-keys", json=request)
    if json_out:
        print_json(body)
        return
    print(body["token"])
    org = f", organisation {body['organisation_id']}" if body["organisation_id"] else ""
    signs = f", signs with {body['signing_key']}" if body["signing_key"] else ""
    err.print(
        f"API key {body['key_id']} issued ({body['role']}{org}{signs}): the token above is "
        "shown once; hand it over safely",
        soft_wrap=True,
    )


@api_key_app.command("list")
def list_api_keys(ctx: typer.Context, json_out: bool = JsonOption) -> None:
    """The API keys in force (never their tokens)."""
    with errors_to_exit(), Client(ctx) as client:
        keys: list[dict[str, Any]] = client.json("GET", "/v1/admin/api-keys")
    if json_out:
        print_json(keys)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Id", "Label", "Role", "Org", "Signing key"):
        table.add_column(column, overflow="fold")
    for key in keys:
        table.add_row(
            key["key_id"],
            key["label"],
            key["role"],
            str(key["organisation_id"] or "-"),
            key["signing_key"] or "-",
        )
    out.print(table)


@api_key_app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: str = typer.Argument(
        ..., metavar="KEY_ID", help="The key's id (`admin api-key list`; in a token tdl_ID_…)."
    ),
) -> None:
    """Revoke an API key at once. The last admin key cannot be revoked: issue another first."""
    with errors_to_exit(), Client(ctx) as client:
        client.request("DELETE", f"/v1/admin/api-keys/{key_id}")
    err.print(f"API key {key_id} revoked")
