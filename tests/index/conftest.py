"""Fixtures of the indexer tests: an anvil chain, a fresh ledger per test, an index database
(SQLite, and PostgreSQL too with ``--postgres`` or ``TRADELEDGER_TEST_POSTGRES=1``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, select
from web3 import Web3

from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.manifest import Manifest, ManifestEntry
from ledger.chain.registry import Registry, contract_factory
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import Sender, connect
from ledger.cid import Cid
from ledger.content.blockstore import BlockStore
from ledger.db import make_engine, sqlite_url, sync_state
from ledger.index.indexer import INDEX_TABLES, Indexer
from ledger.types import OrgKind
from tests.conftest import fund
from tests.databases import Databases

YEAR = 365 * 24 * 3600
RAW = bytes.fromhex("01551220")
ORGS = {
    "exporter": ("Demo Exporter LLP", "KZ", OrgKind.EXPORTER),
    "issuer": ("Demo Chamber of Commerce", "KZ", OrgKind.ISSUING_BODY),
    "customs": ("Demo Hairatan Customs", "AF", OrgKind.CUSTOMS),
    "exporter2": ("Demo Second Exporter", "KZ", OrgKind.EXPORTER),
}


def start_anvil(folder: Path, port: int | None = None) -> LocalChain:
    chain = LocalChain("anvil", port or free_port(), folder, persistent=False)
    chain.start()
    return chain


@pytest.fixture(scope="module")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    chain = start_anvil(tmp_path_factory.mktemp("anvil"))
    try:
        yield chain
    finally:
        chain.stop()


@dataclass
class World:
    """A freshly deployed ledger with one organisation (and key) per role, and an index."""

    w3: Web3
    registry: Registry
    accounts: dict[str, LocalAccount]
    orgs: dict[str, int]
    deployment_block: int
    engine: Engine
    store: BlockStore
    tmp: Path
    new_engine: Callable[[], Engine] | None = None
    _n: list[int] = field(default_factory=lambda: [0])

    def sender(self, role: str) -> Sender:
        return self.registry.sender(self.accounts[role])

    def indexer(self, engine: Engine | None = None, **kwargs: Any) -> Indexer:
        kwargs.setdefault("store", self.store)
        return Indexer(engine or self.engine, self.registry, self.deployment_block, **kwargs)

    def fresh_engine(self) -> Engine:
        """A new empty index database of the same kind."""
        if self.new_engine is not None:
            return self.new_engine()
        self._n[0] += 1
        return make_engine(sqlite_url(self.tmp / f"fresh-{self._n[0]}.db"))

    def refresh(self) -> None:
        """A new Registry (and so new Senders): needed after an EVM snapshot is reverted."""
        self.registry = Registry(self.w3, self.registry.address)

    def register(self, role: str = "exporter", ref: str = "SMGS-1", meta: bytes = b"") -> bytes:
        fp = os.urandom(32)
        self.registry.register(self.sender(role), fp, 861, RAW + os.urandom(32), ref, meta)
        return fp

    def put_manifest(self, n: int, ref: str = "SMGS-B") -> tuple[Manifest, bytes]:
        """A manifest of ``n`` random members, stored in the block store; returns its binary CID."""
        entries = tuple(
            ManifestEntry(
                os.urandom(32).hex(), 380, str(Cid.parse(RAW + os.urandom(32))), f"{ref}-{i}"
            )
            for i in range(n)
        )
        manifest = Manifest(entries)
        stored = self.store.put([manifest.to_json()])
        return manifest, bytes(Cid.parse(stored.cid))


def make_world(
    w3: Web3,
    tmp: Path,
    deployer: LocalAccount | None = None,
    new_engine: Callable[[], Engine] | None = None,
) -> World:
    accounts = {role: Account.create() for role in ("admin", *ORGS, "relayer")}
    if deployer is not None:
        accounts["admin"] = deployer
    fund(w3, *(a.address for a in accounts.values()), wei=10**19)
    admin = Sender(w3, accounts["admin"], ErrorDecoder(contract_factory(w3).abi))
    registry, sent = Registry.deploy(admin, accounts["admin"].address)
    a = registry.sender(accounts["admin"])
    now = int(w3.eth.get_block("latest")["timestamp"])
    orgs = {}
    for role, (name, country, kind) in ORGS.items():
        org_id, _ = registry.admit_organisation(a, name, country, kind)
        orgs[role] = org_id
        registry.add_key(a, org_id, accounts[role].address, 1, now + 10 * YEAR)
    engine = new_engine() if new_engine is not None else make_engine(sqlite_url(tmp / "index.db"))
    store = BlockStore(tmp / "blocks")
    return World(w3, registry, accounts, orgs, sent.block_number, engine, store, tmp, new_engine)


@pytest.fixture
def world(anvil: LocalChain, tmp_path: Path, databases: Databases) -> World:
    return make_world(connect(anvil.url), tmp_path, new_engine=databases.new)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every index table's rows, in primary-key order (sync_state included)."""
    out = {}
    with engine.connect() as conn:
        for table in (*INDEX_TABLES, sync_state):
            pk = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*pk))]
    return out


def snapshot(w3: Web3) -> str:
    return str(w3.provider.make_request("evm_snapshot", [])["result"])  # type: ignore[arg-type]


def revert(w3: Web3, snap: str) -> None:
    assert w3.provider.make_request("evm_revert", [snap])["result"] is True  # type: ignore[arg-type]


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
