"""A snapshot of the local chain taken under load holds exactly the blocks its state reflects.

anvil's ``anvil_dumpState`` reads the head, the blocks and the accounts one after another
while it keeps mining: without a pause, about half the dumps taken under load have accounts
(nonces, contract storage) ahead of their block list, and a chain restored from one says
"registered" for records whose block, receipt and log do not exist (the fault script's
"lost" records, and the worker's crash loop on "already registered" with no log)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.snapshots import SnapshotError, read_snapshot

pytestmark = pytest.mark.chain

SNAPSHOTS = 12  # each inconsistent with probability ~1/2 without the pause


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[LocalChain]:
    chain = LocalChain("anvil", free_port(), tmp_path / "chain", persistent=True)
    try:
        yield chain
    finally:
        chain.stop()


def _call(url: str, method: str, *params: Any) -> Any:
    reply = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=30
    ).json()
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def _number(value: Any) -> int:
    return int(value, 0) if isinstance(value, str) else int(value)


def _mismatch(state: dict[str, Any], sender: str) -> str | None:
    """How the state's nonce of ``sender`` disagrees with its transactions in the state's
    blocks (None: they agree)."""
    best_number = _number(state["best_block_number"])
    nonce_number = _number(state["accounts"][sender]["nonce"])
    mined = len(
        [
            tx
            for tx in state["transactions"]
            if tx["info"]["from"].lower() == sender and _number(tx["block_number"]) <= best_number
        ]
    )
    if nonce_number == mined:
        return None
    return f"block {best_number}: nonce {nonce_number}, {mined} transactions in its blocks"


def test_snapshots_taken_under_load_are_consistent(chain: LocalChain, tmp_path: Path) -> None:
    chain.start()
    sender = str(_call(chain.url, "eth_accounts")[2]).lower()
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                _call(
                    chain.url, "eth_sendTransaction", {"from": sender, "to": sender, "value": "0x1"}
                )
            except RuntimeError:
                continue  # concurrent senders of one account race for nonces: send another

    senders = [threading.Thread(target=load, daemon=True) for _ in range(4)]
    for thread in senders:
        thread.start()
    kept = tmp_path / "kept"
    kept.mkdir()
    seen: dict[str, Path] = {}
    start_block = int(str(_call(chain.url, "eth_blockNumber")), 16)
    deadline = time.monotonic() + 120
    try:
        while len(seen) < SNAPSHOTS:
            assert time.monotonic() < deadline, f"only {len(seen)} snapshots in 120 s"
            for path in chain.snapshot_dir.glob("*.snap"):
                if path.name not in seen:
                    try:
                        shutil.copyfile(path, kept / path.name)
                        read_snapshot(kept / path.name)
                    except (OSError, SnapshotError):
                        continue  # rotated away while copied: the next one will do
                    seen[path.name] = kept / path.name
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in senders:
            thread.join(timeout=30)
    mined = int(str(_call(chain.url, "eth_blockNumber")), 16) - start_block
    assert mined > 10 * SNAPSHOTS, f"only {mined} blocks mined: no load to race with"
    mismatches = []
    for name, path in sorted(seen.items()):
        _, state = read_snapshot(path)
        mismatch = _mismatch(json.loads(state), sender)
        if mismatch is not None:
            mismatches.append(f"{name}: {mismatch}")
    assert mismatches == [], f"{len(mismatches)} of {len(seen)} snapshots inconsistent"
