"""The dag-pb/UnixFS file nodes that ``ipfs add`` builds, written by hand.

The protobuf bytes of dag-pb ``PBNode``/``PBLink`` and UnixFS ``Data`` for files, built with
the standard library; CIDs themselves are ``ledger.cid``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.cid import DAG_PB, Cid, read_varint, varint
from ledger.errors import IntegrityError, InvalidInput

UNIXFS_FILE = 2


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
