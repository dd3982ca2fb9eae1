"""The chain: everything that talks to the EVM chain and the ledger contract on it.

Connecting and sending (``sender``, ``rpc``, ``signing``, ``reverts``), the contract as
typed Python (``registry``, ``relay`` for EIP-712 requests, ``merkle`` and ``manifest`` for
batches), building and deploying it (``compile``, ``artifacts/``, ``deployment``), the
signing keys at rest (``keys``) and local development chains (``localchain``; for a
persistent anvil, its ``supervisor`` process and its ``snapshots`` on disk; ``bulk``
registrations for benchmarks and tests).

Imports only the shared modules at the top of ``ledger`` (never content, index or flows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.surface import lazy, names

SURFACE = {
    "": ["reverts"],
    "bulk": ["register_many"],
    "compile": ["SHIPPED", "compile_contracts", "find_solc", "load_artifact", "write_artifacts"],
    "deployment": [
        "Deployment",
        "deployer_account",
        "ensure_deployed",
        "fund_from_dev_account",
        "open_registry",
        "read_record",
    ],
    "keys": [
        "create_key",
        "keystore_path",
        "load_key",
        "load_or_create_key",
        "save_key",
    ],
    "localchain": ["LocalChain", "free_port", "stop_chain", "stop_pid"],
    "manifest": ["Manifest", "ManifestEntry"],
    "merkle": ["BatchMember", "MerkleTree", "verify_merkle_proof=verify"],
    "registry": ["CONTRACT_NAME", "Registry", "contract_factory"],
    "relay": ["RegisterRequest", "recover_signer", "sign_request"],
    "reverts": ["ErrorDecoder"],
    "rpc": ["Rpc", "RpcError"],
    "snapshots": ["durable_block"],
    "sender": ["PYEVM", "Sender", "Sent", "connect", "is_connection_error", "wait_until_answers"],
}
__all__ = names(SURFACE)
__getattr__ = lazy(__name__, SURFACE, globals())

if TYPE_CHECKING:
    from ledger.chain import reverts
    from ledger.chain.bulk import register_many
    from ledger.chain.compile import (
        SHIPPED,
        compile_contracts,
        find_solc,
        load_artifact,
        write_artifacts,
    )
    from ledger.chain.deployment import (
        Deployment,
        deployer_account,
        ensure_deployed,
        fund_from_dev_account,
        open_registry,
        read_record,
    )
    from ledger.chain.keys import (
        create_key,
        keystore_path,
        load_key,
        load_or_create_key,
        save_key,
    )
    from ledger.chain.localchain import LocalChain, free_port, stop_chain, stop_pid
    from ledger.chain.manifest import Manifest, ManifestEntry
    from ledger.chain.merkle import BatchMember, MerkleTree
    from ledger.chain.merkle import verify as verify_merkle_proof
    from ledger.chain.registry import CONTRACT_NAME, Registry, contract_factory
    from ledger.chain.relay import RegisterRequest, recover_signer, sign_request
    from ledger.chain.reverts import ErrorDecoder
    from ledger.chain.rpc import Rpc, RpcError
    from ledger.chain.sender import (
        PYEVM,
        Sender,
        Sent,
        connect,
        is_connection_error,
        wait_until_answers,
    )
    from ledger.chain.snapshots import durable_block
