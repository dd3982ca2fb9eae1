"""``tradeledger admin org …`` and ``admin key …``: organisations and their signing keys,
as thin commands over ``/v1/admin`` with the consortium admin's API key.

Every check (the address, the organisation, the key windows, a key admitted elsewhere) is
the service's and the contract's: these commands send what they are given and show the
answer, or the API's message and a non-zero exit. ``--json`` prints the API's answer as is.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cli.client import Client, err, errors_to_exit, fail

org_app = typer.Typer(
    help="Organisations of the consortium: list them, admit a new one.", no_args_is_help=True
)
key_app = typer.Typer(
    help="Organisations' signing keys: admit an address the organisation holds itself, have "
    "the service generate one, retire one, list them.",
    no_args_is_help=True,
)
out = Console(highlight=False)

KINDS = ("exporter", "issuing_body", "customs", "auditor")
JsonOption = typer.Option(False, "--json", help="Print the service's answer as JSON.")
OrgIdArgument = typer.Argument(
    ..., metavar="ORG_ID", help="The organisation's id (`tradeledger admin org list`)."
)
ValidFromOption = typer.Option(
    None,
    "--valid-from",
    metavar="TIME",
    help="Start of the key's window: Unix seconds or ISO 8601 (without an offset: UTC). "
    "Default: a minute ago.",
)
ValidUntilOption = typer.Option(
    None,
    "--valid-until",
    metavar="TIME",
    help="End of the key's window, as --valid-from. Default: in ten years.",
)


def print_json(body: Any) -> None:
    print(json.dumps(body, indent=2, ensure_ascii=False))


# ------------------------------------------------------------------ organisations


def _organisations(ctx: typer.Context) -> list[dict[str, Any]]:
    with Client(ctx) as client:
        found: list[dict[str, Any]] = client.json("GET", "/v1/admin/organisations")
    return found


@org_app.command("list")
def list_organisations(ctx: typer.Context, json_out: bool = JsonOption) -> None:
    """Every admitted organisation with its keys and their windows (from the service's index)."""
    with errors_to_exit():
        orgs = _organisations(ctx)
    if json_out:
        print_json(orgs)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Id", "Name", "Country", "Kind"):
        table.add_column(column, overflow="fold")
    table.add_column("Keys (valid from → until)", no_wrap=True)
    for org in orgs:
        keys = "\n".join(
            f"{k['address']}  {k['valid_from']} → {k['valid_until']}" for k in org["keys"]
        )
        table.add_row(str(org["org_id"]), org["name"], org["country"], org["kind"], keys or "-")
    out.print(table)


@org_app.command("admit")
def admit_organisation(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The organisation's legal name."),
    country: str = typer.Option(
        ..., "--country", metavar="CC", help="ISO 3166-1 alpha-2 country code, e.g. KZ or AF."
    ),
    kind: str = typer.Option(..., "--kind", help=f"One of: {', '.join(KINDS)}."),
    json_out: bool = JsonOption,
) -> None:
    """Admit an organisation on chain; prints its new id.

    Example:

    tradeledger --key $ADMIN admin org admit "Kostanay Flour Mill LLP" --country KZ --kind exporter
    """
    with errors_to_exit(), Client(ctx) as client:
        body = client.json(
            "POST",
            "/v1/admin/organisations",
            json={"name": name, "country": country, "kind": kind},
        )
    if json_out:
        print_json(body)
        return
    print(body["org_id"])
    err.print(
        f"organisation {body['org_id']} admitted: {name} ({country}, {kind}); tx {body['tx_hash']}",
        soft_wrap=True,
    )


# ------------------------------------------------------------------ signing keys


def _window(valid_from: str | None, valid_until: str | None) -> dict[str, str]:
    window = {"valid_from": valid_from, "valid_until": valid_until}
    return {name: value for name, value in window.items() if value is not None}


def _admitted(body: dict[str, Any], org_id: int) -> None:
    err.print(
        f"key {body['address']} admitted for organisation {org_id}, valid from "
        f"{body['valid_from']} until {body['valid_until']}; tx {body['tx_hash']}",
        soft_wrap=True,
    )


@key_app.command("admit")
def admit_key(
    ctx: typer.Context,
    org_id: int = OrgIdArgument,
    address: str = typer.Argument(
        ...,
        metavar="ADDRESS",
        help="The key's address (0x and 40 hex digits), e.g. what `tradeledger keygen` printed.",
    ),
    valid_from: str | None = ValidFromOption,
    valid_until: str | None = ValidUntilOption,
    json_out: bool = JsonOption,
) -> None:
    """Admit a signing key the organisation holds itself (non-custodial), by its address.

    The private key never reaches the service: the organisation signs its requests with it (`tradeledger sign-request`) and the service relays them. Prints the address.

    Example:

    tradeledger --key $ADMIN admin key admit 1 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
    """
    with errors_to_exit(), Client(ctx) as client:
        body = client.json(
            "POST",
            f"/v1/admin/organisations/{org_id}/keys",
            json={"address": address, **_window(valid_from, valid_until)},
        )
    if json_out:
        print_json(body)
        return
    print(body["address"])
    _admitted(body, org_id)


@key_app.command("generate")
def generate_key(
    ctx: typer.Context,
    org_id: int = OrgIdArgument,
    valid_from: str | None = ValidFromOption,
    valid_until: str | None = ValidUntilOption,
    json_out: bool = JsonOption,
) -> None:
    """Admit a new key that the service generates and keeps (custodial).

    The key lives in the service's encrypted keystore (custodial): bind it to an API key with `admin api-key issue --signing-key NAME`. Prints the address and the keystore name.
    """
    with errors_to_exit(), Client(ctx) as client:
        body = client.json(
            "POST",
            f"/v1/admin/organisations/{org_id}/keys",
            json=_window(valid_from, valid_until),
        )
    if json_out:
        print_json(body)
        return
    print(body["address"], body["signing_key"])
    _admitted(body, org_id)


@key_app.command("retire")
def retire_key(
    ctx: typer.Context,
    address: str = typer.Argument(..., metavar="ADDRESS", help="The key's address."),
    json_out: bool = JsonOption,
) -> None:
    """End a key's validity now; what it signed while valid stays valid."""
    with errors_to_exit(), Client(ctx) as client:
        body = client.json("POST", f"/v1/admin/keys/{address}/retire")
    if json_out:
        print_json(body)
        return
    err.print(f"key {body['address']} retired; tx {body['tx_hash']}", soft_wrap=True)


@key_app.command("list")
def list_keys(
    ctx: typer.Context,
    org_id: int | None = typer.Option(
        None, "--org", metavar="ORG_ID", help="Only this organisation's keys."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Every admitted key with its organisation and window (from the service's index)."""
    with errors_to_exit():
        orgs = _organisations(ctx)
    if org_id is not None and org_id not in {org["org_id"] for org in orgs}:
        fail(f"no organisation has id {org_id}: `tradeledger admin org list` shows them")
    rows = [
        {"org_id": org["org_id"], "organisation": org["name"], **key}
        for org in orgs
        if org_id is None or org["org_id"] == org_id
        for key in org["keys"]
    ]
    if json_out:
        print_json(rows)
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("Address", "Org", "Organisation", "Valid from", "Valid until"):
        table.add_column(column, overflow="fold", no_wrap=column == "Address")
    for row in rows:
        table.add_row(
            row["address"],
            str(row["org_id"]),
            row["organisation"],
            row["valid_from"],
            row["valid_until"],
        )
    out.print(table)
