"""The embedded store: put/get/has/pin/unpin/gc, integrity checks, crash safety, CAR files."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.content.blockstore import BlockStore
from ledger.content.hashing import hash_bytes
from ledger.content.ipfs import NodeStore
from ledger.errors import ContentNotFound, IntegrityError, InvalidInput
from tests.content.conftest import CHUNK, ROOT

pytestmark = pytest.mark.ipfs


def blocks_in(store: BlockStore) -> set[str]:
    return {p.name for p in store.blocks.glob("*/*")}


def test_put_get_has_pin_unpin_gc(store: BlockStore) -> None:
    shared = random.Random(1).randbytes(3 * CHUNK)
    doc_a = shared + b"invoice 380"
    doc_b = shared + b"packing list 271"
    a = store.put(io.BytesIO(doc_a))
    b = store.put(iter([doc_b]))
    assert store.has(a.cid) and store.has(b.cid)
    assert b"".join(store.get(a.cid)) == doc_a
    assert {str(c) for c in store.pinned()} == {a.cid, b.cid}
    assert store.gc() == (0, 0)  # everything is pinned
    before = blocks_in(store)
    store.unpin(a.cid)
    removed, size = store.gc()
    assert removed == 2  # a's last leaf and its root: the 3 shared leaves stay for b
    assert size > 0
    assert not store.has(a.cid)
    assert len(blocks_in(store)) == len(before) - 2
    assert b"".join(store.get(b.cid)) == doc_b
    with pytest.raises(ContentNotFound, match="add the document"):
        store.get(a.cid)
    with pytest.raises(ContentNotFound):
        store.pin(a.cid)
    assert store.check() == []


def test_put_many_pins_with_one_list_file(store: BlockStore) -> None:
    docs = [os.urandom(1000 + i) for i in range(5)]
    fps = store.put_many([io.BytesIO(d) for d in docs])
    assert [p.name.endswith(".list") for p in store.pins.iterdir()] == [True]
    assert {str(c) for c in store.pinned()} == {fp.cid for fp in fps}
    assert store.gc() == (0, 0)
    store.unpin(fps[0].cid)  # rewrites the list without it
    assert len(list(store.pins.iterdir())) == 1
    assert {str(c) for c in store.pinned()} == {fp.cid for fp in fps[1:]}
    assert store.gc()[0] == 1
    assert not store.has(fps[0].cid)
    assert all(b"".join(store.get(fp.cid)) == d for fp, d in zip(fps[1:], docs[1:], strict=True))


def test_put_many_unpinned_then_pin_many(store: BlockStore) -> None:
    kept, lost = store.put_many([io.BytesIO(os.urandom(900)) for _ in range(2)], pin=False)
    assert store.pinned() == []
    store.pin_many([kept.cid])
    assert [str(c) for c in store.pinned()] == [kept.cid]
    assert store.gc()[0] == 1  # the unpinned one
    with pytest.raises(ContentNotFound, match="gc"):
        store.pin_many([kept.cid, lost.cid])
    assert [str(c) for c in store.pinned()] == [kept.cid]


def test_single_pins_are_appended_to_one_journal(store: BlockStore) -> None:
    fps = [store.put(io.BytesIO(os.urandom(500 + i))) for i in range(3)]
    (many,) = store.put_many([io.BytesIO(os.urandom(700))])
    store.pin(fps[0].cid)  # again: a second line, harmless
    assert sorted(p.name for p in store.pins.iterdir())[-1] == "journal.list"
    assert len(list(store.pins.iterdir())) == 2
    with (store.pins / "journal.list").open("a") as f:
        f.write("bafkrei")  # a line a crash tore
    store.pin(fps[1].cid)  # starts on a line of its own
    assert {str(c) for c in store.pinned()} >= {fp.cid for fp in fps}
    store.unpin(fps[0].cid)
    assert fps[0].cid not in {str(c) for c in store.pinned()}
    assert store.gc()[0] == 1  # and gc folds the lists into one
    assert len(list(store.pins.iterdir())) == 1
    assert {str(c) for c in store.pinned()} == {fps[1].cid, fps[2].cid, many.cid}


def test_a_torn_pin_list_keeps_its_whole_lines(store: BlockStore) -> None:
    fps = store.put_many([io.BytesIO(os.urandom(2000)) for _ in range(2)])
    (listed,) = store.pins.iterdir()
    listed.write_text(listed.read_text()[: len(fps[0].cid) + 1 + 20])  # cut in line 2
    assert [str(c) for c in store.pinned()] == [fps[0].cid]
    assert store.gc()[0] == 1 and store.has(fps[0].cid)


def test_unpinned_put_is_collected(store: BlockStore) -> None:
    fp = store.put(io.BytesIO(os.urandom(CHUNK + 1)), pin=False)
    assert store.has(fp.cid)
    assert store.gc()[0] == 3
    assert not store.has(fp.cid)


def test_every_read_is_checked(store: BlockStore) -> None:
    data = os.urandom(2 * CHUNK)
    fp = store.put(io.BytesIO(data))
    leaf = next(p for p in store.blocks.glob("*/bafkrei*"))
    leaf.chmod(0o644)
    damaged = bytearray(leaf.read_bytes())
    damaged[100] ^= 1
    leaf.write_bytes(bytes(damaged))
    with pytest.raises(IntegrityError, match="does not match"):
        b"".join(store.get(fp.cid))
    assert any("does not match" in p for p in store.check())


def test_empty_and_malformed_cids(store: BlockStore) -> None:
    fp = store.put(io.BytesIO(b""))
    assert fp.cid == hash_bytes(b"").cid
    assert b"".join(store.get(fp.cid)) == b""
    with pytest.raises(InvalidInput):
        store.has("not-a-cid")


def test_deferred_put_is_named_by_sync(store: BlockStore) -> None:
    data = os.urandom(3 * CHUNK + 5)
    fp = store.put(io.BytesIO(data), sync=False)
    assert not store.has(fp.cid)  # waiting in tmp/ for the caller's sync
    store.sync()
    assert store.has(fp.cid) and b"".join(store.get(fp.cid)) == data
    assert fp.cid in {str(c) for c in store.pinned()}
    assert list(store.tmp.iterdir()) == []
    assert store.check() == []


def test_deferred_blocks_survive_a_lost_rename(store: BlockStore) -> None:
    """A crash after the caller's flush, before the names reached the disk: adopted on restart."""
    data = os.urandom(2 * CHUNK)
    fp = store.put(io.BytesIO(data), sync=False)
    store._syncfs_now()  # the flush happened; the process dies before renaming
    reopened = BlockStore(store.root)
    assert reopened.has(fp.cid) and b"".join(reopened.get(fp.cid)) == data
    assert reopened.check() == []


def test_a_torn_deferred_block_is_not_adopted(store: BlockStore) -> None:
    fp = hash_bytes(b"certificate of origin 861")
    torn = store.tmp / f"{fp.cid}.deadbeef"
    torn.write_bytes(b"certificate of orig")  # cut short by a crash
    BlockStore(store.root)  # a restart: not adopted, too fresh to drop
    assert not store.has(fp.cid) and torn.exists()
    store.gc()
    assert not torn.exists() and not store.has(fp.cid)


def test_gc_between_a_deferred_put_and_its_sync(store: BlockStore) -> None:
    data = os.urandom(CHUNK + 9)
    fp = store.put(io.BytesIO(data), sync=False)
    store.gc()  # adopts the deferred blocks, never drops them
    assert store.has(fp.cid)
    store.sync()
    assert b"".join(store.get(fp.cid)) == data
    assert store.check() == []


WRITER = """
import random, sys, time
from ledger.content.blockstore import BlockStore
store = BlockStore(sys.argv[1])
fast = int(sys.argv[2])
rng = random.Random(7)
def pieces():
    for i in range(400):  # 400 x 256 KiB: more than 174 leaves, so a node is written too
        yield rng.randbytes(256 * 1024)
        if i + 1 == fast:
            print("ready", flush=True)
        if i + 1 >= fast:
            time.sleep(0.05)  # slow down so that the kill lands mid-write
store.put(pieces())
print("done", flush=True)
"""


@pytest.mark.parametrize("kill_after_pieces", [40, 250])
def test_crash_during_put_leaves_the_store_consistent(
    tmp_path: Path, kill_after_pieces: int
) -> None:
    root = tmp_path / "store"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(kill_after_pieces)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 15
    while not any((root / "blocks").glob("*/*")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the first blocks are renamed into place in the background
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    store = BlockStore(root)
    assert blocks_in(store), "the writer should have stored some blocks before the kill"
    assert store.check() == []  # every block matches its CID, no node without its children
    rng = random.Random(7)
    data = b"".join(rng.randbytes(256 * 1024) for _ in range(400))
    expected = hash_bytes(data)
    assert not store.has(expected.cid)  # the document was never acknowledged
    assert store.pinned() == []
    store.gc()
    assert list(store.tmp.iterdir()) == []  # half-written files are swept
    assert store.put(io.BytesIO(data)) == expected  # and the write can simply be redone
    assert b"".join(store.get(expected.cid)) == data
    assert store.check() == []


def test_car_round_trip_with_the_daemon(tmp_path: Path, store: BlockStore, node: NodeStore) -> None:
    data = random.Random(3).randbytes(174 * CHUNK + 1)  # a two-level DAG
    fp = store.put(io.BytesIO(data))
    car_path = tmp_path / "doc.car"
    with car_path.open("wb") as f:
        store.export_car(fp.cid, f)
    with car_path.open("rb") as f:
        roots = node.import_car(f)  # ipfs dag import
    assert [str(r) for r in roots] == [fp.cid]
    assert node.is_pinned(fp.cid)
    assert b"".join(node.get(fp.cid)) == data

    other = NodeStore(node.url, timeout=3.0)
    back = tmp_path / "back.car"
    with back.open("wb") as f:
        other.export_car(fp.cid, f)  # ipfs dag export
    assert back.read_bytes() == car_path.read_bytes()  # same blocks, same order
    fresh = BlockStore(tmp_path / "fresh")
    with back.open("rb") as f:
        assert [str(r) for r in fresh.import_car(f)] == [fp.cid]
    assert b"".join(fresh.get(fp.cid)) == data
    assert fresh.check() == []


def test_car_from_the_daemon_of_a_file_it_added(tmp_path: Path, node: NodeStore) -> None:
    data = os.urandom(5 * CHUNK)
    fp = node.put(io.BytesIO(data))
    buf = io.BytesIO()
    node.export_car(fp.cid, buf)
    fresh = BlockStore(tmp_path / "s")
    assert [str(r) for r in fresh.import_car(io.BytesIO(buf.getvalue()))] == [fp.cid]
    assert b"".join(fresh.get(fp.cid)) == data


def test_broken_car_files_are_refused(tmp_path: Path, store: BlockStore) -> None:
    data = os.urandom(3 * CHUNK)
    fp = store.put(io.BytesIO(data))
    buf = io.BytesIO()
    store.export_car(fp.cid, buf)
    car = buf.getvalue()
    target = BlockStore(tmp_path / "t")
    with pytest.raises(IntegrityError):  # a flipped byte inside a block
        target.import_car(io.BytesIO(car[:-10] + bytes([car[-10] ^ 1]) + car[-9:]))
    with pytest.raises(InvalidInput, match=r"truncated|lacks"):  # a missing tail
        target.import_car(io.BytesIO(car[: len(car) - CHUNK // 2]))
    assert not target.has(fp.cid)
    assert target.check() == []
