"""CID parity: our calculator, the daemon's ``add --only-hash --cid-version=1`` and the
embedded store agree on every boundary size; SHA-256 equals hashlib's."""

from __future__ import annotations

import hashlib
import io
import os
import random
from pathlib import Path

import pytest

from ledger.cid import Cid
from ledger.content.blockstore import BlockStore
from ledger.content.hashing import CidHasher, hash_bytes, hash_file
from ledger.content.ipfs import NodeStore
from tests.content.conftest import CHUNK, make_file

pytestmark = pytest.mark.ipfs

SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 174 * CHUNK, 174 * CHUNK + 1, 10 * 1024 * 1024]


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_parity(path: Path, node: NodeStore, store: BlockStore) -> None:
    ours = hash_file(path)
    assert ours.sha256 == sha256_of(path)
    assert ours.size == path.stat().st_size
    with path.open("rb") as f:
        theirs = node.only_hash(f)
    assert str(theirs.to_v1()) == ours.cid
    stored = store.put_file(path)
    assert stored == ours
    assert Cid.from_bytes(ours.cid_bytes) == Cid.parse(ours.cid)


@pytest.mark.parametrize("size", SIZES)
def test_parity_boundary_sizes(
    size: int, tmp_path: Path, node: NodeStore, store: BlockStore
) -> None:
    check_parity(make_file(tmp_path / "doc", size, seed=size), node, store)


@pytest.mark.slow
def test_parity_random_64_mib(tmp_path: Path, node: NodeStore, store: BlockStore) -> None:
    path = tmp_path / "doc"
    path.write_bytes(os.urandom(64 * 1024 * 1024))
    check_parity(path, node, store)


def test_known_vectors() -> None:
    assert hash_bytes(b"").cid == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    empty_v0 = Cid.parse("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
    assert (
        empty_v0.version == 0 and str(empty_v0) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    )
    assert hash_bytes(b"").sha256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("size", [CHUNK + 1, 174 * CHUNK + 1, 3 * 1024 * 1024 + 7])
def test_any_piece_sizes_give_the_same_result(size: int) -> None:
    data = random.Random(size).randbytes(size)
    whole = hash_bytes(data)
    rng = random.Random(1)
    hasher = CidHasher()
    pos = 0
    while pos < len(data):  # pieces from 1 byte to 2 MiB, crossing chunk borders anywhere
        n = rng.choice([1, 1000, CHUNK - 1, CHUNK, CHUNK + 3, 2 * 1024 * 1024])
        hasher.feed(data[pos : pos + n])
        pos += n
    assert hasher.finish() == whole
    assert hash_bytes(data).sha256 == hashlib.sha256(data).hexdigest()


def test_cid_text_and_binary_forms_round_trip(node: NodeStore) -> None:
    data = b"certificate of origin 861"
    ours = Cid.parse(hash_bytes(data).cid)
    base58 = node.only_hash(io.BytesIO(data))  # the daemon answers in base58btc (z...)
    assert base58 == ours
    assert Cid.parse(bytes(ours)) == ours
    assert Cid.parse(str(ours).upper()) == ours
