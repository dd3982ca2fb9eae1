"""`tradeledger chain start` and `chain stop` as an operator runs them: real anvil processes
started in the background on a free port, their state in a private data folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web3.types import Wei

from ledger.chain.localchain import LocalChain, free_port, stop_chain
from ledger.chain.sender import connect
from ledger.errors import ChainUnavailable

pytestmark = pytest.mark.chain

TRADELEDGER = str(Path(sys.executable).parent / "tradeledger")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class ChainCli:
    """Runs `tradeledger chain ...` for one data folder and port; stops what it started."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.env = {
            **os.environ,
            "TRADELEDGER_DATA_DIR": str(data),
            "TRADELEDGER_RPC_URL": f"http://127.0.0.1:{self.port}",
            "TRADELEDGER_CHAIN": "anvil",
        }

    @property
    def folder(self) -> Path:
        return self.data / "chain"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TRADELEDGER, "chain", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def pid(self) -> int | None:
        try:
            return int((self.folder / "anvil.pid").read_text())
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_chain(pid, supervised=True)


@pytest.fixture
def chain_cli(tmp_path: Path) -> Iterator[ChainCli]:
    cli = ChainCli(tmp_path / "data")
    try:
        yield cli
    finally:
        cli.cleanup()


def test_start_on_a_truncated_state_file_prints_anvils_error(chain_cli: ChainCli) -> None:
    chain_cli.folder.mkdir(parents=True)
    state = chain_cli.folder / "state.json"
    state.write_text('{"block":{"number":"0x1","coinbase":"0x00000000000')  # cut mid-write
    result = chain_cli.run("start")
    assert result.returncode != 0
    # anvil's own words, not a timeout
    assert "did not answer" not in result.stderr
    assert "exited at start" in result.stderr and "EOF while parsing" in result.stderr
    assert state.exists()  # nothing deleted


def _send(url: str, n: int) -> int:
    """``n`` transfers from the dev account; returns the head block after them."""
    w3 = connect(url)
    for _ in range(n):
        tx = w3.eth.send_transaction(
            {"from": w3.eth.accounts[0], "to": w3.eth.accounts[1], "value": Wei(1)}
        )
        w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.01)
    return int(w3.eth.block_number)


def _snapshots(cli: ChainCli) -> list[Path]:
    return sorted((cli.folder / "snapshots").glob("*.snap"))


def _snapshot_block(path: Path) -> int:
    with path.open("rb") as f:
        return int(json.loads(f.readline())["block_number"])


def test_truncated_newest_snapshot_starts_from_the_previous_one(chain_cli: ChainCli) -> None:
    assert chain_cli.run("start").returncode == 0
    _send(chain_cli.env["TRADELEDGER_RPC_URL"], 3)
    wait_until(lambda: len(_snapshots(chain_cli)) == 2, 30, "two snapshots")
    _send(chain_cli.env["TRADELEDGER_RPC_URL"], 2)
    assert chain_cli.run("stop").returncode == 0  # a last snapshot on the way out
    previous, newest = _snapshots(chain_cli)
    good_block = _snapshot_block(previous)
    assert _snapshot_block(newest) > good_block
    newest.write_bytes(newest.read_bytes()[:-100])  # cut short, as by a failing disk
    result = chain_cli.run("start")
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert f"the newest snapshot is unreadable ({newest.name} is truncated" in said
    assert f"restored block {good_block} from snapshot {previous.name}" in said
    assert "the previous good one" in said
    assert connect(chain_cli.env["TRADELEDGER_RPC_URL"]).eth.block_number == good_block
    assert newest.with_name(newest.name + ".unreadable").exists()  # kept, not deleted


def test_no_readable_snapshot_is_refused_and_nothing_deleted(chain_cli: ChainCli) -> None:
    assert chain_cli.run("start").returncode == 0
    _send(chain_cli.env["TRADELEDGER_RPC_URL"], 1)
    assert chain_cli.run("stop").returncode == 0
    files = _snapshots(chain_cli)
    for path in files:
        path.write_bytes(b"")
    result = chain_cli.run("start")
    assert result.returncode != 0
    assert "no readable chain state" in result.stderr and "Nothing was deleted" in result.stderr
    assert _snapshots(chain_cli) == files
    assert connect_fails(chain_cli.env["TRADELEDGER_RPC_URL"])


def test_another_chains_state_is_refused(chain_cli: ChainCli, tmp_path: Path) -> None:
    other = ChainCli(tmp_path / "other")
    try:
        assert other.run("start").returncode == 0
        _send(other.env["TRADELEDGER_RPC_URL"], 1)
        assert other.run("stop").returncode == 0
    finally:
        other.cleanup()
    assert chain_cli.run("start").returncode == 0
    assert chain_cli.run("stop").returncode == 0
    newest = _snapshots(chain_cli)[-1]
    foreign = newest.with_name(f"{int(newest.stem) + 1:012d}.snap")
    shutil.copyfile(_snapshots(other)[-1], foreign)
    result = chain_cli.run("start")
    assert result.returncode != 0
    said = " ".join(result.stderr.split())
    assert f"{foreign} is the state of another chain" in said and "nothing was changed" in said
    assert foreign.exists() and newest.exists()
    assert connect_fails(chain_cli.env["TRADELEDGER_RPC_URL"])


def connect_fails(url: str) -> bool:
    try:
        connect(url, timeout=1.0)
    except ChainUnavailable:
        return True
    return False


# ------------------------------------------------------------- kill -9 of the chain itself


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[LocalChain]:
    chain = LocalChain("anvil", free_port(), tmp_path / "chain", persistent=True)
    try:
        yield chain
    finally:
        chain.stop()


def test_kill_9_in_the_middle_of_a_snapshot_write(chain: LocalChain) -> None:
    chain.snapshot_chunk_pause = 0.5  # each write takes a while: time to kill it midway
    chain.start()
    wait_until(lambda: bool(list(chain.snapshot_dir.glob("*.snap"))), 30, "a first snapshot")
    _send(chain.url, 40)
    wait_until(lambda: bool(list(chain.snapshot_dir.glob(".*.tmp"))), 60, "a snapshot write")
    chain.stop(signal.SIGKILL)
    assert list(chain.snapshot_dir.glob(".*.tmp"))  # killed in the middle of the write
    complete = sorted(chain.snapshot_dir.glob("*.snap"))[-1]
    chain.snapshot_chunk_pause = 0.0
    chain.start()
    block = _snapshot_block(complete)
    assert chain.recovery.startswith(f"restored block {block} from snapshot {complete.name}")
    assert connect(chain.url).eth.block_number == block
    head = _send(chain.url, 3)
    wait_until(lambda: _newest_block(chain) == head, 30, "a snapshot of the new blocks")
    chain.stop(signal.SIGKILL)
    chain.start()
    assert chain.recovery.startswith(f"restored block {head} from snapshot")
    assert connect(chain.url).eth.block_number == head


def _newest_block(chain: LocalChain) -> int:
    newest = sorted(chain.snapshot_dir.glob("*.snap"))[-1]
    return _snapshot_block(newest)


def test_kill_9_of_anvil_alone_and_time_never_goes_back(chain: LocalChain) -> None:
    chain.start()
    w3 = connect(chain.url)
    w3.provider.make_request("evm_increaseTime", [100_000])  # type: ignore[arg-type]
    head = _send(chain.url, 2)
    ahead = int(w3.eth.get_block(head)["timestamp"])
    assert ahead > time.time() + 50_000
    wait_until(lambda: _newest_block(chain) == head, 30, "a snapshot of the future blocks")
    assert chain.process is not None and chain.node_pid is not None
    os.kill(chain.node_pid, signal.SIGKILL)  # anvil alone: its supervisor goes down with it
    chain.process.wait(timeout=30)
    chain.process = None
    chain.start()
    assert chain.recovery.startswith(f"restored block {head} from snapshot")
    after = _send(chain.url, 1)
    assert int(connect(chain.url).eth.get_block(after)["timestamp"]) >= ahead
