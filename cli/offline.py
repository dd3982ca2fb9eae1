"""``tradeledger trust export`` and ``checkpoint sign``: the consortium's side of offline proof.

``trust export`` writes the trust file a verifier with no network is told to trust (chain
id, ledger contract, checkpoint-signing keys with their organisations' names, threshold,
maximum checkpoint age). ``checkpoint sign`` is run by each holder of a checkpoint key on
their own node: it signs "block N with hash H" (EIP-712) into a checkpoint file, adding to
the signatures already in it, after checking that their node has that very block. The
checkpoint then goes into v2 evidence bundles (``tradeledger evidence --checkpoint``).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.client import err, errors_to_exit, fail, get_settings
from ledger.errors import InvalidInput

trust_app = typer.Typer(help="The consortium's trust file, for offline verification.")
checkpoint_app = typer.Typer(help="Checkpoints: recent blocks signed by consortium keys.")

RpcOption = typer.Option(
    None, "--rpc", metavar="URL", help="Chain node (JSON-RPC). Default: TRADELEDGER_RPC_URL."
)
ContractOption = typer.Option(
    None,
    "--contract",
    metavar="ADDRESS",
    help="The ledger contract. Default: the one recorded by `tradeledger deploy`.",
)


def _contract(contract: str | None) -> str:
    from ledger.chain import read_record

    if contract is not None:
        return contract
    record = read_record(get_settings().deployment_file)
    if record is None:
        raise InvalidInput("no deployment recorded here: give --contract ADDRESS")
    return record.address


@trust_app.command("export")
def export(
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="Trust file to write."),
    signer: list[str] = typer.Option(
        ...,
        "--signer",
        "-s",
        metavar="ADDRESS=NAME",
        help="A checkpoint-signing key and its organisation's name; repeat for each.",
    ),
    threshold: int = typer.Option(
        ..., "--threshold", "-t", help="How many of the signers must sign a checkpoint."
    ),
    max_age: int = typer.Option(
        7 * 86400,
        "--max-age",
        metavar="SECONDS",
        help="Oldest checkpoint a verifier accepts for a status answer (default one week).",
    ),
    rpc: str | None = RpcOption,
    contract: str | None = ContractOption,
) -> None:
    """Write the consortium's trust file: chain id (asked of the node), contract, checkpoint keys, threshold, maximum age.

    Example:

    tradeledger trust export -o corridor.trust.json -t 2 -s 0xA1...=Kazakhstan Customs -s 0xB2...=Hairatan Border Customs
    """
    from ledger.chain import Rpc
    from ledger.proofs import Signer, TrustFile, parse_address, quantity

    with errors_to_exit():
        signers = []
        for item in signer:
            address, sep, name = item.partition("=")
            if not sep or not name.strip():
                raise InvalidInput(f"--signer {item!r}: give ADDRESS=NAME")
            signers.append(Signer(parse_address(address.strip(), "--signer"), name.strip()))
        url = rpc or get_settings().rpc_url
        chain_id = quantity(Rpc(url).call("eth_chainId", []), "eth_chainId", "trust file")
        address = _contract(contract)
        trust = TrustFile(
            chain_id, parse_address(address, "--contract"), tuple(signers), threshold, max_age
        )
        trust.save(output)
    err.print(
        f"trust file written to {output}: chain {chain_id}, contract {address}, "
        f"{threshold} of {len(signers)} checkpoint keys, checkpoints up to {max_age} s old",
        soft_wrap=True,
    )


@checkpoint_app.command("sign")
def sign(
    key: str = typer.Option(
        ..., "--key", "-k", metavar="NAME", help="Your checkpoint key's keystore (`keygen`)."
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        metavar="FILE",
        help="Checkpoint file: created, or given one more signature if it exists.",
    ),
    block: str = typer.Option(
        "latest", "--block", metavar="N|latest", help="The block to sign (a new file only)."
    ),
    confirmations: int = typer.Option(
        0, "--confirmations", help="Refuse a block with fewer confirmations than this."
    ),
    rpc: str | None = RpcOption,
    contract: str | None = ContractOption,
) -> None:
    """Sign a checkpoint with your key, after checking the block on your own node.

    Each key holder runs it in turn on the same file until the trust file's threshold is met.

    Examples:

    tradeledger checkpoint sign --key kz-customs-checkpoint -o week49.checkpoint.json

    tradeledger checkpoint sign --key hairatan-checkpoint -o week49.checkpoint.json
    """
    from ledger.chain import Rpc, keystore_path, load_key
    from ledger.proofs import Checkpoint, statement_at

    settings = get_settings()
    with errors_to_exit():
        account = load_key(settings, key)
        if account is None:
            fail(f"no keystore {key!r} in {keystore_path(settings, key).parent}: `keygen` first")
        node = Rpc(rpc or settings.rpc_url)
        if output.exists():
            existing = Checkpoint.from_json(json.loads(output.read_text()))
            mine = statement_at(node, "0x" + existing.contract.hex(), existing.block_number)
            if (mine.chain_id, mine.block_hash, mine.timestamp) != (
                existing.chain_id,
                existing.block_hash,
                existing.timestamp,
            ):
                fail(
                    f"{output} signs block {existing.block_number} as your node does not have "
                    "it: not signed"
                )
            statement = existing
        else:
            target: int | str = int(block) if block.isdigit() else block
            statement = statement_at(node, _contract(contract), target, confirmations)
        signed = statement.sign(bytes(account.key))
        output.write_text(json.dumps(signed.to_json(), indent=2) + "\n")
    err.print(
        f"checkpoint of block {signed.block_number} signed by {account.address} "
        f"({len(signed.signatures)} signature(s)) in {output}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(trust_app, name="trust")
    app.add_typer(checkpoint_app, name="checkpoint")
