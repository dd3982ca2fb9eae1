"""Fixtures of the IPFS tests: a real js-ipfs daemon for the session, stores, test files.

The daemon is started with ``scripts/ipfs-daemon`` on a free 127.0.0.1 port with a
temporary repo and stopped by its PID at the end; nothing here is mocked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.content.blockstore import BlockStore
from ledger.content.ipfs import NodeStore

ROOT = Path(__file__).resolve().parents[2]
DAEMON = ROOT / "scripts" / "ipfs-daemon"
KIB = 1024
CHUNK = 256 * KIB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Daemon:
    """The js-ipfs daemon of the session: its repo, port and RPC URL."""

    repo: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        try:
            return int((self.repo / "daemon.pid").read_text())
        except (OSError, ValueError):
            return None

    def start(self) -> None:
        subprocess.run(
            [
                sys.executable,
                str(DAEMON),
                "start",
                "--repo",
                str(self.repo),
                "--port",
                str(self.port),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def stop(self) -> None:
        pid = self.pid
        if pid is None:
            return
        subprocess.run(
            [sys.executable, str(DAEMON), "stop", "--repo", str(self.repo)],
            check=False,
            capture_output=True,
            timeout=60,
        )
        try:  # the script stops it by PID; make sure it is gone before going on
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        os.kill(pid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    if not (ROOT / "node_modules" / ".bin" / "jsipfs").exists():
        pytest.fail("js-ipfs is not installed: run `npm install` in the project root")
    d = Daemon(tmp_path_factory.mktemp("jsipfs-repo"), free_port())
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def node(daemon: Daemon) -> Iterator[NodeStore]:
    store = NodeStore(daemon.url, timeout=3.0)
    yield store
    store.close()


@pytest.fixture
def store(tmp_path: Path) -> BlockStore:
    return BlockStore(tmp_path / "blocks")


def make_file(path: Path, size: int, seed: int = 0) -> Path:
    """A file of ``size`` pseudo-random bytes, written in 4 MiB pieces (flat memory)."""
    import random

    rng = random.Random(seed)
    with path.open("wb") as f:
        left = size
        while left:
            n = min(left, 4 * 1024 * KIB)
            f.write(rng.randbytes(n))
            left -= n
    return path
