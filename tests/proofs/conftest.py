"""A real chain of each kind (anvil, Hardhat node) holding the proofs' subject matter.

The ledger contract is deployed, an exporter admitted, and one block holds 130
registrations with metadata (two events each; transaction indexes past 127 have
two-byte trie keys) beside a legacy (type 0) transfer, so the receipts trie has branches,
extensions and mixed receipt types. One of those documents is then revoked and a few empty
blocks mined. Three consortium keys sign checkpoints (threshold two); a fourth is an
outsider's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain import (
    ErrorDecoder,
    LocalChain,
    Registry,
    Rpc,
    Sender,
    connect,
    contract_factory,
    free_port,
    register_many,
)
from ledger.proofs import Checkpoint, Signer, TrustFile, mapping_slot, statement_at
from ledger.types import OrgKind

DOCUMENTS = 130
REVOKED = 5  # index of the document revoked after the big block
WEEK = 7 * 24 * 3600


@dataclass
class World:
    kind: str
    url: str
    rpc: Rpc
    registry: Registry
    admin: LocalAccount
    exporter: LocalAccount
    signers: list[LocalAccount]
    outsider: LocalAccount
    trust: TrustFile
    big_block: int
    tx_hashes: list[str]  # of the big block, in order (the last one is the legacy transfer)
    fingerprints: list[bytes]
    revoked_block: int
    head: int
    doc_slot: int  # where the contract's mapping of documents is declared
    key_slot: int  # where its mapping of keys is declared

    @property
    def contract(self) -> bytes:
        return bytes.fromhex(self.registry.address[2:])

    def call(self, method: str, *params: Any) -> Any:
        return self.rpc.call(method, list(params))

    def storage_at(self, slot: int, block: int) -> int:
        return int(self.call("eth_getStorageAt", self.registry.address, hex(slot), hex(block)), 16)

    def checkpoint(self, block: int, keys: list[LocalAccount] | None = None) -> Checkpoint:
        statement = statement_at(self.rpc, self.registry.address, block)
        for key in self.signers[:2] if keys is None else keys:
            statement = statement.sign(bytes(key.key))
        return statement

    def now(self) -> int:
        return int(self.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16) + 60


@pytest.fixture(scope="session", params=["anvil", "hardhat"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(request.param)
    chain = LocalChain(request.param, free_port(), folder, persistent=False)
    chain.start()
    try:
        yield _build(request.param, chain.url)
    finally:
        chain.stop()


def _build(kind: str, url: str) -> World:
    w3 = connect(url)
    rpc = Rpc(url)
    admin, exporter, payer = Account.create(), Account.create(), Account.create()
    dev = w3.eth.accounts[0]
    for who in (admin, exporter, payer):
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction({"from": dev, "to": who.address, "value": 10**21}),
            poll_latency=0.01,
        )
    registry, _ = Registry.deploy(
        Sender(w3, admin, ErrorDecoder(contract_factory(w3).abi)), admin.address
    )
    a = registry.sender(admin)
    org_id, _ = registry.admit_organisation(a, "Proof Exporter LLP", "KZ", OrgKind.EXPORTER)
    registry.add_key(a, org_id, exporter.address, 1, int(time.time()) + 10 * 365 * 86400)

    fingerprints = [os.urandom(32) for _ in range(DOCUMENTS)]
    chain_id = w3.eth.chain_id
    legacy = {"chainId": chain_id, "nonce": 0, "to": admin.address, "value": 1,
              "gas": 21_000, "gasPrice": 100 * 10**9}  # fmt: skip
    hashes = register_many(
        rpc, registry, exporter, fingerprints, DOCUMENTS, "SMGS-PROOF",
        extra=["0x" + payer.sign_transaction(legacy).raw_transaction.hex()],
    )  # fmt: skip
    receipts = [rpc.call("eth_getTransactionReceipt", [h]) for h in hashes]
    assert all(r is not None and r["status"] == "0x1" for r in receipts), (
        "a setup transaction failed"
    )
    blocks = {r["blockNumber"] for r in receipts}
    assert len(blocks) == 1, f"the registrations spread over blocks {blocks}"
    big_block = int(blocks.pop(), 16)

    revoked = registry.revoke(registry.sender(exporter), fingerprints[REVOKED], 1)
    for _ in range(3):
        rpc.call("evm_mine", [])
    signers = [Account.create() for _ in range(3)]
    trust = TrustFile(
        chain_id,
        bytes.fromhex(registry.address[2:]),
        tuple(
            Signer(bytes.fromhex(s.address[2:]), f"Consortium member {i + 1}")
            for i, s in enumerate(signers)
        ),
        threshold=2,
        max_age=WEEK,
    )
    world = World(
        kind,
        url,
        rpc,
        registry,
        admin,
        exporter,
        signers,
        Account.create(),
        trust,
        big_block,
        [str(h) for h in hashes],
        fingerprints,
        revoked.block_number,
        int(rpc.call("eth_blockNumber", []), 16),
        -1,
        -1,
    )
    world.doc_slot = _declared_at(world, fingerprints[0])
    world.key_slot = _declared_at(world, exporter.address)
    return world


def _declared_at(world: World, key: bytes | str) -> int:
    """The slot of the contract's mapping that holds ``key`` (found, not assumed)."""
    for slot in range(64):
        if world.storage_at(mapping_slot(slot, key), world.head):
            return slot
    raise AssertionError(f"no mapping of the contract holds {key!r}")


@pytest.fixture(scope="session")
def cases(world: World) -> list[Any]:
    from tests.proofs.cases import all_cases

    return all_cases(world)
