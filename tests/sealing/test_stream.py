"""Sealed objects open to exactly what was sealed, and to nothing else: every tampering,
cut, reordering, repetition or wrong key is refused, and nothing wrong is ever returned."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.errors import InvalidInput, SealBroken
from ledger.sealing import (
    DocumentKey,
    Kind,
    Sealer,
    open_bytes,
    open_stream,
    open_to_file,
    seal_bytes,
    sealed_size,
)
from ledger.sealing.stream import CHUNK, HEADER_SIZE, PIECE, SEALED_CHUNK

SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, PIECE - 1, PIECE, PIECE + 1, 1_000_003]
KEY = DocumentKey.generate()


def sealed_document(size: int, seed: int = 0) -> tuple[bytes, bytes, Sealer]:
    plain = random.Random(seed).randbytes(size)
    sealer = Sealer(io.BytesIO(plain), KEY)
    return plain, b"".join(sealer), sealer


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_keeps_the_plain_fingerprint(size: int) -> None:
    plain, sealed, sealer = sealed_document(size, seed=size)
    assert sealer.sha256 == hashlib.sha256(plain).hexdigest()
    assert sealer.size == size
    assert len(sealed) == sealed_size(size)
    assert open_bytes(sealed, KEY, expect_sha256=sealer.sha256) == plain
    assert open_bytes(sealed, sealer.read_key) == plain  # the read key alone opens it


def test_any_piece_sizes_on_both_sides() -> None:
    plain = random.Random(7).randbytes(3 * PIECE + 12345)
    rng = random.Random(1)

    def pieces(data: bytes) -> list[bytes]:
        out, pos = [], 0
        while pos < len(data):
            n = rng.choice([1, 15, 16, 17, CHUNK - 1, SEALED_CHUNK, SEALED_CHUNK + 1, PIECE + 3])
            out.append(data[pos : pos + n])
            pos += n
        return out

    sealer = Sealer(pieces(plain), KEY)
    sealed = b"".join(sealer)
    assert b"".join(open_stream(pieces(sealed), KEY, expect_sha256=sealer.sha256)) == plain


def test_every_seal_is_fresh() -> None:
    plain = b"the same invoice" * 1000
    one, two = seal_bytes(plain, KEY), seal_bytes(plain, KEY)
    assert one != two  # a new salt, so a new payload key, every time
    assert open_bytes(one, KEY) == open_bytes(two, KEY) == plain


def test_content_and_metadata_never_share_a_key() -> None:
    meta = seal_bytes(b'{"country_of_origin":"KZ"}', KEY, Kind.METADATA)
    assert open_bytes(meta, KEY, Kind.METADATA) == b'{"country_of_origin":"KZ"}'
    with pytest.raises(SealBroken, match="holds metadata, not content"):
        open_bytes(meta, KEY, Kind.CONTENT)
    relabelled = meta[:8] + bytes([Kind.CONTENT]) + meta[9:]  # claim it is content
    with pytest.raises(SealBroken, match="does not open"):
        open_bytes(relabelled, KEY, Kind.CONTENT)


# ------------------------------------------------------------------------------- attacks

PLAIN, SEALED, SEALER = sealed_document(5 * CHUNK + 777, seed=99)
N_CHUNKS = 6


def chunk(i: int, sealed: bytes = SEALED) -> bytes:
    start = HEADER_SIZE + i * SEALED_CHUNK
    return sealed[start : start + SEALED_CHUNK]


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def chunks(order: list[int]) -> bytes:
    return SEALED[:HEADER_SIZE] + b"".join(chunk(i) for i in order)


ATTACKS: dict[str, Callable[[], bytes]] = {
    "magic altered": lambda: flip(SEALED, 0),
    "version altered": lambda: flip(SEALED, 7),
    "kind altered": lambda: SEALED[:8] + bytes([Kind.METADATA]) + SEALED[9:],
    "salt altered": lambda: flip(SEALED, 20),
    "first chunk's bytes altered": lambda: flip(SEALED, HEADER_SIZE + 5),
    "middle chunk's bytes altered": lambda: flip(SEALED, HEADER_SIZE + 3 * SEALED_CHUNK + 9),
    "last chunk's bytes altered": lambda: flip(SEALED, len(SEALED) - 100),
    "a tag altered": lambda: flip(SEALED, HEADER_SIZE + SEALED_CHUNK - 1),
    "last byte altered": lambda: flip(SEALED, len(SEALED) - 1),
    "final chunk dropped": lambda: chunks([0, 1, 2, 3, 4]),
    "cut inside a chunk": lambda: SEALED[: HEADER_SIZE + 2 * SEALED_CHUNK + 1000],
    "cut inside the last tag": lambda: SEALED[:-1],
    "cut to the header": lambda: SEALED[:HEADER_SIZE],
    "cut inside the header": lambda: SEALED[:10],
    "nothing at all": lambda: b"",
    "chunks 0 and 1 swapped": lambda: chunks([1, 0, 2, 3, 4, 5]),
    "chunks 3 and 4 swapped": lambda: chunks([0, 1, 2, 4, 3, 5]),
    "a chunk repeated": lambda: chunks([0, 1, 1, 2, 3, 4, 5]),
    "a chunk repeated in place of another": lambda: chunks([0, 1, 1, 3, 4, 5]),
    "the final chunk repeated": lambda: SEALED + SEALED[HEADER_SIZE + 5 * SEALED_CHUNK :],
    "bytes appended": lambda: SEALED + b"\x00" * 16,
    "an empty final chunk appended": lambda: _with_empty_final_chunk(),
    "a chunk of another object under the same key": lambda: (
        SEALED[: HEADER_SIZE + SEALED_CHUNK]
        + chunk(1, sealed_document(len(PLAIN), 5)[1])
        + SEALED[HEADER_SIZE + 2 * SEALED_CHUNK :]
    ),
    "another object's header": lambda: (
        sealed_document(10, 3)[1][:HEADER_SIZE] + SEALED[HEADER_SIZE:]
    ),
}


def _with_empty_final_chunk() -> bytes:
    """Two full chunks sealed by hand with an empty third, final chunk: a correctly keyed but
    non-canonical form (a sealer never writes it) that the reader must refuse."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    plain = PLAIN[: 2 * CHUNK]
    sealer = Sealer([plain], KEY)
    sealed = b"".join(sealer)
    header = sealed[:HEADER_SIZE]
    aead = AESGCM(sealer.read_key.secret)
    body = [
        aead.encrypt(i.to_bytes(11, "big") + b"\x00", plain[i * CHUNK : (i + 1) * CHUNK], header)
        for i in range(2)
    ]
    body.append(aead.encrypt((2).to_bytes(11, "big") + b"\x01", b"", header))
    return header + b"".join(body)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_is_refused_and_nothing_wrong_is_returned(attack: str, tmp_path: Path) -> None:
    bad = ATTACKS[attack]()
    with pytest.raises(SealBroken):
        open_bytes(bad, KEY)
    dest = tmp_path / "out.pdf"
    with pytest.raises(SealBroken):
        open_to_file([bad], dest, KEY)
    assert list(tmp_path.iterdir()) == []  # no file, no partial file
    # Streaming: whatever came out before the refusal is a true prefix of the document.
    got = bytearray()
    with pytest.raises(SealBroken):
        for piece in open_stream([bad[i : i + 70_000] for i in range(0, len(bad), 70_000)], KEY):
            got += piece
    assert PLAIN.startswith(got)


def test_wrong_keys_are_refused_before_any_byte() -> None:
    for wrong in (
        DocumentKey.generate(),
        DocumentKey.generate().payload_key(Kind.CONTENT, b"s" * 16),
    ):
        stream = open_stream([SEALED], wrong)
        with pytest.raises(SealBroken, match="first chunk: the key is wrong"):
            next(stream)


def test_a_different_document_under_the_right_key_is_refused_by_its_fingerprint() -> None:
    """Whoever holds the document key could seal other bytes with it: the registered
    fingerprint catches the swap."""
    other = seal_bytes(b"not the registered invoice", KEY)
    assert open_bytes(other, KEY) == b"not the registered invoice"
    with pytest.raises(SealBroken, match="not the registered"):
        open_bytes(other, KEY, expect_sha256=SEALER.sha256)


def test_fingerprint_is_unknown_until_the_end() -> None:
    sealer = Sealer([b"x" * 10], KEY)
    with pytest.raises(InvalidInput):
        _ = sealer.sha256
    b"".join(sealer)
    assert sealer.sha256 == hashlib.sha256(b"x" * 10).hexdigest()
    with pytest.raises(InvalidInput):
        list(sealer)  # read once


def test_sealing_and_opening_64_mib_keeps_memory_flat(tmp_path: Path) -> None:
    """A 64 MiB document through seal and open, file to file: Python allocations peak at a
    few 4 MiB pieces, not at the document's size."""
    src = tmp_path / "big.bin"
    with src.open("wb") as f:
        for _ in range(16):
            f.write(os.urandom(4 * 1024 * 1024))
    sealed_path = tmp_path / "big.sealed"
    tracemalloc.start()
    try:
        with src.open("rb") as f, sealed_path.open("wb") as out:
            sealer = Sealer(f, KEY)
            for piece in sealer:
                out.write(piece)
        with sealed_path.open("rb") as f:
            open_to_file(f, tmp_path / "back.bin", KEY, expect_sha256=sealer.sha256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
