"""CARv1 files: the archive format of ``ipfs dag export`` / ``ipfs dag import``.

A CAR is a varint-prefixed DAG-CBOR header ``{"roots": [CID...], "version": 1}`` followed
by varint-prefixed sections ``CID bytes || block bytes``. The header is written and read
by hand (a tiny DAG-CBOR subset: maps, arrays, strings, integers, tag 42 CIDs). Reading
streams the sections and checks every block against its CID.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from ledger.cid import Cid, read_varint, varint
from ledger.errors import InvalidInput

MAX_SECTION = 4 * 1024 * 1024  # IPFS blocks are at most 1-2 MiB; refuse anything absurd


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major << 5 | n,))
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes((major << 5 | extra,)) + n.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def _cbor_text(s: str) -> bytes:
    return _cbor_head(3, len(s)) + s.encode()


def encode_header(roots: list[Cid]) -> bytes:
    """DAG-CBOR ``{"roots": [...], "version": 1}`` (keys in canonical length-first order)."""
    out = _cbor_head(5, 2) + _cbor_text("roots") + _cbor_head(4, len(roots))
    for root in roots:
        link = b"\0" + bytes(root)
        out += b"\xd8\x2a" + _cbor_head(2, len(link)) + link
    return out + _cbor_text("version") + _cbor_head(0, 1)


def _cbor_item(buf: bytes, pos: int) -> tuple[object, int]:
    if pos >= len(buf):
        raise InvalidInput("truncated CAR header")
    major, info = buf[pos] >> 5, buf[pos] & 31
    pos += 1
    if info < 24:
        n = info
    elif info <= 27:
        size = 1 << (info - 24)
        n, pos = int.from_bytes(buf[pos : pos + size], "big"), pos + size
    else:
        raise InvalidInput("unsupported CBOR item in CAR header")
    if major == 0:
        return n, pos
    if major in (2, 3):
        raw = buf[pos : pos + n]
        return (raw if major == 2 else raw.decode()), pos + n
    if major == 4:
        items = []
        for _ in range(n):
            item, pos = _cbor_item(buf, pos)
            items.append(item)
        return items, pos
    if major == 5:
        obj: dict[object, object] = {}
        for _ in range(n):
            key, pos = _cbor_item(buf, pos)
            obj[key], pos = _cbor_item(buf, pos)
        return obj, pos
    if major == 6 and n == 42:
        link, pos = _cbor_item(buf, pos)
        if not isinstance(link, bytes) or link[:1] != b"\0":
            raise InvalidInput("malformed CID link in CAR header")
        return Cid.from_bytes(link[1:]), pos
    raise InvalidInput("unsupported CBOR item in CAR header")


def decode_header(buf: bytes) -> list[Cid]:
    header, _ = _cbor_item(buf, 0)
    if not isinstance(header, dict) or header.get("version") != 1:
        raise InvalidInput("not a CARv1 file (CARv2 and others are not supported)")
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, Cid) for r in roots):
        raise InvalidInput("CAR header has no valid roots")
    return list(roots)


def write_car(out: BinaryIO, roots: list[Cid], blocks: Iterable[tuple[Cid, bytes]]) -> None:
    header = encode_header(roots)
    out.write(varint(len(header)) + header)
    for cid, data in blocks:
        raw = bytes(cid)
        out.write(varint(len(raw) + len(data)) + raw)
        out.write(data)


def _read_varint(inp: BinaryIO) -> int | None:
    raw = bytearray()
    while True:
        b = inp.read(1)
        if not b:
            if raw:
                raise InvalidInput("truncated CAR file")
            return None
        raw += b
        if b[0] < 0x80:
            return read_varint(bytes(raw), 0)[0]
        if len(raw) > 9:
            raise InvalidInput("malformed varint in CAR file")


def _read_exact(inp: BinaryIO, n: int) -> bytes:
    data = inp.read(n)
    if len(data) != n:
        raise InvalidInput("truncated CAR file")
    return data


def read_car(inp: BinaryIO) -> tuple[list[Cid], Iterator[tuple[Cid, bytes]]]:
    """Return the roots and a stream of (cid, block), each block checked against its CID."""
    size = _read_varint(inp)
    if size is None or size > MAX_SECTION:
        raise InvalidInput("not a CAR file (missing or oversized header)")
    roots = decode_header(_read_exact(inp, size))

    def sections() -> Iterator[tuple[Cid, bytes]]:
        while (n := _read_varint(inp)) is not None:
            if n > MAX_SECTION:
                raise InvalidInput(f"CAR section of {n} bytes is larger than any IPFS block")
            section = _read_exact(inp, n)
            cid, pos = Cid.read(section, 0)
            data = section[pos:]
            cid.verify(data)
            yield cid, data

    return roots, sections()
