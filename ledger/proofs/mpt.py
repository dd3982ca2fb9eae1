"""Merkle-Patricia proofs: from a trusted root, through the proof's nodes, to a key's value.

A proof is the list of RLP-encoded trie nodes on a key's path, root first, as
``eth_getProof`` returns them and receipt proofs carry them. ``walk`` checks each node
against the hash its parent (or the root) references and follows the key's nibbles
through branch, extension and leaf nodes (a node under 32 bytes sits inside its parent
instead of being referenced by hash). It returns the value stored under the key, or
``None`` where the proof shows that the key is absent.

Every way a proof can fail names itself (``ProofInvalid.problem``): ``node_mismatch`` (a
node does not hash to its reference: altered, reordered, or the proof of another root),
``incomplete`` (the nodes end before the key's path does: one dropped), ``extra_nodes``
(nodes left over after the path ended: a proof of another key) and ``malformed``.
``prove`` builds a proof from a whole set of key/value pairs (a block's receipts).
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


def _hex_prefix(encoded: bytes, part: str) -> tuple[list[int], bool]:
    """(path nibbles, is a leaf) of a compact-encoded (hex-prefix) path."""
    if not encoded or encoded[0] >> 4 > 3 or ((encoded[0] >> 4) in (0, 2) and encoded[0] & 0x0F):
        raise ProofInvalid(part, "malformed", "a trie node has a bad path prefix")
    flag = encoded[0] >> 4
    path = nibbles(encoded)[1 if flag & 1 else 2 :]
    return path, bool(flag & 2)


def walk(
    root: bytes, key: bytes, nodes: Sequence[bytes], part: str, label: str = ""
) -> bytes | None:
    """The value under ``key`` in the trie of ``root`` as ``nodes`` prove it (None: absent);
    ``label`` starts every error message (which slot, which receipt)."""

    def fail(problem: str, message: str) -> ProofInvalid:
        return ProofInvalid(part, problem, label + message)

    path = nibbles(key)
    if root == EMPTY_ROOT and not nodes:
        return None
    reference: bytes | list[object] = root
    used = 0
    value: bytes | None
    while True:
        if isinstance(reference, list):
            node: object = reference  # embedded in its parent, already covered by its hash
        else:
            if used == len(nodes):
                raise fail(
                    "incomplete", f"the proof ends after {used} nodes, before the key's path"
                )
            if keccak(nodes[used]) != reference:
                where = "the root" if used == 0 else f"node {used - 1}"
                raise fail("node_mismatch", f"node {used} does not hash to what {where} references")
            node = decode_rlp(nodes[used], part, f"node {used}")
            used += 1
        if not isinstance(node, list):
            raise fail("malformed", f"node {used - 1} is not a list")
        if len(node) == 17:
            if not path:
                value = _leaf_value(node[16], part)
                break
            child = node[path.pop(0)]
            if child == b"":
                value = None
                break
            reference = _reference(child, part, used)
        elif len(node) == 2:
            encoded = node[0]
            if not isinstance(encoded, bytes):
                raise fail("malformed", f"node {used - 1} has a bad path")
            segment, leaf = _hex_prefix(encoded, part)
            if leaf:
                value = _leaf_value(node[1], part) if segment == path else None
                break
            if not segment:
                raise fail("malformed", f"node {used - 1} extends by no nibble")
            if path[: len(segment)] != segment:
                value = None
                break
            del path[: len(segment)]
            reference = _reference(node[1], part, used)
        else:
            raise fail("malformed", f"node {used - 1} has {len(node)} items")
    if used != len(nodes):
        raise fail(
            "extra_nodes",
            f"{len(nodes) - used} node(s) follow the end of the key's path: a proof of another key?",
        )
    return value


def _reference(child: object, part: str, used: int) -> bytes | list[object]:
    if isinstance(child, list) or (isinstance(child, bytes) and len(child) == 32):
        return child
    raise ProofInvalid(part, "malformed", f"node {used - 1} holds a bad child reference")


def _leaf_value(value: object, part: str) -> bytes | None:
    if not isinstance(value, bytes):
        raise ProofInvalid(part, "malformed", "a trie value is not a byte string")
    return value or None


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
