"""Streaming authenticated encryption of a document or its metadata (age's STREAM, AES-GCM).

A sealed object is a 25-byte header followed by chunks::

    header = "TDLSEAL" | version 0x01 | kind (0x01 content, 0x02 metadata) | salt (16 bytes)
    chunk i = AES-256-GCM(payload key,
                          nonce = i as 11 bytes big-endian | 0x01 if last else 0x00,
                          plaintext[64 KiB * i : 64 KiB * (i + 1)],
                          associated data = header)       -> the bytes + a 16-byte tag

Every chunk is 64 KiB of plaintext but the last (0 to 64 KiB; empty only when the whole
plaintext is). The payload key comes from the document key, the salt and the kind
(``keys``). Nonces never repeat under a key; a chunk moved, repeated or dropped decrypts
under the wrong counter and fails; a cut at a chunk border leaves a last chunk whose flag
says "more follows" and fails; bytes appended after the last chunk make it decrypt as
"not last" and fail. A wrong key fails on the first chunk.

Memory stays flat: plaintext and ciphertext go through in 4 MiB pieces. Decryption yields
only authenticated bytes, but a cut is only seen at the end: a caller that streams the
plaintext onwards must drop everything when the iterator raises (``open_to_file`` and
``open_bytes`` do that for it, and with ``expect_sha256`` also check that the plaintext is
the registered document).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import InvalidInput, SealBroken
from ledger.sealing.keys import DocumentKey, Kind, PayloadKey

MAGIC = b"TDLSEAL"
VERSION = 1
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + 2 + SALT_SIZE  # 25
CHUNK = 64 * 1024
TAG = 16
SEALED_CHUNK = CHUNK + TAG
PIECE = 64 * CHUNK  # 4 MiB read and yielded at a time
PARALLEL_MIN = 1024 * 1024  # below this, hashing in this thread is cheaper than a hand-off
MAX_CHUNKS = 2**88  # the 11-byte counter

Source = BinaryIO | Iterable[bytes]
_KINDS = {k.value for k in Kind}
_HASHERS = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="seal")


@dataclass(frozen=True, slots=True)
class Header:
    """The clear start of a sealed object: what it holds and the salt of its key."""

    kind: Kind
    salt: bytes

    def to_bytes(self) -> bytes:
        return MAGIC + bytes([VERSION, self.kind]) + self.salt

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> Header:
        raw = bytes(data[:HEADER_SIZE])
        if len(raw) < HEADER_SIZE or not raw.startswith(MAGIC):
            raise SealBroken(
                "these bytes are not a sealed object (no TDLSEAL header): fetch the document's "
                "stored content again"
            )
        version, kind = raw[len(MAGIC)], raw[len(MAGIC) + 1]
        if version != VERSION:
            raise SealBroken(
                f"sealed with format version {version}; this ledger reads version {VERSION}: "
                "upgrade it"
            )
        if kind not in _KINDS:
            raise SealBroken(f"sealed object of unknown kind {kind}: the header is damaged")
        return cls(Kind(kind), raw[len(MAGIC) + 2 :])


def _nonce(index: int, last: bool) -> bytes:
    if index >= MAX_CHUNKS:
        raise InvalidInput("too large to seal: more than 2^88 chunks")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _pieces(source: Source) -> Iterator[bytes]:
    if hasattr(source, "read"):
        while piece := source.read(PIECE):
            yield piece
    else:
        for piece in source:
            if piece:
                yield bytes(piece) if not isinstance(piece, bytes) else piece


def sealed_size(size: int) -> int:
    """Bytes of the sealed object of ``size`` bytes of plaintext."""
    chunks = max(1, -(-size // CHUNK))
    return HEADER_SIZE + size + chunks * TAG


class Sealer:
    """Seals a plaintext stream while it is read: iterate it for the sealed object's bytes
    (fresh ``bytes`` pieces of up to 4 MiB, which a store may keep); afterwards ``sha256``
    and ``size`` describe the plaintext (its fingerprint), ``read_key`` opens the object."""

    def __init__(self, source: Source, key: DocumentKey, kind: Kind = Kind.CONTENT) -> None:
        self._source = source
        self.header = Header(kind, secrets.token_bytes(SALT_SIZE))
        self.read_key = key.payload_key(kind, self.header.salt)
        self._aead = AESGCM(self.read_key.secret)
        self._sha = hashlib.sha256()
        self._size = 0
        self._done = False
        self._started = False

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the plaintext: the document's fingerprint, once sealed."""
        if not self._done:
            raise InvalidInput("the fingerprint is known once every sealed byte was read")
        return self._sha.hexdigest()

    @property
    def size(self) -> int:
        if not self._done:
            raise InvalidInput("the size is known once every sealed byte was read")
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise InvalidInput("a Sealer is read once; create a new one")
        self._started = True
        return self._seal()

    def _seal(self) -> Iterator[bytes]:
        aad = self.header.to_bytes()
        out: list[bytes] = [aad]
        pending = bytearray()  # the last chunk seen: sealed once more follows (or as the last)
        index = 0
        hashed: Future[None] | None = None
        for piece in _pieces(self._source):
            # The plaintext's SHA-256 runs on a pool thread while this one encrypts and the
            # caller stores (one piece at a time, in order, so memory stays bounded).
            if hashed is not None:
                hashed.result()
                hashed = None
            if len(piece) >= PARALLEL_MIN:
                hashed = _HASHERS.submit(self._sha.update, piece)
            else:
                self._sha.update(piece)
            self._size += len(piece)
            view = memoryview(piece)
            pos = 0
            if pending:
                pos = min(CHUNK - len(pending), len(view))
                pending += view[:pos]
                if pos == len(view):  # nothing after it yet: it may be the last chunk
                    continue
                out.append(self._aead.encrypt(_nonce(index, False), pending, aad))
                index += 1
            while len(view) - pos > CHUNK:  # a full chunk with more after it: not the last
                out.append(self._aead.encrypt(_nonce(index, False), view[pos : pos + CHUNK], aad))
                pos += CHUNK
                index += 1
            pending = bytearray(view[pos:])
            if out:
                yield b"".join(out)
                out = []
        if hashed is not None:
            hashed.result()
        out.append(self._aead.encrypt(_nonce(index, True), bytes(pending), aad))
        self._done = True
        yield b"".join(out)


def seal_bytes(data: bytes, key: DocumentKey, kind: Kind = Kind.CONTENT) -> bytes:
    """The sealed object of ``data`` (small things: metadata JSON, tests)."""
    return b"".join(Sealer([data], key, kind))


def open_stream(
    source: Source,
    key: DocumentKey | PayloadKey,
    kind: Kind = Kind.CONTENT,
    expect_sha256: str | None = None,
) -> Iterator[bytes]:
    """Yield the plaintext of a sealed object, chunk by authenticated chunk.

    ``key``: the document key, or the object's payload key (a read key). Raises
    ``SealBroken`` where the object stops opening: before the first byte for a wrong key
    or a damaged header, at the end for a cut or a plaintext that is not ``expect_sha256``.
    """
    sha = hashlib.sha256() if expect_sha256 is not None else None
    buf = bytearray()
    aad: bytes | None = None
    aead: AESGCM | None = None
    index = 0
    pos = 0
    for piece in _pieces(source):
        del buf[:pos]
        pos = 0
        buf += piece
        if aad is None:
            if len(buf) < HEADER_SIZE:
                continue
            header = Header.parse(buf)
            if header.kind != kind:
                raise SealBroken(
                    f"this sealed object holds {header.kind.name.lower()}, not {kind.name.lower()}"
                )
            aad = header.to_bytes()
            aead = AESGCM(_payload_key(key, header).secret)
            pos = HEADER_SIZE
        assert aead is not None
        out = []
        with memoryview(buf) as view:
            while len(view) - pos > SEALED_CHUNK:  # more follows: this chunk is not the last
                out.append(_open_chunk(aead, index, False, view[pos : pos + SEALED_CHUNK], aad))
                pos += SEALED_CHUNK
                index += 1
        if out:
            plain = b"".join(out)
            if sha is not None:
                sha.update(plain)
            yield plain
    if aad is None or aead is None:
        raise SealBroken(
            "the sealed object is shorter than its header: it was truncated; fetch it again"
        )
    rest = len(buf) - pos
    if rest < TAG:
        raise SealBroken(
            f"the sealed object ends before its final chunk (after chunk {index}): it was "
            "truncated; fetch it again"
        )
    with memoryview(buf) as view:
        last = _open_chunk(aead, index, True, view[pos:], aad)
    if not last and index > 0:
        raise SealBroken("the sealed object ends with an empty chunk after data: it was altered")
    if sha is not None:
        sha.update(last)
        if sha.hexdigest() != expect_sha256:
            raise SealBroken(
                f"the sealed object opens, but to a file whose SHA-256 is {sha.hexdigest()}, "
                f"not the registered {expect_sha256}: it was replaced"
            )
    if last:
        yield last


def _payload_key(key: DocumentKey | PayloadKey, header: Header) -> PayloadKey:
    return key if isinstance(key, PayloadKey) else key.payload_key(header.kind, header.salt)


def _open_chunk(aead: AESGCM, index: int, last: bool, sealed: memoryview, aad: bytes) -> bytes:
    try:
        return aead.decrypt(_nonce(index, last), sealed, aad)
    except InvalidTag:
        where = "its first chunk" if index == 0 else f"chunk {index}"
        raise SealBroken(
            f"the sealed object does not open at {where}: the key is wrong, or the chunk was "
            "altered, moved, repeated or cut short"
        ) from None


def open_bytes(
    data: bytes,
    key: DocumentKey | PayloadKey,
    kind: Kind = Kind.CONTENT,
    expect_sha256: str | None = None,
) -> bytes:
    """The whole plaintext, returned only if every chunk (and the fingerprint) checks out."""
    return b"".join(open_stream([data], key, kind, expect_sha256))


def open_to_file(
    source: Source,
    dest: Path,
    key: DocumentKey | PayloadKey,
    kind: Kind = Kind.CONTENT,
    expect_sha256: str | None = None,
) -> int:
    """Decrypt into ``dest`` (mode 600); ``dest`` appears only once the whole object opened
    (and is ``expect_sha256``): a failure leaves no file. Returns the plaintext size."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    size = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            for plain in open_stream(source, key, kind, expect_sha256):
                f.write(plain)
                size += len(plain)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size
