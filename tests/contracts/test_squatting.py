"""Issue 14, item 1, tried as an attacker with an admitted key would: registering another
organisation's bytes first (single, relayed or a batch root) and taking over a member of
another organisation's batch by registering its fingerprint.

Each test states what must hold once records belong to their issuing organisation: the
real issuer's own registration goes through and names the real issuer. Against contract
1.x (first come owns the fingerprint) the real issuer's transaction reverts, so each test is
a strict expected failure limited to that revert (``raises=ContractError``): it turns into
an unexpected pass, which fails the suite, the day the contract is fixed, and must then be
unmarked. Cross-organisation revoke, supersede, attestation revoke and batch revoke are
already refused (tests/contracts/test_revocation.py, test_attestations.py, test_holes.py).
"""

from __future__ import annotations

import pytest

from ledger.chain.merkle import BatchMember, MerkleTree
from ledger.chain.relay import RegisterRequest, sign_request
from ledger.errors import ContractError
from tests.contracts.conftest import (
    CERTIFICATE_OF_ORIGIN,
    World,
    fingerprint,
    random_cid,
    same_address,
)

pytestmark = pytest.mark.chain

OPEN = pytest.mark.xfail(
    strict=True,
    raises=ContractError,
    reason="issue 14 item 1 open: contract 1.x lets the first registrant own a fingerprint",
)
RAIL_NOTE = 720


@OPEN
def test_a_squatter_cannot_block_a_single_registration(world: World) -> None:
    """exporter2 registers a copy of the exporter's file first; the exporter still registers
    it, and its registration names the exporter."""
    r = world.registry
    fp, cid = fingerprint(), random_cid()
    r.register(world.sender("exporter2"), fp, 380, cid, "SMGS-SQUAT")
    sent = r.register(world.sender("exporter"), fp, 380, cid, "SMGS-1")
    (event,) = r.events(sent.receipt, "DocumentRegistered")
    assert same_address(event["args"]["issuer"], world.accounts["exporter"].address)


@OPEN
def test_a_squatter_cannot_block_a_relayed_registration(world: World) -> None:
    """A front-run of a signed request's fingerprint does not make the relayed request
    revert (which would also leave its nonce unused, blocking the key's later requests)."""
    r = world.registry
    exporter = world.accounts["exporter"]
    fp, cid = fingerprint(), random_cid()
    request = RegisterRequest(exporter.address, fp, 380, cid, "SMGS-2", b"", 0, world.now() + 3600)
    signature = sign_request(exporter, request, r.chain_id, r.address)
    r.register(world.sender("exporter2"), fp, 380, cid, "SMGS-FRONT-RUN")
    sent = r.register_with_signature(world.sender("relayer"), request, signature)
    (event,) = r.events(sent.receipt, "DocumentRegistered")
    assert same_address(event["args"]["issuer"], exporter.address)
    assert r.key_info(exporter.address).nonce == 1


@OPEN
def test_a_squatter_cannot_anchor_a_batch_root_first(world: World) -> None:
    r = world.registry
    members = [BatchMember(fingerprint(), 380, random_cid(), "SMGS-3") for _ in range(3)]
    tree = MerkleTree([m.leaf() for m in members])
    r.anchor_batch(world.sender("exporter2"), tree.root, len(members), b"")
    sent = r.anchor_batch(world.sender("exporter"), tree.root, len(members), b"")
    (event,) = r.events(sent.receipt, "BatchAnchored")
    assert same_address(event["args"]["issuer"], world.accounts["exporter"].address)


@OPEN
def test_registering_a_batch_member_does_not_take_it_over(world: World) -> None:
    """The chamber registers the fingerprint of the exporter's batched rail note as its own
    certificate of origin: the exporter's member is still recorded as the exporter's rail
    note, and the exporter can still revoke it."""
    r = world.registry
    member = BatchMember(fingerprint(), RAIL_NOTE, random_cid(), "SMGS-4")
    tree = MerkleTree([member.leaf(), BatchMember(fingerprint(), 380, random_cid(), "X").leaf()])
    r.anchor_batch(world.sender("exporter"), tree.root, 2, b"")
    r.register(world.sender("issuer"), member.fingerprint, CERTIFICATE_OF_ORIGIN, member.cid, "X")
    sent = r.record_batch_member(world.sender("relayer"), tree.root, member, tree.proof(0))
    (event,) = r.events(sent.receipt, "BatchMemberRecorded")
    assert event["args"]["docType"] == RAIL_NOTE
    r.revoke(world.sender("exporter"), member.fingerprint, 1)
