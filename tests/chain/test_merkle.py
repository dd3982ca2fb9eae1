"""Merkle trees of batches: every proof verifies, tampering fails, and the contract agrees."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain.merkle import BatchMember, MerkleTree, hash_pair, verify
from ledger.chain.registry import Registry, contract_factory
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import PYEVM, Sender, connect
from ledger.types import OrgKind
from tests.conftest import fund

leaf = st.binary(min_size=32, max_size=32)
leaves = st.lists(leaf, min_size=1, max_size=200)
members = st.builds(
    BatchMember,
    fingerprint=st.binary(min_size=32, max_size=32),
    doc_type=st.integers(1, 2**16 - 1),
    cid=st.tuples(
        st.sampled_from([bytes.fromhex("01551220"), bytes.fromhex("01701220")]),
        st.binary(min_size=32, max_size=32),
    ).map(lambda parts: parts[0] + parts[1]),
    consignment_ref=st.text(max_size=30),
)


def flip(value: bytes, position: int) -> bytes:
    """``value`` with one bit of byte ``position`` flipped."""
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


# ------------------------------------------------------------------ pure Python


@settings(max_examples=60, deadline=None)
@given(leaves)
def test_every_proof_verifies(values: list[bytes]) -> None:
    tree = MerkleTree(values)
    for i, value in enumerate(values):
        assert verify(tree.proof(i), tree.root, value)
    assert len(tree.proof(0)) <= max(1, len(values) - 1).bit_length()  # proofs stay short


@settings(max_examples=60, deadline=None)
@given(leaves, st.data())
def test_a_tampered_leaf_fails(values: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(values)
    i = data.draw(st.integers(0, len(values) - 1))
    tampered = flip(values[i], data.draw(st.integers(0, 31)))
    assert not verify(tree.proof(i), tree.root, tampered)


@settings(max_examples=60, deadline=None)
@given(leaves, st.data())
def test_a_tampered_proof_fails(values: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(values)
    i = data.draw(st.integers(0, len(values) - 1))
    proof = tree.proof(i)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1))
        proof[j] = flip(proof[j], data.draw(st.integers(0, 31)))
    else:  # a one-leaf tree: any sibling at all is wrong
        proof = [data.draw(leaf)]
    assert not verify(proof, tree.root, values[i])


@settings(max_examples=40, deadline=None)
@given(leaves)
def test_root_is_independent_of_leaf_order(values: list[bytes]) -> None:
    """Leaves are sorted before hashing, so a manifest in any order gives the same root."""
    assert MerkleTree(values).root == MerkleTree(list(reversed(values))).root


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 100, 127, 128, 129, 199, 200])
def test_every_proof_verifies_at_size(size: int) -> None:
    values = [os.urandom(32) for _ in range(size)]
    tree = MerkleTree(values)
    assert all(verify(tree.proof(i), tree.root, v) for i, v in enumerate(values))


def test_one_leaf_tree() -> None:
    value = os.urandom(32)
    tree = MerkleTree([value])
    assert tree.root == value and tree.proof(0) == []


def test_pairs_are_hashed_in_sorted_order() -> None:
    a, b = os.urandom(32), os.urandom(32)
    assert hash_pair(a, b) == hash_pair(b, a)


def test_an_empty_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        MerkleTree([])


def test_leaf_commits_to_every_field() -> None:
    member = BatchMember(os.urandom(32), 861, bytes.fromhex("01551220") + os.urandom(32), "SMGS-1")
    changed = [
        BatchMember(os.urandom(32), member.doc_type, member.cid, member.consignment_ref),
        BatchMember(member.fingerprint, 862, member.cid, member.consignment_ref),
        BatchMember(
            member.fingerprint,
            member.doc_type,
            bytes.fromhex("01701220") + member.cid[4:],
            member.consignment_ref,
        ),
        BatchMember(member.fingerprint, member.doc_type, member.cid, "SMGS-2"),
    ]
    assert len({member.leaf(), *(m.leaf() for m in changed)}) == 5


# ------------------------------------------------------------------ the contract agrees (py-evm only)


@pytest.fixture(scope="module")
def pyevm_ledger() -> Iterator[tuple[Registry, Sender]]:
    """A ledger on its own in-process py-evm chain, with one exporter key to anchor batches."""
    w3 = connect(PYEVM)
    admin: LocalAccount = Account.create()
    exporter: LocalAccount = Account.create()
    fund(w3, admin.address, exporter.address)
    registry, _ = Registry.deploy(
        Sender(w3, admin, ErrorDecoder(contract_factory(w3).abi)), admin.address
    )
    org_id, _ = registry.admit_organisation(
        registry.sender(admin), "Merkle Exporter", "KZ", OrgKind.EXPORTER
    )
    now = int(w3.eth.get_block("latest")["timestamp"])
    registry.add_key(registry.sender(admin), org_id, exporter.address, 1, now + 10**8)
    yield registry, registry.sender(exporter)


@pytest.mark.chain
@settings(max_examples=6, deadline=None)
@given(batch=st.lists(members, min_size=1, max_size=12), data=st.data())
def test_contract_verify_batch_member_agrees(
    pyevm_ledger: tuple[Registry, Sender], batch: list[BatchMember], data: st.DataObject
) -> None:
    registry, exporter = pyevm_ledger
    tree = MerkleTree([m.leaf() for m in batch])
    if registry.batch(tree.root) is None:  # hypothesis may replay an example
        registry.anchor_batch(exporter, tree.root, len(batch), b"")
    i = data.draw(st.integers(0, len(batch) - 1))
    member, proof = batch[i], tree.proof(i)
    assert (
        registry.verify_batch_member(tree.root, member, proof)
        is verify(proof, tree.root, member.leaf())
        is True
    )

    tampered = BatchMember(
        member.fingerprint, member.doc_type, member.cid, member.consignment_ref + "!"
    )
    assert (
        registry.verify_batch_member(tree.root, tampered, proof)
        is verify(proof, tree.root, tampered.leaf())
        is False
    )
    if proof:
        bad = [flip(proof[0], data.draw(st.integers(0, 31))), *proof[1:]]
        assert (
            registry.verify_batch_member(tree.root, member, bad)
            is verify(bad, tree.root, member.leaf())
            is False
        )
