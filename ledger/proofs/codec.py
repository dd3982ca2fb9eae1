"""The wire form of proof material: strings and JSON numbers in, bytes and ints out.

Identifiers (hashes, addresses, signatures) are 0x-hex, as explorers and wallets show them;
opaque RLP blobs (trie nodes, a header's RLP) are base64 (RFC 4648, padded), a third
smaller than hex, which keeps a bundle of one registration under 16 KB.

Proof objects arrive in files someone else made, so every reader here checks the shape it
expects and raises ``ProofInvalid`` (problem ``malformed``) naming the field, never a bare
``KeyError`` or ``ValueError``. RLP decoding goes through ``decode_rlp`` for the same reason.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sha3 import keccak_256

from ledger.errors import ProofInvalid

RlpItem = bytes | list[Any]
MAX_RLP_DEPTH = 16  # headers, trie nodes and receipts nest 4 deep at most; no stack to exhaust


def keccak(data: bytes = b"", *, text: str | None = None) -> bytes:
    """Keccak-256 of ``data`` (or of ``text`` as UTF-8)."""
    if text is not None:
        data = text.encode()
    return bytes(keccak_256(data).digest())


def checksummed(address: bytes) -> str:
    """An address in EIP-55 mixed case."""
    digits = address.hex()
    nibbles = keccak(digits.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(n, 16) >= 8 else c for c, n in zip(digits, nibbles, strict=False)
    )


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


def blob_of(value: bytes) -> str:
    return base64.b64encode(value).decode()


BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def parse_blob(value: Any, name: str, part: str) -> bytes:
    """A base64 string (standard alphabet, padded, nothing else) as bytes."""
    if not isinstance(value, str) or not BASE64.fullmatch(value):
        raise ProofInvalid(part, "malformed", f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ProofInvalid(part, "malformed", f"{name} is not base64") from None


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
    """A list of RLP-encoded trie nodes, as base64 strings."""
    return tuple(
        parse_blob(v, f"{key}[{i}]", part) for i, v in enumerate(read_list(obj, key, part))
    )


def decode_rlp(raw: bytes, part: str, what: str) -> RlpItem:
    """``raw`` as one canonical RLP item: bytes, or a list of items. Anything else (trailing
    bytes, a long form for a short length, a single byte below 0x80 wrapped) is malformed,
    as it is to the browser's decoder; faster than pyrlp on trie nodes, which matters here."""
    size = len(raw)

    def fail() -> ProofInvalid:
        return ProofInvalid(part, "malformed", f"{what} is not valid RLP")

    def long_length(at: int, n: int) -> int:
        if at + n > size or raw[at] == 0:
            raise fail()
        length = int.from_bytes(raw[at : at + n], "big")
        if length < 56:
            raise fail()
        return length

    def item(at: int, depth: int) -> tuple[RlpItem, int]:
        if at >= size or depth > MAX_RLP_DEPTH:
            raise fail()
        prefix = raw[at]
        if prefix < 0x80:
            return raw[at : at + 1], at + 1
        if prefix <= 0xB7:
            start, length, is_list = at + 1, prefix - 0x80, False
        elif prefix <= 0xBF:
            n = prefix - 0xB7
            start, length, is_list = at + 1 + n, long_length(at + 1, n), False
        elif prefix <= 0xF7:
            start, length, is_list = at + 1, prefix - 0xC0, True
        else:
            n = prefix - 0xF7
            start, length, is_list = at + 1 + n, long_length(at + 1, n), True
        end = start + length
        if end > size:
            raise fail()
        if not is_list:
            if length == 1 and raw[start] < 0x80:
                raise fail()
            return raw[start:end], end
        items: list[Any] = []
        while start < end:
            first = raw[start]
            if 0x80 < first <= 0xB7:  # a short string, inline: most of a trie node
                stop = start + 1 + first - 0x80
                if stop > size or (first == 0x81 and raw[start + 1] < 0x80):
                    raise fail()
                items.append(raw[start + 1 : stop])
                start = stop
                continue
            child, start = item(start, depth + 1)
            items.append(child)
        if start != end:
            raise fail()
        return items, end

    result, end = item(0, 0)
    if end != size:
        raise fail()
    return result


def to_int(raw: Any, part: str, what: str) -> int:
    """An RLP scalar (big-endian, no leading zero) as an int."""
    if not isinstance(raw, bytes) or raw[:1] == b"\x00":
        raise ProofInvalid(part, "malformed", f"{what} is not an RLP integer")
    return int.from_bytes(raw, "big")


def hex_list(items: Sequence[bytes]) -> list[str]:
    return [hex_of(i) for i in items]


def blob_list(items: Sequence[bytes]) -> list[str]:
    return [blob_of(i) for i in items]
