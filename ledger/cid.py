"""CIDs: the content identifiers of IPFS, in binary and text form, and how the contract holds one.

``Cid`` is what the whole library passes around: ``bytes(cid)`` is the binary CID stored on
chain, ``str(cid)`` the base32 text (``b…``); ``Cid.parse`` also reads base58btc (``z…``)
and CIDv0 (``Qm…``). Written by hand with the standard library (unsigned varints, base58).

The contracts take a CIDv1 with a 32-byte multihash digest as two static words, its 4-byte
prefix (``0x01 codec 0x12 0x20``: raw leaves ``0x01551220`` or dag-pb ``0x01701220``) and
its digest: ``split_cid``/``join_cid``. That keeps a registration under its gas budget.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from ledger.errors import IntegrityError, InvalidInput

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def varint(n: int) -> bytes:
    """Unsigned LEB128 varint (protobuf, multiformats and CAR use the same one)."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise InvalidInput("truncated or oversized varint in IPFS data")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58_ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        idx = B58_ALPHABET.find(ch)
        if idx < 0:
            raise InvalidInput(f"invalid base58 character {ch!r} in CID {text!r}")
        n = n * 58 + idx
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


@dataclass(frozen=True, slots=True)
class Cid:
    """A content identifier: version, codec (raw or dag-pb) and a sha2-256 digest."""

    version: int
    codec: int
    digest: bytes = field(repr=False)

    @classmethod
    def of(cls, codec: int, data: bytes | memoryview) -> Cid:
        return cls(1, codec, hashlib.sha256(data).digest())

    @property
    def multihash(self) -> bytes:
        return bytes((SHA2_256, 32)) + self.digest

    def __bytes__(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return bytes((1,)) + varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return b58encode(self.multihash)
        return "b" + base64.b32encode(bytes(self)).decode().lower().rstrip("=")

    def to_v1(self) -> Cid:
        return Cid(1, self.codec, self.digest)

    def verify(self, data: bytes | memoryview) -> None:
        """Raise ``IntegrityError`` unless ``data`` hashes to this CID."""
        if hashlib.sha256(data).digest() != self.digest:
            raise IntegrityError(
                f"block {self} does not match its hash: the stored copy is corrupt; "
                "delete it and fetch or add the document again"
            )

    @classmethod
    def from_bytes(cls, raw: bytes | memoryview) -> Cid:
        cid, end = cls.read(raw, 0)
        if end != len(raw):
            raise InvalidInput("trailing bytes after a binary CID")
        return cid

    @classmethod
    def read(cls, buf: bytes | memoryview, pos: int) -> tuple[Cid, int]:
        """Decode a binary CID at ``pos`` (as in CAR sections); return (cid, next position)."""
        if bytes(buf[pos : pos + 2]) == bytes((SHA2_256, 32)):
            return cls(0, DAG_PB, bytes(buf[pos + 2 : pos + 34])), pos + 34
        version, pos = read_varint(buf, pos)
        codec, pos = read_varint(buf, pos)
        hcode, pos = read_varint(buf, pos)
        hlen, pos = read_varint(buf, pos)
        if version != 1 or codec not in (RAW, DAG_PB) or hcode != SHA2_256 or hlen != 32:
            raise InvalidInput(
                "unsupported CID: only CIDv0/v1 with raw or dag-pb codec and sha2-256 are "
                "accepted (what `ipfs add` produces by default)"
            )
        digest = bytes(buf[pos : pos + 32])
        if len(digest) != 32:
            raise InvalidInput("truncated CID")
        return cls(1, codec, digest), pos + 32

    @classmethod
    def parse(cls, text: str | bytes) -> Cid:
        """Accept a CID as binary, base32 (``b…``), base58btc (``z…``) or CIDv0 (``Qm…``)."""
        if isinstance(text, bytes | bytearray | memoryview):
            return cls.from_bytes(bytes(text))
        text = text.strip()
        try:
            if text.startswith("Qm") and len(text) == 46:
                return cls.from_bytes(b58decode(text))
            if text[:1] in ("b", "B"):
                body = text[1:].upper()
                return cls.from_bytes(base64.b32decode(body + "=" * (-len(body) % 8)))
            if text[:1] == "z":
                return cls.from_bytes(b58decode(text[1:]))
        except (ValueError, InvalidInput) as exc:
            raise InvalidInput(f"{text!r} is not a valid CID: {exc}") from exc
        raise InvalidInput(f"{text!r} is not a CID in base32 (b…), base58btc (z…) or v0 (Qm…)")


EMPTY_RAW_CID = Cid.of(RAW, b"")

CID_LENGTH = 36


def split_cid(cid: bytes) -> tuple[bytes, bytes]:
    """``(prefix, digest)`` of a binary CIDv1 with a 32-byte digest."""
    if len(cid) != CID_LENGTH or cid[0] != 0x01 or cid[3] != 0x20:
        raise InvalidInput(
            f"CID 0x{cid.hex()} is not a binary CIDv1 with a 32-byte sha2-256 digest: "
            "compute it with ledger.content.hashing (ipfs add --cid-version=1)"
        )
    return cid[:4], cid[4:]


def join_cid(prefix: bytes, digest: bytes) -> bytes:
    return bytes(prefix) + bytes(digest)
