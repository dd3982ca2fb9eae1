"""Customs attestations: verdicts about registered documents, their ids, and their revocation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.types import Nonce, TxParams, Wei

from ledger.chain.merkle import BatchMember, MerkleTree
from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput, NotFound
from ledger.types import DocStatus, Verdict
from tests.conftest import advance_time
from tests.contracts.conftest import (
    World,
    check_error,
    fingerprint,
    new_key,
    random_cid,
    same_address,
)

pytestmark = pytest.mark.chain

ATTEST_GAS_BUDGET = 55_000


def attestation_id(
    fp: bytes, attester: str, verdict: Verdict, customs_ref: str, timestamp: int
) -> bytes:
    """What the contract computes: keccak(abi.encode(fp, attester, verdict, keccak(ref), time))."""
    return keccak(
        encode(
            ["bytes32", "address", "uint8", "bytes32", "uint256"],
            [fp, attester, int(verdict), keccak(customs_ref.encode()), timestamp],
        )
    )


def registered(world: World) -> bytes:
    fp = fingerprint()
    world.registry.register(world.sender("exporter"), fp, 861, random_cid(), "SMGS-1")
    return fp


@pytest.mark.parametrize(
    "verdict", [Verdict.VERIFIED, Verdict.CLEARED, Verdict.HELD, Verdict.REJECTED]
)
def test_attest_each_verdict(world: World, verdict: Verdict) -> None:
    r = world.registry
    customs = world.accounts["customs"].address
    fp = registered(world)
    aid, sent = r.attest(world.sender("customs"), fp, verdict, "HRT-2024-0042")
    assert sent.receipt["gasUsed"] <= ATTEST_GAS_BUDGET
    timestamp = int(world.w3.eth.get_block(sent.block_number)["timestamp"])
    assert aid == attestation_id(fp, customs, verdict, "HRT-2024-0042", timestamp)
    (event,) = r.events(sent.receipt, "AttestationRecorded")
    assert event["args"]["id"] == aid
    assert event["args"]["fingerprint"] == fp
    assert same_address(event["args"]["attester"], customs)
    assert event["args"]["verdict"] == verdict
    assert event["args"]["customsRef"] == "HRT-2024-0042"
    record = r.attestation(aid)
    assert record is not None
    assert same_address(record.attester, customs)
    assert record.attested_at == timestamp
    assert record.verdict == verdict
    assert record.revoked is False
    doc = r.document(fp)
    assert doc is not None and doc.status == DocStatus.REGISTERED  # attesting does not change it


def test_several_attestations_per_document(world: World) -> None:
    r = world.registry
    fp = registered(world)
    ids = [
        r.attest(world.sender("customs"), fp, Verdict.HELD, "HRT-1")[0],
        r.attest(world.sender("customs"), fp, Verdict.CLEARED, "HRT-1")[0],
        r.attest(world.sender("customs2"), fp, Verdict.VERIFIED, "TRM-7")[0],
        r.attest(world.sender("customs2"), fp, Verdict.VERIFIED, "TRM-8")[0],
        r.attest(world.sender("customs"), fp, Verdict.REJECTED, "")[0],
    ]
    assert len(set(ids)) == len(ids)
    verdicts = []
    for aid in ids:
        record = r.attestation(aid)
        assert record is not None
        verdicts.append(record.verdict)
    assert verdicts == [
        Verdict.HELD,
        Verdict.CLEARED,
        Verdict.VERIFIED,
        Verdict.VERIFIED,
        Verdict.REJECTED,
    ]


def test_attest_recorded_batch_member(world: World) -> None:
    r = world.registry
    members = [BatchMember(fingerprint(), 861, random_cid(), f"R{i}") for i in range(3)]
    tree = MerkleTree([m.leaf() for m in members])
    r.anchor_batch(world.sender("exporter"), tree.root, 3, b"")
    with pytest.raises(ContractError) as e:
        r.attest(world.sender("customs"), members[2].fingerprint, Verdict.VERIFIED, "X")
    check_error(e.value, "UnknownDocument", NotFound, fingerprint=members[2].fingerprint)
    r.record_batch_member(world.sender("relayer"), tree.root, members[2], tree.proof(2))
    aid, _ = r.attest(world.sender("customs"), members[2].fingerprint, Verdict.VERIFIED, "X")
    assert r.attestation(aid) is not None


def test_invalid_verdict(world: World) -> None:
    fp = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.attest(world.sender("customs"), fp, Verdict.NONE, "HRT-1")
    check_error(e.value, "InvalidVerdict", InvalidInput)
    assert e.value.params == {}


def test_attest_unknown_document(world: World) -> None:
    fp = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.attest(world.sender("customs"), fp, Verdict.CLEARED, "HRT-1")
    check_error(e.value, "UnknownDocument", NotFound, fingerprint=fp)


@pytest.mark.parametrize("role", ["exporter", "issuer", "auditor"])
def test_attest_by_wrong_kind(world: World, role: str) -> None:
    fp = registered(world)
    kind = world.registry.key_info(world.accounts[role].address).kind
    with pytest.raises(ContractError) as e:
        world.registry.attest(world.sender(role), fp, Verdict.CLEARED, "HRT-1")
    check_error(
        e.value,
        "WrongOrganisationKind",
        Forbidden,
        key=world.accounts[role].address,
        kind=int(kind),
    )


@pytest.mark.parametrize("role", ["outsider", "admin"])
def test_attest_by_unknown_key(world: World, role: str) -> None:
    fp = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.attest(world.sender(role), fp, Verdict.CLEARED, "HRT-1")
    check_error(e.value, "UnknownKey", Forbidden, key=world.accounts[role].address)


def test_attest_by_retired_customs_key(world: World) -> None:
    fp = registered(world)
    world.registry.retire_key(world.sender("admin"), world.accounts["customs"].address)
    with pytest.raises(ContractError) as e:
        world.registry.attest(world.sender("customs"), fp, Verdict.CLEARED, "HRT-1")
    check_error(e.value, "KeyNotValid", Forbidden, key=world.accounts["customs"].address)


# ------------------------------------------------------------------ the same attestation twice


@contextmanager
def one_block(w3: Web3) -> Iterator[None]:
    """Transactions sent inside the block stay pending, then are mined together in one block."""
    provider: Any = w3.provider
    tester = getattr(provider, "ethereum_tester", None)
    if tester is not None:
        tester.disable_auto_mine_transactions()
    else:
        provider.make_request("evm_setAutomine", [False])
    try:
        yield
        if tester is not None:
            tester.mine_blocks(1)
        else:
            provider.make_request("evm_mine", [])
    finally:
        if tester is not None:
            tester.enable_auto_mine_transactions()
        else:
            provider.make_request("evm_setAutomine", [True])


def test_same_attestation_twice_in_one_block(world: World) -> None:
    w3, r = world.w3, world.registry
    if hasattr(w3.provider, "ethereum_tester"):
        pytest.skip(
            "eth-tester validates every pending transaction against the head state (it snapshots "
            "and reverts around each send), so one key cannot have two transactions in a block; "
            "test_same_attestation_in_the_same_second covers the collision on py-evm"
        )
    customs = world.accounts["customs"]
    fp = registered(world)
    call = r.contract.functions.attest(fp, int(Verdict.HELD), "HRT-1")
    nonce = w3.eth.get_transaction_count(customs.address, "pending")
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
    hashes: list[HexBytes] = []
    with one_block(w3):
        for i in range(2):
            params: TxParams = {
                "from": customs.address,
                "chainId": r.chain_id,
                "nonce": Nonce(nonce + i),
                "gas": 200_000,  # explicit: no estimate against the pending block
                "maxFeePerGas": Wei(4 * base_fee + 10**9),
                "maxPriorityFeePerGas": Wei(10**9),
            }
            tx = call.build_transaction(params)
            signed = customs.sign_transaction(tx)  # type: ignore[arg-type]
            hashes.append(w3.eth.send_raw_transaction(signed.raw_transaction))
    first, second = (w3.eth.wait_for_transaction_receipt(h, poll_latency=0.01) for h in hashes)
    assert first["blockNumber"] == second["blockNumber"]
    assert (first["status"], second["status"]) == (1, 0)

    timestamp = int(w3.eth.get_block(first["blockNumber"])["timestamp"])
    expected = attestation_id(fp, customs.address, Verdict.HELD, "HRT-1", timestamp)
    (event,) = r.events(first, "AttestationRecorded")
    assert event["args"]["id"] == expected
    assert r.events(second, "AttestationRecorded") == []
    # Replaying the second transaction in its block's context gives the contract's reason.
    check_error(
        replay_error(world, call, first["blockNumber"]),
        "AttestationAlreadyRecorded",
        Conflict,
        id=expected,
    )


def replay_error(world: World, call: Any, block_number: int) -> BaseException:
    """The typed error of ``call`` run by the customs key in block ``block_number``'s context."""
    with pytest.raises(Exception) as raised:  # web3's exception type differs per chain
        call.call({"from": world.accounts["customs"].address}, block_identifier=block_number)
    error = world.registry.decoder.typed(raised.value)
    assert error is not None, repr(raised.value)
    return error


def test_same_attestation_in_the_same_second(world: World) -> None:
    """All chains: the call of an identical attestation, in the block (and second) of the first."""
    r = world.registry
    customs = world.accounts["customs"]
    fp = registered(world)
    aid, sent = r.attest(world.sender("customs"), fp, Verdict.REJECTED, "HRT-5")
    call = r.contract.functions.attest(fp, int(Verdict.REJECTED), "HRT-5")
    check_error(
        replay_error(world, call, sent.block_number), "AttestationAlreadyRecorded", Conflict, id=aid
    )
    timestamp = int(world.w3.eth.get_block(sent.block_number)["timestamp"])
    assert aid == attestation_id(fp, customs.address, Verdict.REJECTED, "HRT-5", timestamp)
    # Another verdict or reference in the same second is a different attestation.
    other = r.contract.functions.attest(fp, int(Verdict.HELD), "HRT-5")
    assert bytes(
        other.call({"from": customs.address}, block_identifier=sent.block_number)
    ) == attestation_id(fp, customs.address, Verdict.HELD, "HRT-5", timestamp)


def test_same_attestation_in_another_second_is_new(world: World) -> None:
    r = world.registry
    fp = registered(world)
    first, _ = r.attest(world.sender("customs"), fp, Verdict.HELD, "HRT-1")
    advance_time(world.w3, 1)
    second, _ = r.attest(world.sender("customs"), fp, Verdict.HELD, "HRT-1")
    assert first != second


# ------------------------------------------------------------------ revoking attestations


def test_revoke_attestation_by_another_key_of_the_office(world: World) -> None:
    r = world.registry
    fp = registered(world)
    aid, _ = r.attest(world.sender("customs"), fp, Verdict.CLEARED, "HRT-1")
    colleague = new_key(world)
    r.add_key(
        world.sender("admin"), world.orgs["customs"], colleague.address, 1, world.now() + 10**6
    )
    sent = r.revoke_attestation(r.sender(colleague), aid)
    (event,) = r.events(sent.receipt, "AttestationRevoked")
    assert event["args"]["id"] == aid
    assert same_address(event["args"]["by"], colleague.address)
    record = r.attestation(aid)
    assert record is not None
    assert record.revoked is True
    assert record.verdict == Verdict.CLEARED and same_address(
        record.attester, world.accounts["customs"].address
    )


def test_revoke_attestation_by_the_attester(world: World) -> None:
    r = world.registry
    aid, _ = r.attest(world.sender("customs"), registered(world), Verdict.HELD, "HRT-1")
    sent = r.revoke_attestation(world.sender("customs"), aid)
    (event,) = r.events(sent.receipt, "AttestationRevoked")
    assert same_address(event["args"]["by"], world.accounts["customs"].address)


@pytest.mark.parametrize("role", ["customs2", "exporter", "auditor"])
def test_revoke_attestation_by_another_organisation(world: World, role: str) -> None:
    r = world.registry
    aid, _ = r.attest(world.sender("customs"), registered(world), Verdict.CLEARED, "HRT-1")
    with pytest.raises(ContractError) as e:
        r.revoke_attestation(world.sender(role), aid)
    check_error(
        e.value,
        "NotOwningOrganisation",
        Forbidden,
        key=world.accounts[role].address,
        orgId=world.orgs["customs"],
    )
    record = r.attestation(aid)
    assert record is not None and record.revoked is False


def test_revoke_attestation_by_unknown_key_and_admin(world: World) -> None:
    r = world.registry
    aid, _ = r.attest(world.sender("customs"), registered(world), Verdict.CLEARED, "HRT-1")
    for role in ("outsider", "admin"):
        with pytest.raises(ContractError) as e:
            r.revoke_attestation(world.sender(role), aid)
        check_error(e.value, "UnknownKey", Forbidden, key=world.accounts[role].address)


def test_revoke_attestation_twice(world: World) -> None:
    r = world.registry
    aid, _ = r.attest(world.sender("customs"), registered(world), Verdict.CLEARED, "HRT-1")
    r.revoke_attestation(world.sender("customs"), aid)
    for role in ("customs", "customs2"):
        with pytest.raises(ContractError) as e:
            r.revoke_attestation(world.sender(role), aid)
        check_error(e.value, "AttestationAlreadyRevoked", Conflict, id=aid)


def test_revoke_unknown_attestation(world: World) -> None:
    aid = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.revoke_attestation(world.sender("customs"), aid)
    check_error(e.value, "UnknownAttestation", NotFound, id=aid)
    assert world.registry.attestation(aid) is None
