"""Checkpoints: "block N with hash H is in chain C's history of contract A", signed by the
consortium's checkpoint keys.

The statement is EIP-712 typed data, so any wallet can show what it signs::

    domain  {name: "TradeDocumentLedger Checkpoint", version: "1", chainId: C, verifyingContract: A}
    Checkpoint(uint256 blockNumber, bytes32 blockHash, uint256 timestamp)

``statement_at`` makes the unsigned statement from a signer's own node (refusing a block
with fewer confirmations than asked), ``sign`` adds one key's signature. ``verify_checkpoint``
holds it against a trust file and the block's header: another chain id or contract, a
header that is not the signed block, a malformed signature, fewer trusted signers than the
threshold (naming any signer the trust file does not know) are ``ProofInvalid``; a
checkpoint older than the trust file's limit, or ahead of this clock, is ``ProofStale``.
A key that signs twice counts once; signatures by unknown keys beside enough trusted ones
are reported, not fatal (a trust file may have dropped a key since).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import coincurve

from ledger.chain import Rpc
from ledger.errors import ProofInvalid, ProofStale
from ledger.proofs.codec import (
    checksummed,
    hex_list,
    hex_of,
    keccak,
    parse_hex,
    quantity,
    read_bytes,
    read_int,
    read_list,
)
from ledger.proofs.headers import Header, expect_hash, fetch_header
from ledger.proofs.trust import TrustFile

PART = "checkpoint"
DOMAIN_NAME = "TradeDocumentLedger Checkpoint"
DOMAIN_VERSION = "1"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
CHECKPOINT_TYPE = "Checkpoint(uint256 blockNumber,bytes32 blockHash,uint256 timestamp)"
SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
MAX_CLOCK_SKEW = 300  # seconds a checkpoint's block may be ahead of the verifier's clock


@dataclass(frozen=True)
class Checkpoint:
    chain_id: int
    contract: bytes
    block_number: int
    block_hash: bytes
    timestamp: int
    signatures: tuple[bytes, ...] = ()

    def digest(self) -> bytes:
        """The EIP-712 hash the checkpoint keys sign."""
        domain = keccak(
            keccak(text=DOMAIN_TYPE)
            + keccak(text=DOMAIN_NAME)
            + keccak(text=DOMAIN_VERSION)
            + self.chain_id.to_bytes(32, "big")
            + self.contract.rjust(32, b"\x00")
        )
        struct = keccak(
            keccak(text=CHECKPOINT_TYPE)
            + self.block_number.to_bytes(32, "big")
            + self.block_hash
            + self.timestamp.to_bytes(32, "big")
        )
        return keccak(b"\x19\x01" + domain + struct)

    def typed_data(self) -> dict[str, Any]:
        """The statement as EIP-712 typed data, as ``eth_signTypedData_v4`` and wallets take it."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Checkpoint": [
                    {"name": "blockNumber", "type": "uint256"},
                    {"name": "blockHash", "type": "bytes32"},
                    {"name": "timestamp", "type": "uint256"},
                ],
            },
            "primaryType": "Checkpoint",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.chain_id,
                "verifyingContract": checksummed(self.contract),
            },
            "message": {
                "blockNumber": self.block_number,
                "blockHash": hex_of(self.block_hash),
                "timestamp": self.timestamp,
            },
        }

    def sign(self, private_key: bytes) -> Checkpoint:
        """This checkpoint with one more signature (65 bytes: r, s, v = 27 or 28)."""
        raw = coincurve.PrivateKey(private_key).sign_recoverable(self.digest(), hasher=None)
        return replace(self, signatures=(*self.signatures, raw[:64] + bytes([raw[64] + 27])))

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contract": checksummed(self.contract),
            "blockNumber": self.block_number,
            "blockHash": hex_of(self.block_hash),
            "timestamp": self.timestamp,
            "signatures": hex_list(self.signatures),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Checkpoint:
        signatures = read_list(obj, "signatures", PART)
        return cls(
            read_int(obj, "chainId", PART),
            read_bytes(obj, "contract", PART, 20),
            read_int(obj, "blockNumber", PART),
            read_bytes(obj, "blockHash", PART, 32),
            read_int(obj, "timestamp", PART),
            tuple(parse_hex(s, f"signatures[{i}]", PART) for i, s in enumerate(signatures)),
        )


@dataclass(frozen=True)
class TrustedCheckpoint:
    """What a verified checkpoint establishes, for the answer to state ("as of block N, T")."""

    block_number: int
    block_hash: bytes
    timestamp: int
    age: int  # seconds before the verifier's clock
    signers: tuple[str, ...]  # names of the trusted signers, as the trust file has them
    unknown_signers: tuple[bytes, ...]  # signatures by keys the trust file does not list


def statement_at(rpc: Rpc, contract: str, block: int | str, confirmations: int = 0) -> Checkpoint:
    """The unsigned checkpoint of ``block`` as the signer's own node has it."""
    header = fetch_header(rpc, block)
    head = quantity(rpc.call("eth_blockNumber", []), "eth_blockNumber", PART)
    if head - header.number < confirmations:
        raise ProofInvalid(
            PART,
            "not_final",
            f"block {header.number} has {head - header.number} confirmations, "
            f"fewer than the {confirmations} a checkpoint needs: sign an older block",
        )
    chain_id = quantity(rpc.call("eth_chainId", []), "eth_chainId", PART)
    address = parse_hex(contract, "contract", PART, 20)
    return Checkpoint(chain_id, address, header.number, header.hash, header.timestamp)


def recover(digest: bytes, signature: bytes, index: int) -> bytes:
    """The address whose key made ``signature`` (65 bytes, low s, v 27/28) over ``digest``."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise ProofInvalid(PART, "bad_signature", f"signature {index} is not 65 bytes ending 27/28")
    if int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N:
        raise ProofInvalid(PART, "bad_signature", f"signature {index} has a high s (malleated)")
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), digest, hasher=None
        )
    except ValueError:
        raise ProofInvalid(PART, "bad_signature", f"signature {index} recovers no key") from None
    return keccak(key.format(compressed=False)[1:])[12:]


def verify_checkpoint(
    checkpoint: Checkpoint, header: Header, trust: TrustFile, now: int, fresh: bool = True
) -> TrustedCheckpoint:
    """The checkpoint, checked against ``trust`` and the header of its block, at time ``now``
    (``fresh=False``: no age limit, for a checkpoint that vouches for a past fact)."""
    if checkpoint.chain_id != trust.chain_id:
        raise ProofInvalid(
            PART,
            "wrong_chain",
            f"is for chain {checkpoint.chain_id}; the trust file is for chain {trust.chain_id}",
        )
    if checkpoint.contract != trust.contract:
        raise ProofInvalid(
            PART,
            "wrong_contract",
            f"is for contract {checksummed(checkpoint.contract)}; the trust file "
            f"is for {checksummed(trust.contract)}",
        )
    expect_hash(header, checkpoint.block_hash, "the checkpoint")
    if header.number != checkpoint.block_number or header.timestamp != checkpoint.timestamp:
        raise ProofInvalid(
            PART,
            "block_mismatch",
            f"signs block {checkpoint.block_number} at {checkpoint.timestamp}, but that hash "
            f"is block {header.number} at {header.timestamp}",
        )
    digest = checkpoint.digest()
    trusted: dict[bytes, str] = {}
    unknown: list[bytes] = []
    for i, signature in enumerate(checkpoint.signatures):
        address = recover(digest, signature, i)
        signer = trust.signer(address)
        if signer is not None:
            trusted[address] = signer.name
        elif address not in unknown:
            unknown.append(address)
    if len(trusted) < trust.threshold:
        raise ProofInvalid(
            PART,
            "unknown_signer" if unknown else "below_threshold",
            f"signed by {len(trusted)} of the trust file's keys, {trust.threshold} needed"
            + _named(unknown),
        )
    age = now - checkpoint.timestamp
    if fresh and age > trust.max_age:
        raise ProofStale(
            PART,
            "too_old",
            f"block {checkpoint.block_number} of {_date(checkpoint.timestamp)} is {age} s old; "
            f"the trust file accepts at most {trust.max_age} s: get a fresher bundle",
        )
    if age < -MAX_CLOCK_SKEW:
        raise ProofStale(
            PART,
            "in_future",
            f"block {checkpoint.block_number} of {_date(checkpoint.timestamp)} is {-age} s "
            "ahead of this computer's clock: check the clock",
        )
    return TrustedCheckpoint(
        checkpoint.block_number,
        checkpoint.block_hash,
        checkpoint.timestamp,
        age,
        tuple(trusted.values()),
        tuple(unknown),
    )


def _named(unknown: Sequence[bytes]) -> str:
    if not unknown:
        return ""
    return (
        "; also signed by "
        + ", ".join(checksummed(a) for a in unknown)
        + ", which it does not list"
    )


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
