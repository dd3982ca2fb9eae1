"""The IPFS node store against a real js-ipfs daemon: add, cat, pin, restart, failures."""

from __future__ import annotations

import io
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.content.blockstore import BlockStore
from ledger.content.hashing import hash_bytes
from ledger.content.ipfs import NodeStore, open_store
from ledger.errors import (
    CidMismatch,
    ContentNotFound,
    StoreTimeout,
    StoreUnavailable,
)
from tests.content.conftest import CHUNK, Daemon, free_port

pytestmark = pytest.mark.ipfs

ABSENT = hash_bytes(b"a document nobody ever added " + os.urandom(16)).cid


def test_add_cat_pin(node: NodeStore) -> None:
    data = os.urandom(3 * CHUNK + 123)
    fp = node.put(iter([data[:1000], data[1000:]]))  # an upload arriving in pieces
    assert fp == hash_bytes(data)
    assert node.has(fp.cid)
    assert node.is_pinned(fp.cid)
    assert b"".join(node.get(fp.cid)) == data
    node.unpin(fp.cid)
    assert not node.is_pinned(fp.cid)
    node.unpin(fp.cid)  # unpinning twice is harmless
    node.pin(fp.cid)
    assert node.is_pinned(fp.cid)


def test_put_without_pin(node: NodeStore) -> None:
    data = os.urandom(1000)
    fp = node.put(io.BytesIO(data), pin=False)
    assert not node.is_pinned(fp.cid)
    assert b"".join(node.get(fp.cid)) == data


def test_survives_daemon_restart(daemon: Daemon, node: NodeStore) -> None:
    data = os.urandom(2 * CHUNK + 5)
    fp = node.put(io.BytesIO(data))
    old_pid = daemon.pid
    daemon.restart()
    assert daemon.pid != old_pid
    again = NodeStore(daemon.url, timeout=3.0)
    assert b"".join(again.get(fp.cid)) == data
    assert again.is_pinned(fp.cid)


def test_recovers_after_the_daemon_is_killed(daemon: Daemon, node: NodeStore) -> None:
    data = os.urandom(CHUNK + 9)
    fp = node.put(io.BytesIO(data))
    pid = daemon.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # leaves a stale repo.lock behind
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    with pytest.raises(StoreUnavailable):
        node.version()
    daemon.start()  # the script clears the stale lock
    assert b"".join(NodeStore(daemon.url, timeout=3.0).get(fp.cid)) == data


def test_absent_cid_is_content_not_found(node: NodeStore) -> None:
    started = time.monotonic()
    with pytest.raises(ContentNotFound, match="does not hold"):
        node.get(ABSENT)
    assert time.monotonic() - started < 10  # no hang: the timeout applies
    assert not node.has(ABSENT)
    with pytest.raises(ContentNotFound):
        node.pin(ABSENT)


def test_unreachable_node() -> None:
    dead = NodeStore(f"http://127.0.0.1:{free_port()}", timeout=2.0)
    for call in (lambda: dead.put(io.BytesIO(b"x")), lambda: dead.get(ABSENT), dead.version):
        with pytest.raises(StoreUnavailable, match="cannot be reached") as info:
            call()
        assert not isinstance(info.value, StoreTimeout)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_silent_node_times_out(silent_server: int) -> None:
    slow = NodeStore(f"http://127.0.0.1:{silent_server}", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StoreTimeout, match="did not answer"):
        slow.version()
    assert time.monotonic() - started < 15


def test_cid_mismatch_is_detected(node: NodeStore) -> None:
    class MisconfiguredNode(NodeStore):
        """Adds like a default Kubo node (dag-pb leaves) instead of raw leaves."""

        def _add_options(self) -> dict[str, object]:
            return {**super()._add_options(), "raw_leaves": False}

    wrong = MisconfiguredNode(node.url, timeout=3.0)
    with pytest.raises(CidMismatch, match="raw leaves"):
        wrong.put(io.BytesIO(os.urandom(CHUNK + 1)))


def test_open_store_picks_the_configured_store(tmp_path: Path, daemon: Daemon) -> None:
    embedded = open_store(Settings(data_dir=tmp_path, ipfs_rpc_url=None))
    assert isinstance(embedded, BlockStore)
    assert embedded.root == tmp_path / "blocks"
    remote = open_store(Settings(data_dir=tmp_path, ipfs_rpc_url=daemon.url, ipfs_timeout=4))
    assert isinstance(remote, NodeStore) and remote.timeout == 4
    assert remote.version()


def test_lookups_end_within_the_lookup_timeout(daemon: Daemon, silent_server: int) -> None:
    """Issue 12.11: with js-ipfs a lookup of an absent CID waited out the whole IPFS
    timeout (30 s by default), and so did a health check of a silent node. Lookups now end
    within the short lookup timeout, whatever the timeout for moving content."""
    node = NodeStore(daemon.url, timeout=30.0, lookup_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ContentNotFound):
        node.get(ABSENT)
    assert not node.has(ABSENT)
    assert time.monotonic() - started < 5, "two lookups of at most ~1 s each"
    silent = NodeStore(f"http://127.0.0.1:{silent_server}", timeout=30.0, lookup_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(StoreTimeout):
        silent.version()  # the health check
    assert time.monotonic() - started < 2.5
