"""One streaming pass over a document's bytes: its SHA-256 and its IPFS CIDv1 together.

The CID is the one ``ipfs add --cid-version=1`` gives (and Kubo/js-ipfs agree on): 256 KiB
chunks stored as raw leaves, sha2-256, a balanced DAG of dag-pb UnixFS file nodes with at
most 174 links each, a single chunk being its own raw-leaf CID. Memory stays flat: the
builder keeps at most 174 pending links per tree level.

Both digests run at once on two cores: the whole-file SHA-256 in a pool thread while the
caller's thread hashes the chunks (hashlib releases the GIL on large buffers). ``CidHasher``
is incremental (``feed`` ... ``finish``) and can hand every block it builds to a sink, so a
store can hash and write in the same pass.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.cid import DAG_PB, RAW, Cid
from ledger.content.unixfs import Link, file_node
from ledger.errors import InvalidInput

CHUNK_SIZE = 256 * 1024
MAX_LINKS = 174
READ_SIZE = 4 * 1024 * 1024  # 16 chunks per read: thread hand-offs stay negligible
PARALLEL_MIN = 1024 * 1024  # below this, hashing in one thread is cheaper than a hand-off

BlockSink = Callable[[Cid, memoryview], None]
"""Receives every block (leaves first, parents after their children); must not keep the view."""
Progress = Callable[[int], None]
"""Receives the number of bytes just hashed."""

_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="sha256")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What identifies a document: SHA-256 (hex), CIDv1 (base32 text) and size in bytes."""

    sha256: str
    cid: str
    size: int

    @property
    def sha256_bytes(self) -> bytes:
        """The bytes32 fingerprint the contracts store."""
        return bytes.fromhex(self.sha256)

    @property
    def cid_bytes(self) -> bytes:
        """The binary CID the contracts store."""
        return bytes(Cid.parse(self.cid))


class CidHasher:
    """Incremental SHA-256 + CIDv1: ``feed(bytes)`` any number of times, then ``finish()``."""

    def __init__(self, sink: BlockSink | None = None) -> None:
        self._sha = hashlib.sha256()
        self._sink = sink
        self._pending = bytearray()
        self._levels: list[list[Link]] = [[]]
        self._size = 0
        self._result: Fingerprint | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Hash the next bytes; the caller may reuse its buffer as soon as this returns."""
        if self._result is not None:
            raise InvalidInput("this hasher is finished; create a new CidHasher")
        view = memoryview(data).cast("B")
        if not view:
            return
        self._size += len(view)
        if len(view) >= PARALLEL_MIN:
            whole = _POOL.submit(self._sha.update, view)
            try:
                self._chunks(view)
            finally:
                whole.result()
        else:
            self._sha.update(view)
            self._chunks(view)

    def _chunks(self, view: memoryview) -> None:
        pos = 0
        if self._pending:
            pos = min(CHUNK_SIZE - len(self._pending), len(view))
            self._pending += view[:pos]
            if len(self._pending) < CHUNK_SIZE:
                return
            self._leaf(memoryview(self._pending))
            self._pending = bytearray()
        while len(view) - pos >= CHUNK_SIZE:
            self._leaf(view[pos : pos + CHUNK_SIZE])
            pos += CHUNK_SIZE
        self._pending += view[pos:]

    def _leaf(self, chunk: memoryview, digest: bytes | None = None) -> None:
        cid = Cid(1, RAW, digest or hashlib.sha256(chunk).digest())
        if self._sink is not None:
            self._sink(cid, chunk)
        self._push(0, Link(cid, len(chunk), len(chunk)))

    def _push(self, level: int, link: Link) -> None:
        if level == len(self._levels):
            self._levels.append([])
        self._levels[level].append(link)
        if len(self._levels[level]) == MAX_LINKS:
            self._collapse(level)

    def _collapse(self, level: int) -> None:
        block, link = file_node(self._levels[level])
        self._levels[level] = []
        if self._sink is not None:
            self._sink(link.cid, memoryview(block))
        self._push(level + 1, link)

    def finish(self) -> Fingerprint:
        """Close the DAG (a file whose size is a chunk multiple gets no empty chunk)."""
        if self._result is not None:
            return self._result
        if self._pending or self._size == 0:
            # A file of one chunk is its own raw leaf: its digest is the file's SHA-256.
            whole = len(self._pending) == self._size
            self._leaf(memoryview(self._pending), self._sha.digest() if whole else None)
            self._pending = bytearray()
        level = 0
        while True:
            items = self._levels[level]
            higher = any(self._levels[level + 1 :])
            if len(items) == 1 and not higher:
                root = items[0].cid
                break
            if items:
                self._collapse(level)
            level += 1
        assert root.codec in (RAW, DAG_PB)
        self._result = Fingerprint(self._sha.hexdigest(), str(root), self._size)
        return self._result


def hash_stream(
    source: BinaryIO | Iterable[bytes],
    sink: BlockSink | None = None,
    progress: Progress | None = None,
    reuse: bool = True,
) -> Fingerprint:
    """Hash a file-like object (read in 4 MiB pieces) or an iterable of byte strings.

    ``reuse=False`` reads each piece into a fresh buffer, so a sink may keep the views it
    gets (the block store writes them from other threads).
    """
    hasher = CidHasher(sink)
    if reuse and hasattr(source, "readinto"):
        buf = bytearray(READ_SIZE)
        view = memoryview(buf)
        while n := source.readinto(view):
            hasher.feed(view[:n])
            if progress is not None:
                progress(n)
    elif hasattr(source, "read"):
        while piece := source.read(READ_SIZE):
            hasher.feed(piece)
            if progress is not None:
                progress(len(piece))
    else:
        for piece in source:
            hasher.feed(piece)
            if progress is not None:
                progress(len(piece))
    return hasher.finish()


def hash_file(
    path: str | os.PathLike[str], sink: BlockSink | None = None, progress: Progress | None = None
) -> Fingerprint:
    """SHA-256 and CIDv1 of the file at ``path`` in one pass."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{p} is not a readable file")
    with p.open("rb", buffering=0) as f:
        return hash_stream(f, sink, progress)


def hash_bytes(data: bytes) -> Fingerprint:
    """SHA-256 and CIDv1 of bytes already in memory."""
    hasher = CidHasher()
    hasher.feed(data)
    return hasher.finish()
