"""Storage proofs: a contract's storage slots as of a block, proven from its stateRoot.

``prove_storage`` asks the node for ``eth_getProof`` (the account's path in the state trie
under ``keccak(address)``, and each slot's path in the account's storage trie under
``keccak(slot)``). The slots' proofs share their top nodes, so they travel merged: each
node once (``mpt.merge``). Offline, ``verify_storage`` walks the account proof from the
trusted header's ``stateRoot`` to the account ``[nonce, balance, storageRoot, codeHash]``,
then each slot's path from that ``storageRoot`` to the slot's value (absent: zero). Every
slot the caller wants must be among the proven ones: a proof of another slot, of another
account or against another block's state is named, never read as the wanted one.

Where a value lives is Solidity's storage layout: ``mapping_slot`` (``keccak256(key .
slot)``, nested by chaining) and ``unpack`` for the fields packed in one slot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.chain import Rpc
from ledger.errors import ProofInvalid
from ledger.proofs import mpt
from ledger.proofs.codec import (
    blob_list,
    decode_rlp,
    hex_of,
    keccak,
    parse_hex,
    read_bytes,
    read_list,
    read_nodes,
    to_int,
)
from ledger.proofs.headers import Header

PART = "storage"


@dataclass(frozen=True)
class Account:
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


@dataclass(frozen=True)
class StorageProof:
    """At one block: the account proof of ``address``, and one proof of all of ``slots``
    (their paths' nodes, each once, in the order the slots' paths first meet them)."""

    address: bytes
    account_nodes: tuple[bytes, ...]
    slots: tuple[int, ...]
    nodes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "address": hex_of(self.address),
            "accountNodes": blob_list(self.account_nodes),
            "slots": [hex_of(slot.to_bytes(32, "big")) for slot in self.slots],
            "storageNodes": blob_list(self.nodes),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> StorageProof:
        slots = tuple(
            int.from_bytes(parse_hex(s, f"slots[{i}]", PART, 32), "big")
            for i, s in enumerate(read_list(obj, "slots", PART))
        )
        if len(set(slots)) != len(slots):
            raise ProofInvalid(PART, "malformed", "a slot is listed twice")
        return cls(
            read_bytes(obj, "address", "account", 20),
            read_nodes(obj, "accountNodes", "account"),
            slots,
            read_nodes(obj, "storageNodes", PART),
        )


# ------------------------------------------------------------------------ layout


def word(key: bytes | int | str) -> bytes:
    """A mapping key as Solidity hashes it: an int (uint) or address left-padded to 32 bytes,
    a ``bytes32`` as it is."""
    if isinstance(key, int):
        return key.to_bytes(32, "big")
    raw = parse_hex(key, "key", PART) if isinstance(key, str) else key
    if len(raw) == 20:
        return raw.rjust(32, b"\x00")
    if len(raw) != 32:
        raise ValueError("a mapping key is an int, a 20-byte address or 32 bytes")
    return raw


def mapping_slot(slot: int, *keys: bytes | int | str) -> int:
    """The slot of ``m[k1][k2]...`` for a mapping ``m`` declared at ``slot``."""
    for key in keys:
        slot = int.from_bytes(keccak(word(key) + slot.to_bytes(32, "big")), "big")
    return slot


def unpack(value: int, offset: int, size: int) -> int:
    """A field packed in a slot: ``size`` bytes starting ``offset`` bytes from the right."""
    return (value >> (8 * offset)) & ((1 << (8 * size)) - 1)


# ------------------------------------------------------------------------ producing


def prove_storage(rpc: Rpc, address: str, slots: Iterable[int], block: int) -> StorageProof:
    """``eth_getProof`` of ``slots`` of ``address`` at ``block``, the slots' proofs merged."""
    wanted = tuple(dict.fromkeys(slots))
    answer = rpc.call(
        "eth_getProof", [address, [hex_of(s.to_bytes(32, "big")) for s in wanted], hex(block)]
    )
    proofs = {
        int(p["key"], 16): [parse_hex(n, "proof", PART) for n in p["proof"]]
        for p in answer["storageProof"]
    }
    return StorageProof(
        parse_hex(address, "address", PART, 20),
        tuple(parse_hex(n, "accountProof", "account") for n in answer["accountProof"]),
        wanted,
        mpt.merge([proofs[s] for s in wanted]),
    )


# ------------------------------------------------------------------------ verifying


def verify_account(proof: StorageProof, header: Header, address: bytes) -> Account:
    """The account ``address`` as of ``header``'s block."""
    if proof.address != address:
        raise ProofInvalid(
            "account", "wrong_account", f"proves {hex_of(proof.address)}, not {hex_of(address)}"
        )
    value = mpt.walk(header.state_root, keccak(address), proof.account_nodes, "account")
    if value is None:
        raise ProofInvalid(
            "account", "absent", f"no account {hex_of(address)} at block {header.number}"
        )
    item = decode_rlp(value, "account", "the account")
    if (
        not isinstance(item, list)
        or len(item) != 4
        or not all(isinstance(i, bytes) for i in item)
        or len(item[2]) != 32
        or len(item[3]) != 32
    ):
        raise ProofInvalid("account", "malformed", "an account is [nonce, balance, root, code]")
    return Account(
        to_int(item[0], "account", "nonce"), to_int(item[1], "account", "balance"), item[2], item[3]
    )


def verify_storage(
    proof: StorageProof, header: Header, address: bytes, slots: Iterable[int]
) -> dict[int, int]:
    """The value of each of ``slots`` of ``address`` as of ``header``'s block (0 if unset)."""
    account = verify_account(proof, header, address)
    for slot in slots:
        if slot not in proof.slots:
            raise ProofInvalid(PART, "missing_slot", f"no proof of slot {hex(slot)}")
    nodes = mpt.Nodes(proof.nodes, PART)
    values = {}
    for slot in proof.slots:
        where = f"slot {hex(slot)}"
        raw = nodes.walk(account.storage_root, keccak(slot.to_bytes(32, "big")), f"{where}: ")
        values[slot] = 0 if raw is None else to_int(decode_rlp(raw, PART, where), PART, where)
    nodes.finish()
    return values
