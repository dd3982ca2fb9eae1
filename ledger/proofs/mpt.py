"""Merkle-Patricia proofs: from a trusted root, through the proof's nodes, to a key's value.

A proof is the list of RLP-encoded trie nodes on a key's path, root first, as
``eth_getProof`` returns them and receipt proofs carry them; the proof of several keys of
one trie lists each node once, in the order the keys' paths first meet it. ``Nodes`` hands
them out in that order: each new node must hash to the reference its parent (or the root)
holds, and a node already met is met again by its hash. ``Nodes.walk`` follows a key's
nibbles through branch, extension and leaf nodes (a node under 32 bytes sits inside its
parent instead of being referenced by hash) to the value stored under the key, or ``None``
where the proof shows the key absent; ``Nodes.finish`` then insists every node was used.

Every way a proof can fail names itself (``ProofInvalid.problem``): ``node_mismatch`` (a
node does not hash to its reference: altered, reordered, or the proof of another root or
key), ``incomplete`` (the nodes end before a key's path does: one dropped), ``extra_nodes``
(nodes nobody's path used) and ``malformed``. ``prove`` builds a proof from a whole set of
key/value pairs (a block's receipts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import rlp
from trie import HexaryTrie

from ledger.errors import ProofInvalid
from ledger.proofs.codec import decode_rlp, keccak

EMPTY_ROOT = keccak(rlp.encode(b""))


def nibbles(key: bytes) -> list[int]:
    out: list[int] = []
    for byte in key:
        out += (byte >> 4, byte & 0x0F)
    return out


class Nodes:
    """The nodes of one proof (of one key or several keys of one trie), used in order."""

    def __init__(self, raw: Sequence[bytes], part: str) -> None:
        self.raw = raw
        self.part = part
        self.used = 0
        self.met: dict[bytes, object] = {}

    def fail(self, problem: str, message: str) -> ProofInvalid:
        return ProofInvalid(self.part, problem, message)

    def take(self, reference: bytes, label: str) -> object:
        """The decoded node that ``reference`` (a hash) points at."""
        if reference in self.met:
            return self.met[reference]
        if self.used == len(self.raw):
            raise self.fail(
                "incomplete",
                f"{label}the proof ends after {self.used} nodes, before the key's path",
            )
        if keccak(self.raw[self.used]) != reference:
            raise self.fail(
                "node_mismatch",
                f"{label}node {self.used} does not hash to what the root or its parent references",
            )
        node = decode_rlp(self.raw[self.used], self.part, f"{label}node {self.used}")
        self.met[reference] = node
        self.used += 1
        return node

    def walk(self, root: bytes, key: bytes, label: str = "") -> bytes | None:
        """The value under ``key`` in the trie of ``root`` (None: proven absent); ``label``
        starts every error message (which slot, which receipt)."""
        if root == EMPTY_ROOT:
            return None
        path = nibbles(key)
        reference: bytes | list[object] = root
        while True:
            node = reference if isinstance(reference, list) else self.take(reference, label)
            if not isinstance(node, list):
                raise self.fail("malformed", f"{label}a trie node is not a list")
            if len(node) == 17:
                if not path:
                    return self._value(node[16], label)
                child = node[path.pop(0)]
                if child == b"":
                    return None
                reference = self._reference(child, label)
            elif len(node) == 2:
                encoded = node[0]
                if not isinstance(encoded, bytes):
                    raise self.fail("malformed", f"{label}a trie node has a bad path")
                segment, leaf = self._hex_prefix(encoded, label)
                if leaf:
                    return self._value(node[1], label) if segment == path else None
                if not segment:
                    raise self.fail("malformed", f"{label}an extension node extends by no nibble")
                if path[: len(segment)] != segment:
                    return None
                del path[: len(segment)]
                reference = self._reference(node[1], label)
            else:
                raise self.fail("malformed", f"{label}a trie node has {len(node)} items")

    def finish(self) -> None:
        """Every node was on some key's path."""
        if self.used != len(self.raw):
            raise self.fail(
                "extra_nodes",
                f"{len(self.raw) - self.used} node(s) are on no proven key's path: "
                "a proof of another key?",
            )

    def _hex_prefix(self, encoded: bytes, label: str) -> tuple[list[int], bool]:
        """(path nibbles, is a leaf) of a compact-encoded (hex-prefix) path."""
        flag = encoded[0] >> 4 if encoded else 99
        if flag > 3 or (flag in (0, 2) and encoded[0] & 0x0F):
            raise self.fail("malformed", f"{label}a trie node has a bad path prefix")
        return nibbles(encoded)[1 if flag & 1 else 2 :], bool(flag & 2)

    def _reference(self, child: object, label: str) -> bytes | list[object]:
        if isinstance(child, list) or (isinstance(child, bytes) and len(child) == 32):
            return child
        raise self.fail("malformed", f"{label}a trie node holds a bad child reference")

    def _value(self, value: object, label: str) -> bytes | None:
        if not isinstance(value, bytes):
            raise self.fail("malformed", f"{label}a trie value is not a byte string")
        return value or None


def walk(root: bytes, key: bytes, nodes: Sequence[bytes], part: str) -> bytes | None:
    """The value under ``key`` that the proof ``nodes`` (of that key alone) shows."""
    proof = Nodes(nodes, part)
    value = proof.walk(root, key)
    proof.finish()
    return value


def prove(items: Mapping[bytes, bytes], key: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    """(root, proof of ``key``) of the trie holding ``items``, nodes as the wire carries them."""
    trie = HexaryTrie({})
    for k, v in items.items():
        trie[k] = v
    proof = []
    for i, node in enumerate(trie.get_proof(key)):
        raw = rlp.encode(node)
        if i == 0 or len(raw) >= 32:  # smaller nodes travel inside their parent
            proof.append(raw)
    return trie.root_hash, tuple(proof)


def merge(proofs: Sequence[Sequence[bytes]]) -> tuple[bytes, ...]:
    """One proof of several keys from their proofs: each node once, where first met."""
    merged: dict[bytes, None] = {}
    for proof in proofs:
        merged.update(dict.fromkeys(proof))
    return tuple(merged)
