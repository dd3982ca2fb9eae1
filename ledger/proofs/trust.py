"""Trust files: which chain and contract a verifier trusts, and whose checkpoints.

The consortium exports one; a verifier with no network is told which one it trusts. It names
the chain id, the ledger contract, the keys that sign checkpoints (with the organisation
each belongs to), how many of them must sign one (the threshold) and how old a checkpoint
may be before answers that rest on it become UNVERIFIABLE. The JSON form::

    {"format": "tradeledger-trust/1", "chainId": 31337,
     "contract": "0x5FbD...", "threshold": 2, "maxAgeSeconds": 604800,
     "signers": [{"address": "0xA1...", "name": "Demo Hairatan Border Customs"}, ...]}

A trust file is the verifier's own configuration, so a bad one is ``InvalidInput`` saying
which field to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
from ledger.proofs.codec import checksummed

FORMAT = "tradeledger-trust/1"


@dataclass(frozen=True)
class Signer:
    address: bytes
    name: str


@dataclass(frozen=True)
class TrustFile:
    chain_id: int
    contract: bytes
    signers: tuple[Signer, ...]
    threshold: int
    max_age: int  # seconds

    def __post_init__(self) -> None:
        if self.chain_id <= 0:
            raise InvalidInput("trust file: chainId must be a positive integer")
        if len(self.contract) != 20:
            raise InvalidInput("trust file: contract must be a 20-byte address")
        addresses = [s.address for s in self.signers]
        if not addresses or any(len(a) != 20 for a in addresses):
            raise InvalidInput("trust file: signers must list at least one 20-byte address")
        if len(set(addresses)) != len(addresses):
            raise InvalidInput("trust file: a signer is listed twice")
        if not 1 <= self.threshold <= len(addresses):
            raise InvalidInput(
                f"trust file: threshold must be between 1 and the {len(addresses)} signers"
            )
        if self.max_age <= 0:
            raise InvalidInput("trust file: maxAgeSeconds must be a positive number of seconds")

    def signer(self, address: bytes) -> Signer | None:
        return next((s for s in self.signers if s.address == address), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "chainId": self.chain_id,
            "contract": checksummed(self.contract),
            "threshold": self.threshold,
            "maxAgeSeconds": self.max_age,
            "signers": [{"address": checksummed(s.address), "name": s.name} for s in self.signers],
        }

    @classmethod
    def from_json(cls, obj: Any) -> TrustFile:
        if not isinstance(obj, Mapping) or obj.get("format") != FORMAT:
            raise InvalidInput(f'trust file: not a trust file (its "format" must be "{FORMAT}")')
        signers = obj.get("signers")
        if not isinstance(signers, Sequence) or isinstance(signers, str):
            raise InvalidInput("trust file: signers must be a list of {address, name}")
        return cls(
            _int(obj, "chainId"),
            parse_address(obj.get("contract"), "contract"),
            tuple(_signer(s, i) for i, s in enumerate(signers)),
            _int(obj, "threshold"),
            _int(obj, "maxAgeSeconds"),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrustFile:
        try:
            obj = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"trust file {path}: cannot read it as JSON ({exc})") from None
        return cls.from_json(obj)


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"trust file: {key} must be an integer")
    return value


def parse_address(value: Any, name: str) -> bytes:
    """A 0x address (EIP-55 checked when mixed case) as 20 bytes; ``name`` is for the error."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 42:
        raise InvalidInput(f"trust file: {name} must be a 0x-prefixed 20-byte address")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidInput(f"trust file: {name} is not hexadecimal") from None
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and checksummed(raw) != value:
        raise InvalidInput(f"trust file: {name} {value} fails its checksum (mistyped?)")
    return raw


def _signer(item: Any, i: int) -> Signer:
    if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
        raise InvalidInput(f"trust file: signers[{i}] must be {{address, name}}")
    return Signer(parse_address(item.get("address"), f"signers[{i}].address"), item["name"])
