"""`tradeledger chain start` and `chain stop` as an operator runs them: real anvil processes
started in the background on a free port, their state in a private data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.chain.localchain import free_port, stop_pid

pytestmark = pytest.mark.chain

TRADELEDGER = str(Path(sys.executable).parent / "tradeledger")


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
            stop_pid(pid)


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
