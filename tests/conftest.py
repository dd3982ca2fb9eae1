"""Fixtures shared by every test: the three EVM implementations the contracts run on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3
from web3.types import Wei

from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.sender import PYEVM, connect
from tests.databases import (
    SQLITE,
    Databases,
    PostgresServer,
    database_kinds,
    open_databases,
)

CHAINS = ["pyevm", "anvil", "hardhat"]


@pytest.fixture(scope="session", params=CHAINS)
def w3(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web3]:
    """A Web3 connected to a fresh chain of each kind: in-process py-evm, anvil, Hardhat node."""
    kind = request.param
    if kind == PYEVM:
        yield connect(PYEVM)
        return
    chain = LocalChain(kind, free_port(), tmp_path_factory.mktemp(kind), persistent=False)
    chain.start()
    try:
        yield connect(chain.url)
    finally:
        chain.stop()


def advance_time(w3: Web3, seconds: int) -> int:
    """Move the chain's clock forward and mine a block; returns the new block's timestamp."""
    now = int(w3.eth.get_block("latest")["timestamp"])
    provider = w3.provider
    if hasattr(provider, "ethereum_tester"):
        provider.ethereum_tester.time_travel(now + seconds)
    else:
        provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return int(w3.eth.get_block("latest")["timestamp"])


def fund(w3: Web3, *addresses: str, wei: int = 10**21) -> None:
    """Send ether from the node's first (unlocked, pre-funded) dev account."""
    source = w3.eth.accounts[0]
    hashes = [
        w3.eth.send_transaction({"from": source, "to": a, "value": Wei(wei)}) for a in addresses
    ]
    for h in hashes:
        w3.eth.wait_for_transaction_receipt(h, poll_latency=0.01)


# ---------------------------------------------------------------------- index databases


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        default=False,
        help="also run the index and query tests on PostgreSQL (as TRADELEDGER_TEST_POSTGRES=1)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that use ``db_kind`` (directly or through ``databases``) run once per database."""
    if "db_kind" in metafunc.fixturenames:
        kinds = database_kinds(metafunc.config)
        metafunc.parametrize("db_kind", kinds, indirect=True, scope="module")


@pytest.fixture(scope="module")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", SQLITE))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def databases(request: pytest.FixtureRequest, db_kind: str, tmp_path: Path) -> Iterator[Databases]:
    """Fresh empty index databases (SQLite, or PostgreSQL with --postgres) for one test."""
    yield from open_databases(request, db_kind, tmp_path)


@pytest.fixture(scope="module")
def module_databases(
    request: pytest.FixtureRequest, db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """As ``databases``, shared by the tests of one module."""
    yield from open_databases(request, db_kind, tmp_path_factory.mktemp("db"))
