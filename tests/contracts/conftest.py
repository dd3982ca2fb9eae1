"""A fresh ledger state per test (a snapshot of one deployment per chain), with one organisation of each kind and their keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.registry import Registry, contract_factory
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import Sender
from ledger.errors import ContractError, LedgerError
from ledger.types import OrgKind
from tests.conftest import fund

ROLES = [
    "admin",
    "exporter",
    "issuer",
    "customs",
    "customs2",
    "auditor",
    "exporter2",
    "outsider",
    "relayer",
]
YEAR = 365 * 24 * 3600


@dataclass
class World:
    """A deployed ledger and the actors of the tests."""

    w3: Web3
    registry: Registry
    accounts: dict[str, LocalAccount]
    orgs: dict[str, int]

    def sender(self, role: str) -> Sender:
        return self.registry.sender(self.accounts[role])

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture(scope="session")
def actors(w3: Web3) -> dict[str, LocalAccount]:
    accounts = {role: Account.create() for role in ROLES}
    fund(w3, *(a.address for a in accounts.values()))
    return accounts


@dataclass(frozen=True)
class Deployment:
    address: str
    orgs: dict[str, int]


@pytest.fixture(scope="session")
def deployment(w3: Web3, actors: dict[str, LocalAccount]) -> Deployment:
    """The ledger deployed once per chain, one organisation of each kind and a key for each."""
    admin = Sender(w3, actors["admin"], ErrorDecoder(contract_factory(w3).abi))
    registry, _ = Registry.deploy(admin, actors["admin"].address)
    a = registry.sender(actors["admin"])
    kinds = {
        "exporter": ("Demo Exporter LLP", "KZ", OrgKind.EXPORTER),
        "issuer": ("Demo Chamber of Commerce", "KZ", OrgKind.ISSUING_BODY),
        "customs": ("Demo Hairatan Customs", "AF", OrgKind.CUSTOMS),
        "customs2": ("Demo Termez Customs", "UZ", OrgKind.CUSTOMS),
        "auditor": ("Demo Audit Office", "KZ", OrgKind.AUDITOR),
        "exporter2": ("Demo Second Exporter", "KZ", OrgKind.EXPORTER),
    }
    now = int(w3.eth.get_block("latest")["timestamp"])
    orgs = {}
    for role, (name, country, kind) in kinds.items():
        org_id, _ = registry.admit_organisation(a, name, country, kind)
        orgs[role] = org_id
        registry.add_key(a, org_id, actors[role].address, 1, now + 10 * YEAR)
    return Deployment(registry.address, orgs)


def take_snapshot(w3: Web3) -> Any:
    provider: Any = w3.provider
    if hasattr(provider, "ethereum_tester"):
        return provider.ethereum_tester.take_snapshot()
    return provider.make_request("evm_snapshot", [])["result"]


def revert_to_snapshot(w3: Web3, snapshot: Any) -> None:
    provider: Any = w3.provider
    if hasattr(provider, "ethereum_tester"):
        provider.ethereum_tester.revert_to_snapshot(snapshot)
    else:
        assert provider.make_request("evm_revert", [snapshot])["result"] is True


@pytest.fixture
def world(w3: Web3, actors: dict[str, LocalAccount], deployment: Deployment) -> Iterator[World]:
    """The deployment as it was right after setup: every test's changes are rolled back.

    Restoring an EVM snapshot is the same state as a fresh deployment, without paying for
    13 transactions per test (py-evm estimates gas by a slow binary search). A new
    ``Registry`` per test gives fresh ``Sender`` objects, so no nonce outlives the rollback.
    """
    snapshot = take_snapshot(w3)
    try:
        yield World(w3, Registry(w3, deployment.address), actors, dict(deployment.orgs))
    finally:
        revert_to_snapshot(w3, snapshot)


# ------------------------------------------------------------------ helpers for the tests

RAW = bytes.fromhex("01551220")
DAG_PB = bytes.fromhex("01701220")
CERTIFICATE_OF_ORIGIN = 861


def fingerprint() -> bytes:
    """A fresh random document fingerprint."""
    return os.urandom(32)


def random_cid(prefix: bytes = RAW) -> bytes:
    """A binary CIDv1 (raw leaves by default) with a random sha2-256 digest."""
    return prefix + os.urandom(32)


def check_error(
    error: BaseException, name: str, category: type[LedgerError], **params: object
) -> ContractError:
    """``error`` is the contract error ``name`` of ``category`` with these decoded params."""
    assert isinstance(error, ContractError), repr(error)
    assert error.name == name, f"expected {name}, got {error.name}: {error}"
    assert isinstance(error, category), f"{name} is not a {category.__name__}"
    for key, expected in params.items():
        got = error.params[key]
        if isinstance(expected, bytes):
            expected = "0x" + expected.hex()
        if isinstance(expected, str) and isinstance(got, str):
            assert got.lower() == expected.lower(), f"{name}.{key}: {got} != {expected}"
        else:
            assert got == expected, f"{name}.{key}: {got!r} != {expected!r}"
    return error


def new_key(world: World) -> LocalAccount:
    """A fresh funded account, not yet admitted."""
    account: LocalAccount = Account.create()
    fund(
        world.w3, account.address, wei=10**18
    )  # dev account 0 gave 9 of its 10,000 ether to the actors
    return account


def same_address(a: str, b: str) -> bool:
    return Web3.to_checksum_address(a) == Web3.to_checksum_address(b)
