"""Block headers: every field, RLP-encoded, so that their keccak is the block's hash.

A node's ``eth_getBlockByNumber`` answer becomes the header's RLP with the fifteen fields
every block has and, in order, those the hard fork in force adds: London ``baseFeePerGas``,
Shanghai ``withdrawalsRoot``, Cancun ``blobGasUsed``, ``excessBlobGas`` and
``parentBeaconBlockRoot``, Prague ``requestsHash``. ``fetch_header`` refuses a header whose
hash is not the node's block hash (a field this code does not know), so what it hands out
always re-hashes.

Offline, ``read_header`` decodes a header and exposes what the proofs rest on (number,
parent hash, state and receipts roots, time); its hash is only trusted once it equals a
checkpoint's block hash or the parent hash of a trusted header (``verify_chain``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import rlp

from ledger.chain import Rpc
from ledger.errors import ProofInvalid
from ledger.proofs.codec import (
    blob_of,
    decode_rlp,
    hex_of,
    keccak,
    parse_blob,
    parse_hex,
    quantity,
    read_bytes,
    read_int,
    read_list,
    to_int,
)

PART = "header"

# (JSON-RPC name, kind): "hash" 32 bytes, "address" 20, "bloom" 256, "nonce" 8, "int", "bytes"
FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "hash"),
    ("sha3Uncles", "hash"),
    ("miner", "address"),
    ("stateRoot", "hash"),
    ("transactionsRoot", "hash"),
    ("receiptsRoot", "hash"),
    ("logsBloom", "bloom"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "hash"),
    ("nonce", "nonce"),
    # added by hard forks, in this order; a header has a prefix of them
    ("baseFeePerGas", "int"),  # London
    ("withdrawalsRoot", "hash"),  # Shanghai
    ("blobGasUsed", "int"),  # Cancun
    ("excessBlobGas", "int"),
    ("parentBeaconBlockRoot", "hash"),
    ("requestsHash", "hash"),  # Prague
)
BASE_FIELDS = 15
SIZES = {"hash": 32, "address": 20, "bloom": 256, "nonce": 8}
INDEX = {name: i for i, (name, _) in enumerate(FIELDS)}


@dataclass(frozen=True)
class Header:
    """A decoded header; ``hash`` is its keccak, trusted only once linked to a checkpoint."""

    rlp: bytes
    hash: bytes
    fields: tuple[bytes, ...]

    def field(self, name: str) -> bytes:
        return self.fields[INDEX[name]]

    @property
    def number(self) -> int:
        return int.from_bytes(self.field("number"), "big")

    @property
    def timestamp(self) -> int:
        return int.from_bytes(self.field("timestamp"), "big")

    @property
    def parent_hash(self) -> bytes:
        return self.field("parentHash")

    @property
    def state_root(self) -> bytes:
        return self.field("stateRoot")

    @property
    def receipts_root(self) -> bytes:
        return self.field("receiptsRoot")

    def to_json(self) -> dict[str, Any]:
        """``{number, hash, rlp}``: number and hash are for readers; a verifier re-derives them."""
        return {"number": self.number, "hash": hex_of(self.hash), "rlp": blob_of(self.rlp)}


def encode_header(block: Mapping[str, Any]) -> bytes:
    """The RLP of a block's header from a JSON-RPC block object (hex strings)."""
    items: list[bytes] = []
    for i, (name, kind) in enumerate(FIELDS):
        value = block.get(name)
        if value is None:
            if i < BASE_FIELDS:
                raise ProofInvalid(PART, "malformed", f"the node's block has no {name}")
            later = [n for n, _ in FIELDS[i + 1 :] if block.get(n) is not None]
            if later:
                raise ProofInvalid(
                    PART, "malformed", f"the node's block has {later[0]} but no {name}"
                )
            break
        if kind == "int":
            items.append(quantity(value, name, PART).to_bytes(32, "big").lstrip(b"\x00"))
            continue
        raw = parse_hex(value, name, PART)
        if kind in SIZES and len(raw) != SIZES[kind]:
            raise ProofInvalid(PART, "malformed", f"{name} must be {SIZES[kind]} bytes")
        items.append(raw)
    return rlp.encode(items)


def decode_header(raw: bytes) -> Header:
    """A header from its RLP: 15 to 21 byte strings, each of its field's size."""
    item = decode_rlp(raw, PART, "the header")
    if (
        not isinstance(item, list)
        or not BASE_FIELDS <= len(item) <= len(FIELDS)
        or not all(isinstance(f, bytes) for f in item)
    ):
        raise ProofInvalid(
            PART, "malformed", f"a header is a list of {BASE_FIELDS} to {len(FIELDS)} fields"
        )
    for value, (name, kind) in zip(item, FIELDS, strict=False):
        if kind in SIZES and len(value) != SIZES[kind]:
            raise ProofInvalid(PART, "malformed", f"{name} must be {SIZES[kind]} bytes")
        if kind == "int":
            to_int(value, PART, name)
    return Header(raw, keccak(raw), tuple(item))


def read_header(obj: Mapping[str, Any]) -> Header:
    """A header object ``{number, hash, rlp}``; the claims must match what the RLP encodes."""
    rlp_blob = obj.get("rlp") if isinstance(obj, Mapping) else None
    header = decode_header(parse_blob(rlp_blob, "rlp", PART))
    if read_int(obj, "number", PART) != header.number:
        raise ProofInvalid(
            PART, "claim_mismatch", f"says block {obj['number']} but encodes {header.number}"
        )
    if read_bytes(obj, "hash", PART, 32) != header.hash:
        raise ProofInvalid(
            PART, "hash_mismatch", f"block {header.number}'s fields do not hash to its stated hash"
        )
    return header


def expect_hash(header: Header, trusted: bytes, source: str) -> None:
    """``header`` is the block ``source`` vouches for (a checkpoint, a child's parent hash)."""
    if header.hash != trusted:
        raise ProofInvalid(
            PART,
            "hash_mismatch",
            f"block {header.number} hashes to {hex_of(header.hash)}, "
            f"not to {hex_of(trusted)} as {source} says: a field was changed",
        )


def verify_chain(headers: Sequence[Header], trusted_last: bytes, source: str) -> None:
    """Headers in ascending order, each the parent of the next; the last one trusted."""
    if not headers:
        raise ProofInvalid("header chain", "malformed", "the chain of headers is empty")
    expect_hash(headers[-1], trusted_last, source)
    for parent, child in pairwise(headers):
        if child.parent_hash != parent.hash or child.number != parent.number + 1:
            raise ProofInvalid(
                "header chain",
                "broken_link",
                f"block {child.number} does not have block {parent.number} "
                f"({hex_of(parent.hash)}) as its parent",
            )


def read_chain(obj: Mapping[str, Any]) -> list[Header]:
    """A header chain object ``{headers: [header, ...]}``."""
    items = read_list(obj, "headers", "header chain")
    return [read_header(h) for h in items]


def fetch_header(rpc: Rpc, block: int | str) -> Header:
    """The header of ``block`` (a number or a tag such as ``"latest"``), checked to re-hash."""
    tag = hex(block) if isinstance(block, int) else block
    answer = rpc.call("eth_getBlockByNumber", [tag, False])
    if answer is None:
        raise ProofInvalid(PART, "unknown_block", f"the node has no block {block}")
    header = decode_header(encode_header(answer))
    node_hash = parse_hex(answer.get("hash"), "hash", PART, 32)
    if header.hash != node_hash:
        present = [name for name, _ in FIELDS if answer.get(name) is not None]
        raise ProofInvalid(
            PART,
            "hash_mismatch",
            f"block {header.number}'s fields ({', '.join(present[BASE_FIELDS:]) or 'pre-London'}) "
            "do not hash to the node's block hash: the node's hard fork adds a field this "
            "code does not know; add it to ledger/proofs/headers.py FIELDS",
        )
    return header
