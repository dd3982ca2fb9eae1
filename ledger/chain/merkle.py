"""Merkle trees for batch anchoring, compatible with OpenZeppelin's ``MerkleProof``.

A leaf commits to a document's fingerprint, type, CID and consignment reference (double
keccak of their ABI encoding, as OpenZeppelin's standard tree does). Pairs are hashed in
sorted order, so a proof is just the list of siblings from leaf to root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

from ledger.cid import split_cid


@dataclass(frozen=True)
class BatchMember:
    """The fields of one batched document that its leaf commits to."""

    fingerprint: bytes
    doc_type: int
    cid: bytes  # binary CIDv1 with a sha2-256 digest: 4-byte prefix + 32-byte digest
    consignment_ref: str

    def leaf(self) -> bytes:
        prefix, digest = split_cid(self.cid)
        if len(self.fingerprint) > 32 or not 0 <= self.doc_type < 1 << 16:
            raise ValueError(f"not a batch member: {self}")
        # abi.encode(bytes32, uint16, bytes4, bytes32, bytes32), built by hand: the leaves
        # of a 500-document batch are hashed twice (the service, then the indexer)
        inner = keccak(
            self.fingerprint.ljust(32, b"\0")
            + self.doc_type.to_bytes(32, "big")
            + prefix.ljust(32, b"\0")
            + digest
            + keccak(self.consignment_ref.encode())
        )
        return keccak(inner)

    def as_tuple(self) -> tuple[bytes, int, bytes, bytes, str]:
        """The member as the contract's ``BatchMember`` struct argument."""
        return (self.fingerprint, self.doc_type, *split_cid(self.cid), self.consignment_ref)


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


class MerkleTree:
    """A tree over leaf hashes; ``proof(i)`` proves the i-th leaf given to the constructor."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        self.leaves = list(leaves)
        order = sorted(range(len(leaves)), key=lambda i: leaves[i])
        self._position = {index: pos for pos, index in enumerate(order)}
        self._layers: list[list[bytes]] = [[leaves[i] for i in order]]
        while len(self._layers[-1]) > 1:
            layer = self._layers[-1]
            nxt = [hash_pair(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
            if len(layer) % 2:
                nxt.append(layer[-1])
            self._layers.append(nxt)

    @property
    def root(self) -> bytes:
        return self._layers[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from the ``index``-th leaf up to the root."""
        pos = self._position[index]
        siblings = []
        for layer in self._layers[:-1]:
            sibling = pos ^ 1
            if sibling < len(layer):
                siblings.append(layer[sibling])
            pos //= 2
        return siblings


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """What ``MerkleProof.verify`` answers on chain."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
