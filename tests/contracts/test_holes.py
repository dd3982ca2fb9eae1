"""The smaller holes of issue 14, each tried as an attacker would: attestations on dead
documents, unchecked batch members, key windows from zero, retirement in the block of a
registration, a relay nonce that cannot be cancelled, and an admin taken over in one step."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3

from ledger.chain.merkle import BatchMember, MerkleTree
from ledger.chain.relay import RegisterRequest, sign_request
from ledger.chain.sender import Sent
from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput, NotFound
from ledger.types import DocStatus, Verdict
from tests.conftest import advance_time
from tests.contracts.conftest import (
    World,
    check_error,
    fingerprint,
    random_cid,
    same_address,
)

pytestmark = pytest.mark.chain

ADMIN_ROLE = bytes(32)
ADMIN_DELAY = 2 * 24 * 3600


def registered(world: World) -> bytes:
    fp = fingerprint()
    world.registry.register(world.sender("exporter"), fp, 380, random_cid(), "SMGS-1")
    return fp


# ------------------------------------------------------------------ attestations


@pytest.mark.parametrize("end", ["revoked", "superseded"])
def test_attest_refuses_a_document_no_longer_active(world: World, end: str) -> None:
    r = world.registry
    fp = registered(world)
    if end == "revoked":
        r.revoke(world.sender("exporter"), fp, 1)
        status = DocStatus.REVOKED
    else:
        r.supersede(world.sender("exporter"), fp, fingerprint(), 380, random_cid(), "SMGS-1")
        status = DocStatus.SUPERSEDED
    with pytest.raises(ContractError) as e:
        r.attest(world.sender("customs"), fp, Verdict.CLEARED, "HRT-1")
    check_error(e.value, "DocumentNotActive", Conflict, fingerprint=fp, status=int(status))


# ------------------------------------------------------------------ batch members


def _anchor(world: World, members: list[BatchMember]) -> MerkleTree:
    tree = MerkleTree([m.leaf() for m in members])
    world.registry.anchor_batch(world.sender("exporter"), tree.root, len(members), b"")
    return tree


def _raw_leaf(fp: bytes, doc_type: int, prefix: bytes, digest: bytes, ref: str) -> bytes:
    """The contract's leaf of any fields, as an attacker would build it (no checks)."""
    return keccak(
        keccak(
            encode(
                ["bytes32", "uint16", "bytes4", "bytes32", "bytes32"],
                [fp, doc_type, prefix, digest, keccak(ref.encode())],
            )
        )
    )


@pytest.mark.parametrize(
    "fields",
    [
        (bytes(32), 380, bytes.fromhex("01551220")),
        (fingerprint(), 0, bytes.fromhex("01551220")),
        (fingerprint(), 380, bytes.fromhex("ffffffff")),
        (fingerprint(), 380, bytes.fromhex("01551210")),
    ],
    ids=["fingerprint-0", "type-0", "cid-ffffffff", "cid-short-digest"],
)
def test_record_batch_member_checks_fields_as_register(
    world: World, fields: tuple[bytes, int, bytes]
) -> None:
    """A batch whose leaves were built from bad fields cannot turn them into records."""
    r = world.registry
    fp, doc_type, prefix = fields
    member = (fp, doc_type, prefix, bytes(32), "R")
    good = BatchMember(fingerprint(), 380, random_cid(), "R")
    tree = MerkleTree([_raw_leaf(*member), good.leaf()])
    r.anchor_batch(world.sender("exporter"), tree.root, 2, b"")
    call = r.contract.functions.recordBatchMember(tree.root, member, tree.proof(0))
    with pytest.raises(ContractError) as e:
        world.sender("relayer").transact(call, gas=500_000)
    check_error(e.value, "InvalidDocument", InvalidInput, fingerprint=fp)
    assert r.document(fp) is None or fp == bytes(32)


def test_batch_member_recorded_event_carries_type_and_cid(world: World) -> None:
    member = BatchMember(fingerprint(), 720, random_cid(), "SMGS-9")
    tree = _anchor(world, [member, BatchMember(fingerprint(), 380, random_cid(), "SMGS-9")])
    sent = world.registry.record_batch_member(
        world.sender("relayer"), tree.root, member, tree.proof(0)
    )
    (event,) = world.registry.events(sent.receipt, "BatchMemberRecorded")
    args = event["args"]
    assert (args["fingerprint"], args["root"]) == (member.fingerprint, tree.root)
    assert args["docType"] == 720
    assert args["cidPrefix"] + args["cidDigest"] == member.cid


# ------------------------------------------------------------------ keys


def _automine(world: World, on: bool) -> None:
    provider: Any = world.w3.provider
    provider.make_request("evm_setAutomine", [on])


def in_one_block(world: World, *calls: tuple[str, Callable[[], Sent]]) -> list[Sent]:
    """Run each call (a role and its transaction) in order, all mined in one block."""
    _automine(world, False)
    futures = []
    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            for role, call in calls:
                address = world.accounts[role].address
                before = world.w3.eth.get_transaction_count(address, "pending")
                futures.append(pool.submit(call))
                deadline = time.monotonic() + 30
                while world.w3.eth.get_transaction_count(address, "pending") == before:
                    assert time.monotonic() < deadline, "the transaction never reached the pool"
                    time.sleep(0.01)
            provider: Any = world.w3.provider
            provider.make_request("evm_mine", [])
            return [f.result(timeout=60) for f in futures]
    finally:
        _automine(world, True)


def test_retirement_in_the_block_of_a_registration_keeps_it_valid(world: World) -> None:
    """A registration and the retirement of its key at the same block time: the registration
    stays inside the key's window, and the retired key cannot act again in that second."""
    if hasattr(world.w3.provider, "ethereum_tester"):
        pytest.skip("eth-tester mines each transaction it is sent: anvil and Hardhat test this")
    r = world.registry
    exporter = world.accounts["exporter"].address
    fp = fingerprint()
    sent, retired = in_one_block(
        world,
        ("exporter", lambda: r.register(world.sender("exporter"), fp, 380, random_cid(), "R")),
        ("admin", lambda: r.retire_key(world.sender("admin"), exporter)),
    )
    assert sent.block_number == retired.block_number
    registered_at = int(world.w3.eth.get_block(sent.block_number)["timestamp"])
    retired_time = int(world.w3.eth.get_block(retired.block_number)["timestamp"])
    assert registered_at == retired_time
    doc = r.document(fp)
    assert doc is not None and doc.registered_at == registered_at
    assert r.key_valid_at(exporter, registered_at)
    with pytest.raises(ContractError) as e:
        r.register(world.sender("exporter"), fingerprint(), 380, random_cid(), "R")
    check_error(e.value, "KeyNotValid", Forbidden, key=exporter)


def test_increase_nonce_cancels_signed_requests(world: World) -> None:
    r = world.registry
    exporter = world.accounts["exporter"]
    requests = [
        RegisterRequest(
            exporter.address, fingerprint(), 380, random_cid(), "R", b"", n, world.now() + 3600
        )
        for n in range(3)
    ]
    signatures = [sign_request(exporter, q, r.chain_id, r.address) for q in requests]
    sent = r.increase_nonce(world.sender("exporter"), 2)
    (event,) = r.events(sent.receipt, "NonceIncreased")
    assert same_address(event["args"]["key"], exporter.address)
    assert (event["args"]["oldNonce"], event["args"]["newNonce"]) == (0, 2)
    assert r.key_info(exporter.address).nonce == 2
    for request, signature in list(zip(requests, signatures, strict=True))[:2]:
        with pytest.raises(ContractError) as e:
            r.register_with_signature(world.sender("relayer"), request, signature)
        check_error(e.value, "InvalidNonce", Conflict, expected=2, given=request.nonce)
    r.register_with_signature(world.sender("relayer"), requests[2], signatures[2])
    assert r.key_info(exporter.address).nonce == 3


@pytest.mark.parametrize("new", [0, 3])
def test_nonce_only_goes_up(world: World, new: int) -> None:
    r = world.registry
    r.increase_nonce(world.sender("exporter"), 3)
    with pytest.raises(ContractError) as e:
        r.increase_nonce(world.sender("exporter"), new)
    check_error(e.value, "NonceNotIncreased", InvalidInput, current=3, given=new)


def test_increase_nonce_needs_an_admitted_key(world: World) -> None:
    outsider = world.accounts["outsider"].address
    with pytest.raises(ContractError) as e:
        world.registry.increase_nonce(world.sender("outsider"), 1)
    check_error(e.value, "UnknownKey", Forbidden, key=outsider)


# ------------------------------------------------------------------ the admin


def _grant_role(world: World, role: str, to: str, account: str) -> None:
    r = world.registry
    fn = r.contract.functions.grantRole(ADMIN_ROLE, Web3.to_checksum_address(account))
    r.sender(world.accounts[role]).transact(fn)


def test_admin_cannot_be_granted_or_taken_in_one_step(world: World) -> None:
    """The attack: a second admin granted, who then removes the first in one transaction."""
    r = world.registry
    admin = world.accounts["admin"].address
    with pytest.raises(ContractError) as e:
        _grant_role(world, "admin", "admin", world.accounts["outsider"].address)
    check_error(e.value, "AccessControlEnforcedDefaultAdminRules", Forbidden)
    assert same_address(r.admin(), admin)


def test_admin_transfer_takes_two_steps_and_the_delay(world: World) -> None:
    r = world.registry
    admin, successor = world.accounts["admin"], world.accounts["outsider"]
    begin = r.contract.functions.beginDefaultAdminTransfer(successor.address)
    sent = r.sender(admin).transact(begin)
    (event,) = r.events(sent.receipt, "DefaultAdminTransferScheduled")
    assert same_address(event["args"]["newAdmin"], successor.address)
    accept = r.contract.functions.acceptDefaultAdminTransfer()
    with pytest.raises(ContractError) as e:
        r.sender(successor).transact(accept)
    check_error(e.value, "AccessControlEnforcedDefaultAdminDelay", Conflict)
    advance_time(world.w3, ADMIN_DELAY + 1)
    r.sender(successor).transact(accept)
    assert same_address(r.admin(), successor.address)
    # the old admin is no admin any more
    with pytest.raises(ContractError) as e:
        r.admit_organisation(r.sender(admin), "Rogue", "KZ", 1)  # type: ignore[arg-type]
    check_error(e.value, "AccessControlUnauthorizedAccount", Forbidden, account=admin.address)


# ------------------------------------------------------------------ whole-batch revoke

REVOKE_BATCH_GAS_BUDGET = 50_000


@pytest.mark.parametrize("by", ["exporter", "admin"])
def test_revoke_a_whole_batch(world: World, by: str) -> None:
    r = world.registry
    members = [BatchMember(fingerprint(), 720, random_cid(), f"SMGS-{i}") for i in range(4)]
    tree = _anchor(world, members)
    r.record_batch_member(world.sender("relayer"), tree.root, members[0], tree.proof(0))
    sent = r.revoke_batch(world.sender(by), tree.root, 2)
    assert sent.receipt["gasUsed"] <= REVOKE_BATCH_GAS_BUDGET
    (event,) = r.events(sent.receipt, "BatchRevoked")
    assert event["args"]["root"] == tree.root
    assert same_address(event["args"]["by"], world.accounts[by].address)
    assert event["args"]["reason"] == 2
    batch = r.batch(tree.root)
    assert batch is not None and batch.revoked
    # no member can be recorded any more, nor the batch revoked again
    with pytest.raises(ContractError) as e:
        r.record_batch_member(world.sender("relayer"), tree.root, members[1], tree.proof(1))
    check_error(e.value, "BatchIsRevoked", Conflict, root=tree.root)
    with pytest.raises(ContractError) as e:
        r.revoke_batch(world.sender("exporter"), tree.root, 2)
    check_error(e.value, "BatchIsRevoked", Conflict, root=tree.root)


@pytest.mark.parametrize("role", ["issuer", "exporter2", "customs", "outsider"])
def test_no_other_organisation_revokes_a_batch(world: World, role: str) -> None:
    r = world.registry
    tree = _anchor(world, [BatchMember(fingerprint(), 720, random_cid(), "R") for _ in range(2)])
    with pytest.raises(ContractError) as e:
        r.revoke_batch(world.sender(role), tree.root, 1)
    expected = "UnknownKey" if role == "outsider" else "NotOwningOrganisation"
    check_error(e.value, expected, Forbidden)
    batch = r.batch(tree.root)
    assert batch is not None and not batch.revoked


def test_revoke_unknown_batch(world: World) -> None:
    root = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.revoke_batch(world.sender("exporter"), root, 1)
    check_error(e.value, "UnknownBatch", NotFound, root=root)
