"""Batches: many documents anchored under one Merkle root, recorded one by one on demand."""

from __future__ import annotations

import pytest

from ledger.chain.merkle import BatchMember, MerkleTree
from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput, NotFound
from ledger.types import DocStatus
from tests.contracts.conftest import World, check_error, fingerprint, random_cid, same_address

pytestmark = pytest.mark.chain


def make_batch(size: int) -> tuple[list[BatchMember], MerkleTree]:
    members = [
        BatchMember(fingerprint(), 861 + i % 3, random_cid(), f"SMGS-{i}") for i in range(size)
    ]
    return members, MerkleTree([m.leaf() for m in members])


def anchor(
    world: World, size: int = 5, role: str = "exporter"
) -> tuple[list[BatchMember], MerkleTree]:
    members, tree = make_batch(size)
    world.registry.anchor_batch(world.sender(role), tree.root, size, random_cid())
    return members, tree


@pytest.mark.parametrize("role", ["exporter", "issuer"])
def test_anchor_batch(world: World, role: str) -> None:
    r = world.registry
    members, tree = make_batch(4)
    manifest = random_cid()
    sent = r.anchor_batch(world.sender(role), tree.root, 4, manifest)
    (event,) = r.events(sent.receipt, "BatchAnchored")
    assert event["args"]["root"] == tree.root
    assert same_address(event["args"]["issuer"], world.accounts[role].address)
    assert event["args"]["size"] == 4
    assert event["args"]["manifestCid"] == manifest
    batch = r.batch(tree.root)
    assert batch is not None
    assert same_address(batch.issuer, world.accounts[role].address)
    assert batch.size == 4
    assert batch.anchored_at == int(world.w3.eth.get_block(sent.block_number)["timestamp"])
    # Anchoring records no individual document.
    assert all(r.document(m.fingerprint) is None for m in members)


def test_anchor_batch_without_manifest(world: World) -> None:
    _, tree = make_batch(1)
    sent = world.registry.anchor_batch(world.sender("exporter"), tree.root, 1, b"")
    (event,) = world.registry.events(sent.receipt, "BatchAnchored")
    assert event["args"]["manifestCid"] == b""


def test_unknown_batch_reads_as_none(world: World) -> None:
    assert world.registry.batch(fingerprint()) is None


def test_verify_batch_member(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 7)
    for i, member in enumerate(members):
        assert r.verify_batch_member(tree.root, member, tree.proof(i))
    # A member with any field changed, a wrong proof, or an unknown root does not verify.
    first = members[0]
    altered = [
        BatchMember(fingerprint(), first.doc_type, first.cid, first.consignment_ref),
        BatchMember(first.fingerprint, first.doc_type + 1, first.cid, first.consignment_ref),
        BatchMember(first.fingerprint, first.doc_type, random_cid(), first.consignment_ref),
        BatchMember(first.fingerprint, first.doc_type, first.cid, first.consignment_ref + "x"),
    ]
    for member in altered:
        assert not r.verify_batch_member(tree.root, member, tree.proof(0))
    assert not r.verify_batch_member(tree.root, first, tree.proof(1))
    assert not r.verify_batch_member(tree.root, first, [])
    _, other = make_batch(7)
    assert not r.verify_batch_member(other.root, first, tree.proof(0))  # never anchored


def test_single_member_batch(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 1)
    assert tree.root == members[0].leaf() and tree.proof(0) == []
    assert r.verify_batch_member(tree.root, members[0], [])
    r.record_batch_member(world.sender("outsider"), tree.root, members[0], [])
    doc = r.document(members[0].fingerprint)
    assert doc is not None and doc.status == DocStatus.REGISTERED


def test_record_then_revoke_one_member(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 6)
    batch = r.batch(tree.root)
    assert batch is not None
    chosen = 3
    # Anyone may record a member; the record carries the batch's issuer and time.
    sent = r.record_batch_member(
        world.sender("relayer"), tree.root, members[chosen], tree.proof(chosen)
    )
    (event,) = r.events(sent.receipt, "BatchMemberRecorded")
    assert event["args"]["fingerprint"] == members[chosen].fingerprint
    assert event["args"]["root"] == tree.root
    doc = r.document(members[chosen].fingerprint)
    assert doc is not None
    assert doc.status == DocStatus.REGISTERED
    assert same_address(doc.issuer, world.accounts["exporter"].address)
    assert doc.registered_at == batch.anchored_at
    assert doc.doc_type == members[chosen].doc_type

    r.revoke(world.sender("exporter"), members[chosen].fingerprint, 1)
    revoked = r.document(members[chosen].fingerprint)
    assert revoked is not None and revoked.status == DocStatus.REVOKED
    # The other members are untouched: unrecorded, and still proven by the batch.
    for i, member in enumerate(members):
        if i == chosen:
            continue
        assert r.document(member.fingerprint) is None
        assert r.verify_batch_member(tree.root, member, tree.proof(i))
    # An unrecorded member can still be recorded after its sibling was revoked.
    r.record_batch_member(world.sender("relayer"), tree.root, members[0], tree.proof(0))
    other = r.document(members[0].fingerprint)
    assert other is not None and other.status == DocStatus.REGISTERED


def test_record_twice(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 3)
    r.record_batch_member(world.sender("relayer"), tree.root, members[1], tree.proof(1))
    batch = r.batch(tree.root)
    assert batch is not None
    with pytest.raises(ContractError) as e:
        r.record_batch_member(world.sender("outsider"), tree.root, members[1], tree.proof(1))
    check_error(
        e.value,
        "DocumentAlreadyRegistered",
        Conflict,
        fingerprint=members[1].fingerprint,
        issuer=world.accounts["exporter"].address,
        registeredAt=batch.anchored_at,
    )


def test_record_member_already_registered_individually(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 2)
    m = members[0]
    r.register(world.sender("exporter2"), m.fingerprint, m.doc_type, m.cid, m.consignment_ref)
    with pytest.raises(ContractError) as e:
        r.record_batch_member(world.sender("relayer"), tree.root, m, tree.proof(0))
    check_error(
        e.value,
        "DocumentAlreadyRegistered",
        Conflict,
        fingerprint=m.fingerprint,
        issuer=world.accounts["exporter2"].address,
    )


def test_invalid_batch(world: World) -> None:
    r = world.registry
    _, tree = make_batch(3)
    with pytest.raises(ContractError) as e:
        r.anchor_batch(world.sender("exporter"), bytes(32), 3, b"")
    check_error(e.value, "InvalidBatch", InvalidInput, root=bytes(32))
    with pytest.raises(ContractError) as e:
        r.anchor_batch(world.sender("exporter"), tree.root, 0, b"")
    check_error(e.value, "InvalidBatch", InvalidInput, root=tree.root)
    r.anchor_batch(world.sender("exporter"), tree.root, 3, b"")
    for role in ("exporter", "exporter2"):
        with pytest.raises(ContractError) as e:
            r.anchor_batch(world.sender(role), tree.root, 3, b"")
        check_error(e.value, "InvalidBatch", InvalidInput, root=tree.root)
    batch = r.batch(tree.root)
    assert batch is not None and same_address(batch.issuer, world.accounts["exporter"].address)


@pytest.mark.parametrize(
    ("role", "error"),
    [
        ("customs", "WrongOrganisationKind"),
        ("auditor", "WrongOrganisationKind"),
        ("outsider", "UnknownKey"),
    ],
)
def test_anchor_needs_an_exporter_or_issuing_body_key(world: World, role: str, error: str) -> None:
    _, tree = make_batch(2)
    with pytest.raises(ContractError) as e:
        world.registry.anchor_batch(world.sender(role), tree.root, 2, b"")
    check_error(e.value, error, Forbidden, key=world.accounts[role].address)
    assert world.registry.batch(tree.root) is None


def test_unknown_batch(world: World) -> None:
    members, tree = make_batch(3)  # never anchored
    with pytest.raises(ContractError) as e:
        world.registry.record_batch_member(
            world.sender("relayer"), tree.root, members[0], tree.proof(0)
        )
    check_error(e.value, "UnknownBatch", NotFound, root=tree.root)


def test_invalid_merkle_proof(world: World) -> None:
    r = world.registry
    members, tree = anchor(world, 4)
    stranger = BatchMember(fingerprint(), 861, random_cid(), "SMGS-X")
    tampered = BatchMember(members[0].fingerprint, 999, members[0].cid, members[0].consignment_ref)
    attempts = [
        (members[0], tree.proof(1)),
        (members[0], [bytes(32)] * len(tree.proof(0))),
        (stranger, tree.proof(0)),
        (tampered, tree.proof(0)),
    ]
    for member, proof in attempts:
        with pytest.raises(ContractError) as e:
            r.record_batch_member(world.sender("relayer"), tree.root, member, proof)
        check_error(
            e.value,
            "InvalidMerkleProof",
            InvalidInput,
            root=tree.root,
            fingerprint=member.fingerprint,
        )
        assert r.document(member.fingerprint) is None
