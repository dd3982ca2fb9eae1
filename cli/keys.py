"""``tradeledger keygen`` and ``sign-request``: an exporter's own key, for gasless registration.

The key lives in an encrypted keystore on the exporter's machine (``ledger.chain.keys``, under
``TRADELEDGER_DATA_DIR/keys``); only its address is ever printed. ``sign-request`` hashes a
document here and signs the EIP-712 registration request that ``tradeledger relay`` (or
anyone) hands to ``POST /v1/documents/relay``: the file never has to be trusted to a key
the service holds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from cli.client import Client, err, errors_to_exit, fail, get_settings
from cli.documents import ConsignmentOption, DocTypeOption, hash_local
from ledger.cid import Cid
from ledger.doctypes import check_doc_type
from ledger.errors import ChainUnavailable, InvalidInput
from ledger.flows import check_consignment_ref

RESERVED = {"deployer"}  # the service's admin key lives under this name in the same folder
KEY_NAME_HELP = "Keystore name (letters, digits, - and _)."


def keygen(name: str = typer.Argument(..., metavar="NAME", help=KEY_NAME_HELP)) -> None:
    """Generate a signing key into an encrypted keystore on this machine; prints its address.

    The private key is never printed. The keystore is encrypted with TRADELEDGER_KEYSTORE_SECRET, or the secret in the file TRADELEDGER_KEYSTORE_SECRET_FILE (outside the data folder). Then ask the consortium admin to admit the address for your organisation (`tradeledger admin key admit ORG_ID ADDRESS`).

    Example:

    tradeledger keygen kz-flour-exporter
    """
    from eth_account import Account

    from ledger.chain import keystore_path, save_key

    settings = get_settings()
    with errors_to_exit():
        if name in RESERVED:
            fail(f"{name!r} is the service's own keystore name: choose another")
        path = keystore_path(settings, name)
        if path.exists():
            address = json.loads(path.read_text()).get("address", "?")
            fail(
                f"keystore {name!r} already exists ({path}, address 0x{address.removeprefix('0x')}): "
                "nothing generated; choose another name"
            )
        account = Account.create()
        path = save_key(settings, name, account)
    print(account.address)
    err.print(
        f"key {name!r} saved encrypted in {path}; ask the consortium admin to admit "
        f"{account.address} for your organisation (`tradeledger admin key admit ORG_ID "
        f"{account.address}`), then use `tradeledger sign-request --key {name}`",
        soft_wrap=True,
    )


def sign_request_command(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., metavar="FILE", help="The document to register (hashed here, not sent)."
    ),
    key: str = typer.Option(
        ..., "--key", "-k", metavar="NAME", help="Keystore made by `keygen` (not the API key)."
    ),
    doc_type: int = DocTypeOption,
    consignment: str = ConsignmentOption,
    nonce: int | None = typer.Option(
        None,
        "--nonce",
        min=0,
        help="The key's next request number, 0 for its first (default: read from the chain).",
    ),
    deadline_minutes: int = typer.Option(
        60, "--deadline-minutes", min=1, help="Minutes the request stays valid."
    ),
    metadata_cid: str | None = typer.Option(
        None, "--metadata-cid", metavar="CID", help="CID of the document's metadata, if stored."
    ),
    chain_id: int | None = typer.Option(
        None, "--chain-id", help="Chain id (default: from the service's GET /health)."
    ),
    contract: str | None = typer.Option(
        None, "--contract", metavar="ADDRESS", help="Ledger contract (default: from GET /health)."
    ),
    rpc: str | None = typer.Option(
        None,
        "--rpc",
        metavar="URL",
        help="Chain node to read the nonce from (default: the service's, from GET /health).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", help="Write the signed request here (else print)."
    ),
) -> None:
    """Sign a gasless registration request (EIP-712) with your own key, for `relay`.

    Prints (or writes) the JSON that POST /v1/documents/relay accepts: issuer, doc_type, consignment_ref, metadata_cid, nonce, deadline, signature (plus sha256, cid, chain_id and contract, for reference).

    Examples:

    tradeledger sign-request certificate.pdf --key kz-flour-exporter -t 861 -c SMGS-0042 -o signed.json

    tradeledger sign-request invoice.pdf -k kz-flour-exporter -t 380 -c SMGS-0042 --nonce 3 --chain-id 31337 --contract 0x5FbDB2315678afecb367f032d93F642f64180aa3
    """
    from ledger.chain import RegisterRequest, keystore_path, load_key, sign_request

    settings = get_settings()
    with errors_to_exit():
        check_doc_type(doc_type)
        consignment = check_consignment_ref(consignment)
        metadata = bytes(Cid.parse(metadata_cid)) if metadata_cid else b""
        account = load_key(settings, key)
        if account is None:
            fail(
                f"no keystore {key!r} in {keystore_path(settings, key).parent}: "
                f"run `tradeledger keygen {key}` first"
            )
        fingerprint = hash_local(file)
        service_chain: dict[str, Any] = {}
        if chain_id is None or contract is None or (nonce is None and rpc is None):
            with Client(ctx) as client:
                service_chain = client.health()["chain"]
        chain_id = chain_id if chain_id is not None else int(service_chain["chain_id"])
        contract = contract or str(service_chain["contract"])
        if nonce is None:
            nonce = _chain_nonce(rpc or str(service_chain["rpc_url"]), contract, account.address)
        request = RegisterRequest(
            account.address,
            fingerprint.sha256_bytes,
            doc_type,
            fingerprint.cid_bytes,
            consignment,
            metadata,
            nonce,
            int(time.time()) + deadline_minutes * 60,
        )
        signature = sign_request(account, request, chain_id, contract)
        signed = {
            "issuer": account.address,
            "doc_type": doc_type,
            "consignment_ref": consignment,
            "metadata_cid": str(Cid.parse(metadata)) if metadata else None,
            "nonce": nonce,
            "deadline": request.deadline,
            "signature": "0x" + signature.hex(),
            "sha256": fingerprint.sha256,
            "cid": fingerprint.cid,
            "chain_id": chain_id,
            "contract": contract,
        }
        text = json.dumps(signed, indent=2) + "\n"
        if output is not None:
            output.write_text(text, encoding="utf-8")
    if output is None:
        print(text, end="")
    else:
        err.print(
            f"signed request for {file} (nonce {nonce}) written to {output}; "
            f"send it with `tradeledger relay {file} --request {output}`",
            soft_wrap=True,
        )


def _chain_nonce(rpc: str, contract: str, address: str) -> int:
    """The key's next request nonce, read from the ledger contract."""
    from ledger.chain import Registry, connect

    try:
        info = Registry(connect(rpc, timeout=5.0), contract).key_info(address)
    except ChainUnavailable as exc:
        raise InvalidInput(f"{exc}; or give --nonce N yourself") from exc
    if info.org_id == 0:
        err.print(
            f"[yellow]warning[/yellow]: key {address} is not admitted on chain yet: the relay "
            "will be refused until the consortium admin admits it for your organisation "
            f"(`tradeledger admin key admit ORG_ID {address}`)",
            soft_wrap=True,
        )
    return int(info.nonce)


def register(app: typer.Typer) -> None:
    """Add ``keygen`` and ``sign-request`` to ``app``."""
    app.command("keygen")(keygen)
    app.command("sign-request")(sign_request_command)
