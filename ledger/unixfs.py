"""CIDs, multibase and the dag-pb/UnixFS file nodes that ``ipfs add`` builds.

Everything here is written by hand with the standard library: unsigned varints, the
protobuf bytes of dag-pb ``PBNode``/``PBLink`` and UnixFS ``Data`` for files, CIDv0/v1 in
binary and text form (base32 ``b…``, base58btc ``z…`` and ``Qm…``). ``Cid`` is what the rest
of the library passes around: ``bytes(cid)`` is the binary CID stored on chain, ``str(cid)``
the base32 text.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from ledger.errors import IntegrityError, InvalidInput

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
UNIXFS_FILE = 2
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


def _field_bytes(num: int, payload: bytes) -> bytes:
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def _field_uint(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value)


@dataclass(frozen=True, slots=True)
class Link:
    """A child of a file node: its CID, its file bytes and its cumulative DAG size (Tsize)."""

    cid: Cid
    filesize: int
    tsize: int


def file_node(links: list[Link]) -> tuple[bytes, Link]:
    """Encode an intermediate UnixFS file node (dag-pb); return (block, link to it)."""
    filesize = sum(ln.filesize for ln in links)
    data = _field_uint(1, UNIXFS_FILE) + _field_uint(3, filesize)
    data += b"".join(_field_uint(4, ln.filesize) for ln in links)
    pb = b"".join(
        _field_bytes(
            2, _field_bytes(1, bytes(ln.cid)) + _field_bytes(2, b"") + _field_uint(3, ln.tsize)
        )
        for ln in links
    )
    block = pb + _field_bytes(1, data)
    tsize = len(block) + sum(ln.tsize for ln in links)
    return block, Link(Cid.of(DAG_PB, block), filesize, tsize)


def _fields(buf: bytes | memoryview) -> list[tuple[int, int | memoryview]]:
    """Split a protobuf message into (field number, int or bytes) pairs."""
    view, pos = memoryview(buf), 0
    out: list[tuple[int, int | memoryview]] = []
    while pos < len(view):
        key, pos = read_varint(view, pos)
        kind = key & 7
        if kind == 0:
            val, pos = read_varint(view, pos)
            out.append((key >> 3, val))
        elif kind == 2:
            size, pos = read_varint(view, pos)
            if pos + size > len(view):
                raise IntegrityError("truncated dag-pb node")
            out.append((key >> 3, view[pos : pos + size]))
            pos += size
        else:
            raise IntegrityError(f"unsupported protobuf wire type {kind} in a dag-pb node")
    return out


def decode_file_node(block: bytes | memoryview) -> tuple[bytes, list[Cid]]:
    """Decode a dag-pb UnixFS file node into (its inline data, its children in order)."""
    children: list[Cid] = []
    data = b""
    for num, val in _fields(block):
        if num == 2 and isinstance(val, memoryview):
            children.extend(
                Cid.from_bytes(v) for n, v in _fields(val) if n == 1 and isinstance(v, memoryview)
            )
        elif num == 1 and isinstance(val, memoryview):
            for n, v in _fields(val):
                if n == 1 and v not in (0, 2):  # Raw or File
                    raise InvalidInput("this CID is a directory or symlink, not a single file")
                if n == 2 and isinstance(v, memoryview):
                    data = bytes(v)
    return data, children
