"""What is stored is the sealed object: its CID is the one ``ipfs add`` gives for those
bytes, and no plaintext of a sealed document reaches the embedded store's folder or the
IPFS node's repository (grepped for a marker, beside a control that the grep finds one)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from ledger.content import BlockStore, NodeStore, hash_bytes
from ledger.sealing import DocumentKey, Kind, Sealer, open_bytes, open_stream, seal_bytes
from tests.content.conftest import CHUNK, Daemon

pytestmark = pytest.mark.ipfs

MARKER = b"CONFIDENTIAL-MARKER-7f3a9c: consignee Hairatan Flour Trading, USD 312,000"
CONTROL = b"PLAIN-CONTROL-MARKER-41be02: a public document stored unsealed"


def document(size: int, marker: bytes, seed: int) -> bytes:
    """``size`` bytes with ``marker`` repeated through them (in every 256 KiB block)."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += marker + rng.randbytes(4096)
    return bytes(out[:size])


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    found = []
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink() and needle in p.read_bytes():
            found.append(p)
    return found


@pytest.mark.parametrize("size", [0, 1000, CHUNK - 25, CHUNK, 3 * CHUNK + 1, 5 * 1024 * 1024])
def test_cid_of_a_sealed_object_matches_ipfs_add(
    size: int, node: NodeStore, tmp_path: Path
) -> None:
    sealer = Sealer(io.BytesIO(document(size, MARKER, size)), DocumentKey.generate())
    sealed = b"".join(sealer)
    ours = hash_bytes(sealed)
    assert str(node.only_hash(io.BytesIO(sealed)).to_v1()) == ours.cid
    assert node.put(io.BytesIO(sealed)).cid == ours.cid  # NodeStore.put checks the node's CID too
    assert BlockStore(tmp_path / "blocks").put(io.BytesIO(sealed)).cid == ours.cid
    assert (
        sealer.sha256 != ours.sha256
    )  # the fingerprint is the plain file's, the CID the sealed one's


def test_no_plaintext_of_a_sealed_document_is_stored(
    node: NodeStore, daemon: Daemon, tmp_path: Path
) -> None:
    key = DocumentKey.generate()
    content = document(3 * 1024 * 1024 + 123, MARKER, 1)
    metadata = b'{"consignee": "' + MARKER + b'", "hs_codes": ["1101.00"]}'
    store = BlockStore(tmp_path / "data" / "blocks")
    sealed_content = Sealer(io.BytesIO(content), key)
    stored = store.put(sealed_content)  # the Sealer streams into the store: one pass
    stored_meta = store.put(io.BytesIO(seal_bytes(metadata, key, Kind.METADATA)))
    on_node = node.put(io.BytesIO(b"".join(store.get(stored.cid))))
    node.put(io.BytesIO(b"".join(store.get(stored_meta.cid))))
    # The control: a document stored unsealed is found by the same grep, on both.
    store.put(io.BytesIO(document(600_000, CONTROL, 2)))
    node.put(io.BytesIO(document(600_000, CONTROL, 2)))

    assert files_containing(tmp_path / "data", CONTROL)
    assert files_containing(daemon.repo, CONTROL)
    for needle in (MARKER, MARKER[:24]):
        assert files_containing(tmp_path / "data", needle) == []
        assert files_containing(daemon.repo, needle) == []
    # ... and what is stored opens back to the registered document for a key holder.
    got = b"".join(open_stream(node.get(on_node.cid), key, expect_sha256=sealed_content.sha256))
    assert got == content
    meta = b"".join(store.get(stored_meta.cid))
    assert open_bytes(meta, key, Kind.METADATA) == metadata
