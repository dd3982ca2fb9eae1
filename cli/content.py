"""``tradeledger content get``: a confidential document's content, decrypted on this machine
with the organisation's own X25519 key (issue 16), and ``tradeledger admin enc-key …``: the
organisations' encryption keys.

``content get`` fetches the sealed object and the envelope from the service, opens the
organisation's wrap with its keystore (``data_dir/keys/<name>.x25519.json``, unlocked with
the keystore secret) and writes the plaintext only once every chunk opened and its SHA-256
is the registered fingerprint: the service never sees the key.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.client import Client, err, errors_to_exit, fail
from cli.documents import resolve_sha256
from cli.organisations import JsonOption, OrgIdArgument, out, print_json

content_app = typer.Typer(
    help="Confidential documents' content, decrypted on this machine.", no_args_is_help=True
)
enc_key_app = typer.Typer(
    help="Organisations' X25519 encryption keys: create one on your own gateway, admit one, "
    "list them.",
    no_args_is_help=True,
)


@content_app.command("get")
def get(
    ctx: typer.Context,
    document: str = typer.Argument(
        ..., metavar="SHA256|FILE", help="The document's fingerprint, or a copy of the file."
    ),
    key: str = typer.Option(
        ...,
        "--key-name",
        "--key",
        metavar="KEYSTORE",
        help="Your organisation's encryption keystore in the data folder (e.g. org-1, see "
        "`tradeledger admin enc-key create`).",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", metavar="FILE", help="Where to write the decrypted document."
    ),
) -> None:
    """Decrypt a confidential document with your organisation's own key, on this machine.

    The file appears only once it decrypted whole and its SHA-256 is the registered fingerprint.

    Example:

    tradeledger content get 9f86d081…0a08 --key org-1 -o invoice.pdf
    """
    from ledger.config import get_settings
    from ledger.sealing import Envelope, Kind, load_org_key, open_to_file

    with errors_to_exit():
        sha = resolve_sha256(document)
        org_key = load_org_key(get_settings(), key)
        if org_key is None:
            fail(
                f"no encryption keystore {key!r} in this data folder",
                tip="name your organisation's keystore (`tradeledger admin enc-key create`)",
            )
        with Client(ctx) as client:
            envelope = Envelope.from_json(client.json("GET", f"/v1/documents/{sha}/envelope"))
            doc_key = envelope.open(org_key.private, org_key.public)
            with client.http.stream("GET", f"/v1/documents/{sha}/sealed") as response:
                if response.status_code >= 400:
                    response.read()
                    client.request("GET", f"/v1/documents/{sha}/sealed")  # raises its error
                size = open_to_file(
                    response.iter_bytes(), output, doc_key, Kind.CONTENT, expect_sha256=sha
                )
    err.print(f"{size} bytes decrypted to {output}; SHA-256 {sha} checked", soft_wrap=True)


@enc_key_app.command("create")
def create(
    name: str = typer.Argument(
        ..., metavar="KEYSTORE", help="Keystore name in the data folder, e.g. org-1."
    ),
) -> None:
    """Create your organisation's X25519 key pair in an encrypted keystore; prints the public key.

    Give the public key to the consortium admin (`admin enc-key add ORG_ID PUBLIC_KEY`). Keep the keystore secret outside the data folder (README, "What an operator must protect").
    """
    from ledger.config import get_settings
    from ledger.sealing import OrgKey, load_org_key, save_org_key

    with errors_to_exit():
        settings = get_settings()
        if load_org_key(settings, name) is not None:
            fail(f"keystore {name!r} exists already: choose another name to rotate")
        key = OrgKey.generate()
        path = save_org_key(settings, name, key)
    err.print(f"X25519 key pair written to {path} (encrypted); its public key:")
    print(key.public.hex())


@enc_key_app.command("add")
def add(
    ctx: typer.Context,
    org_id: int = OrgIdArgument,
    public_key: str | None = typer.Argument(
        None,
        metavar="[PUBLIC_KEY]",
        help="64 hexadecimal digits; omitted: the service generates the key and keeps it.",
    ),
    json_out: bool = JsonOption,
) -> None:
    """Admit an organisation's encryption key; it becomes current, the earlier one is retired."""
    with errors_to_exit(), Client(ctx) as client:
        body = client.json(
            "POST",
            f"/v1/admin/organisations/{org_id}/encryption-keys",
            json={"public_key": public_key},
        )
    if json_out:
        print_json(body)
        return
    out.print(f"organisation {org_id}: encryption key {body['public_key']} admitted")


@enc_key_app.command("list")
def list_keys(ctx: typer.Context, org_id: int = OrgIdArgument, json_out: bool = JsonOption) -> None:
    """An organisation's encryption keys, oldest first."""
    with errors_to_exit(), Client(ctx) as client:
        found = client.json("GET", f"/v1/admin/organisations/{org_id}/encryption-keys")
    if json_out:
        print_json(found)
        return
    for k in found:
        state = f"retired {k['retired_at']}" if k["retired_at"] else "current"
        out.print(f"{k['public_key']}  added {k['added_at']}  {state}")


def register(app: typer.Typer) -> None:
    app.add_typer(content_app, name="content")
