"""Many registrations at once on a local development chain, for benchmarks and tests.

``register_many`` signs one issuer's ``registerWithMetadata`` transactions itself and sends
them in JSON-RPC batches with the node's automine off, one ``evm_mine`` per block's worth,
so thousands of documents land in seconds and hundreds share a block, as on a busy chain.
It uses anvil's and Hardhat's ``evm_setAutomine`` and ``evm_mine``: local chains only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from eth_account.signers.local import LocalAccount

from ledger.chain.registry import Registry
from ledger.chain.rpc import Rpc, RpcError

RAW_CID_PREFIX = bytes.fromhex("01551220")  # CIDv1, raw leaves, sha2-256, 32 bytes
GWEI = 10**9


def register_many(
    rpc: Rpc,
    registry: Registry,
    issuer: LocalAccount,
    fingerprints: Sequence[bytes],
    per_block: int,
    reference: str = "SMGS-BULK",
    extra: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Register ``fingerprints`` (type 861, random CIDs, references ``{reference}-000042``),
    ``per_block`` to a block; ``extra`` raw transactions (0x-hex) join the last block.
    Returns the transaction hashes in order, the extra ones last."""
    chain_id = int(rpc.call("eth_chainId", []), 16)
    nonce = int(rpc.call("eth_getTransactionCount", [issuer.address, "pending"]), 16)
    hashes: list[str] = []
    rpc.call("evm_setAutomine", [False])
    try:
        for first in range(0, len(fingerprints), per_block):
            raw = []
            for i in range(first, min(first + per_block, len(fingerprints))):
                args = [
                    fingerprints[i],
                    861,
                    RAW_CID_PREFIX,
                    os.urandom(32),
                    f"{reference}-{i:06d}",
                    RAW_CID_PREFIX + os.urandom(32),
                ]
                tx = {
                    "type": 2,
                    "chainId": chain_id,
                    "nonce": nonce + i,
                    "to": registry.address,
                    "data": registry.contract.encode_abi("registerWithMetadata", args),
                    "gas": 150_000,
                    "maxFeePerGas": 100 * GWEI,
                    "maxPriorityFeePerGas": GWEI,
                    "value": 0,
                }
                raw.append("0x" + issuer.sign_transaction(tx).raw_transaction.hex())
            if first + per_block >= len(fingerprints):
                raw += extra
            answers = rpc.batch([("eth_sendRawTransaction", [r]) for r in raw])
            for answer in answers:
                if isinstance(answer, RpcError):
                    raise answer
            hashes += [str(a) for a in answers]
            rpc.call("evm_mine", [])
            if progress is not None:
                progress(len(hashes))
    finally:
        rpc.call("evm_setAutomine", [True])
    return hashes
