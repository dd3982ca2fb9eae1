"""One owner per data folder and database: a second process refuses to start, naming the
holder, and a holder killed with kill -9 leaves nothing behind that blocks the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.errors import DataFolderBusy
from ledger.ownership import claim
from tests.databases import Databases

HOLDER = """
import sys, time
from pathlib import Path
from ledger.config import Settings
from ledger.ownership import claim
claim(Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2] or None), "serve")
print("held", flush=True)
time.sleep(600)
"""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def hold(data: Path, database_url: str | None = None) -> subprocess.Popen[str]:
    """Another process that owns ``data`` (and the database) until killed."""
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data), database_url or ""],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


def _free(settings: Settings) -> bool:
    try:
        claim(settings, "test").release()
    except DataFolderBusy:
        return False
    return True


def test_a_second_owner_of_a_data_folder_is_refused_naming_the_first(
    tmp_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    data = tmp_path / "data"
    first = hold(data)
    holders.append(first)
    settings = Settings(data_dir=data)
    with pytest.raises(DataFolderBusy) as refused:
        claim(settings, "serve")
    message = str(refused.value)
    assert f"the data folder {data} is in use by pid {first.pid} (serve:" in message
    assert "TRADELEDGER_DATA_DIR" in message
    os.kill(first.pid, signal.SIGKILL)  # the kernel drops the lock with the process
    first.wait()
    owner = claim(settings, "serve")
    owner.release()


def test_serve_refuses_a_data_folder_in_use(
    tmp_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    data = tmp_path / "data"
    first = hold(data)
    holders.append(first)
    record = {
        "chain_id": 31337,
        "address": "0x" + "11" * 20,
        "block_number": 1,
        "block_hash": "0x" + "22" * 32,
        "tx_hash": "0x" + "33" * 32,
        "deployer": "0x" + "44" * 20,
        "admin": "0x" + "44" * 20,
        "code_hash": "0x" + "55" * 32,
        "version": "1.0.0",
        "deployed_at": "2026-12-01T00:00:00Z",
    }
    (data / "deployment.json").write_text(json.dumps(record))
    env = {
        **os.environ,
        "TRADELEDGER_DATA_DIR": str(data),
        "TRADELEDGER_KEYSTORE_SECRET": "tests-only-keystore-secret",
        "TRADELEDGER_RPC_URL": "http://127.0.0.1:9",  # never reached: refused before
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "tradeledger"), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    said = " ".join(result.stderr.split())
    assert f"is in use by pid {first.pid} (serve:" in said, said


def test_a_second_owner_of_a_database_is_refused(
    tmp_path: Path, databases: Databases, holders: list[subprocess.Popen[str]]
) -> None:
    if databases.kind != "postgresql":
        pytest.skip("the database lock is PostgreSQL's; SQLite lives in the data folder")
    url = databases.url()
    first = hold(tmp_path / "one", url)
    holders.append(first)
    settings = Settings(data_dir=tmp_path / "two", database_url=url)
    settings.data_dir.mkdir()
    with pytest.raises(DataFolderBusy) as refused:
        claim(settings, "serve")
    message = str(refused.value)
    assert f"is in use by tradeledger pid {first.pid} on " in message
    assert "server process" in message
    assert _free(Settings(data_dir=tmp_path / "two"))  # the folder was not left locked
    os.kill(first.pid, signal.SIGKILL)  # the server ends its session, and the lock
    first.wait()
    wait_until(lambda: _free(settings), 30, "the server to drop the dead owner's lock")
    if databases.server is not None:
        databases.server.drop(url)
