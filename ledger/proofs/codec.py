"""The wire form of proof material: 0x-hex strings and JSON numbers in, bytes and ints out.

Proof objects arrive in files someone else made, so every reader here checks the shape it
expects and raises ``ProofInvalid`` (problem ``malformed``) naming the field, never a bare
``KeyError`` or ``ValueError``. RLP decoding goes through ``decode_rlp`` for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import rlp
from Crypto.Hash import keccak as _keccak

from ledger.errors import ProofInvalid

RlpItem = bytes | list[Any]


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """Keccak-256 of ``data`` (or of ``text`` as UTF-8)."""
    if text is not None:
        data = text.encode()
    return _keccak.new(digest_bits=256, data=data).digest()


def hex_of(value: bytes) -> str:
    return "0x" + value.hex()


def read_bytes(obj: Mapping[str, Any], key: str, part: str, size: int | None = None) -> bytes:
    """``obj[key]`` as bytes from a 0x-hex string (of ``size`` bytes, if given)."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return parse_hex(value, f"{key}", part, size)


def parse_hex(value: Any, name: str, part: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        raise ProofInvalid(part, "malformed", f"{name} must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise ProofInvalid(part, "malformed", f"{name} is not hexadecimal") from None
    if size is not None and len(raw) != size:
        raise ProofInvalid(part, "malformed", f"{name} must be {size} bytes, not {len(raw)}")
    return raw


def quantity(value: Any, name: str, part: str) -> int:
    """A JSON-RPC quantity (``"0x1a"``) as an int."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ProofInvalid(part, "malformed", f"{name} must be a 0x-hex quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise ProofInvalid(part, "malformed", f"{name} is not hexadecimal") from None


def read_int(obj: Mapping[str, Any], key: str, part: str) -> int:
    """``obj[key]`` as a non-negative JSON integer."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofInvalid(part, "malformed", f"{key} must be a non-negative integer")
    return value


def read_list(obj: Mapping[str, Any], key: str, part: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if not isinstance(value, list):
        raise ProofInvalid(part, "malformed", f"{key} must be a list")
    return value


def read_nodes(obj: Mapping[str, Any], key: str, part: str) -> tuple[bytes, ...]:
    """A list of RLP-encoded trie nodes, as hex strings."""
    return tuple(parse_hex(v, f"{key}[{i}]", part) for i, v in enumerate(read_list(obj, key, part)))


def decode_rlp(raw: bytes, part: str, what: str) -> RlpItem:
    try:
        item: RlpItem = rlp.decode(raw)
    except rlp.exceptions.DecodingError:
        raise ProofInvalid(part, "malformed", f"{what} is not valid RLP") from None
    return item


def to_int(raw: Any, part: str, what: str) -> int:
    """An RLP scalar (big-endian, no leading zero) as an int."""
    if not isinstance(raw, bytes) or raw[:1] == b"\x00":
        raise ProofInvalid(part, "malformed", f"{what} is not an RLP integer")
    return int.from_bytes(raw, "big")


def hex_list(items: Sequence[bytes]) -> list[str]:
    return [hex_of(i) for i in items]
