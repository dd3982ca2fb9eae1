#!/usr/bin/env python
"""Benchmark of the local chain's snapshots: their size and time at N registrations, and the time
to restart from one after a kill -9.

    .venv/bin/python scripts/bench/snapshots.py --documents 1000,20000

Starts a persistent anvil under its supervisor (as `tradeledger chain start` does) on a free
port of 127.0.0.1, deploys the contract, then registers N documents (100 to a block: the
state's size is mostly transactions and receipts, about 0.6 KB compressed per registration;
an empty block adds its header). At each
block count it prints: the supervisor's last snapshot (bytes on disk, seconds, the loss
window it implies), one more dump + atomic write timed here, and a kill -9 + restart timed
from the kill to the first answer. The baseline in the same run is what anvil's own
``--state`` file would be at that point (the decompressed JSON it rewrites in place every
interval). Stops the chain it started, by PID.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ledger.chain.bulk import register_many
from ledger.chain.deployment import deployer_account, ensure_deployed, open_registry
from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.rpc import Rpc
from ledger.chain.snapshots import Identity, write_snapshot
from ledger.chain.supervisor import PACE, STATUS
from ledger.config import Settings
from ledger.types import OrgKind


def fill_to(rpc: Rpc, settings: Settings, target: int, registered: int) -> int:
    """Register documents until ``target`` are registered, 100 to a block (automine off,
    one ``evm_mine`` per 100). Returns how many are registered."""
    registry = open_registry(settings)
    issuer = deployer_account(settings)
    fingerprints = [os.urandom(32) for _ in range(max(0, target - registered))]
    register_many(rpc, registry, issuer, fingerprints, 100, reference="SMGS-SNAP")
    return registered + len(fingerprints)


def status(chain: LocalChain) -> dict[str, float]:
    return dict(json.loads((chain.folder / STATUS).read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", default="1000,20000", help="counts to measure at")
    args = parser.parse_args()
    targets = [int(b) for b in args.documents.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        chain = LocalChain("anvil", free_port(), data / "chain", persistent=True)
        chain.start()
        try:
            settings = Settings(data_dir=data, rpc_url=chain.url, chain="anvil", demo=True)
            ensure_deployed(settings)
            registry = open_registry(settings)
            admin = registry.sender(deployer_account(settings))
            org_id, _ = registry.admit_organisation(admin, "Bench Exporter", "KZ", OrgKind.EXPORTER)
            registry.add_key(admin, org_id, admin.address, 0, 2**40 - 1)
            index = 0
            print(
                f"{'documents':>9} | {'blocks':>7} | {'snapshot MB':>11} | {'supervisor s':>12} | "
                f"{'window s':>8} | {'dump+write s':>12} | {'restart s':>9} | "
                f"{'anvil --state MB (baseline)':>27}"
            )
            for target in targets:
                rpc = Rpc(chain.url, timeout=600)  # a fresh connection after each restart
                index = fill_to(rpc, settings, target, index)
                head = int(rpc.call("eth_blockNumber", []), 16)
                deadline = time.monotonic() + 600
                while status(chain)["block_number"] < head and time.monotonic() < deadline:
                    time.sleep(0.2)
                seen = status(chain)
                started = time.monotonic()
                payload = bytes.fromhex(rpc.call("anvil_dumpState", [])[2:])
                identity = Identity(31337, "0x" + "00" * 32)
                write_snapshot(data / "scratch", payload, identity)
                dump_write = time.monotonic() - started
                plain = len(gzip.decompress(payload))
                chain.stop(signal.SIGKILL)
                started = time.monotonic()
                chain.start()
                restart = time.monotonic() - started
                print(
                    f"{index:>9} | {head:>7} | {seen['bytes'] / 1e6:>11.2f} | {seen['seconds']:>12.2f} | "
                    f"{seen['loss_window_seconds']:>8.2f} | {dump_write:>12.2f} | "
                    f"{restart:>9.2f} | {plain / 1e6:>27.1f}",
                    flush=True,
                )
                print(f"          restart said: {chain.recovery}", flush=True)
            print(
                f"\nloss window = max(TRADELEDGER_ANVIL_STATE_INTERVAL, {PACE} x the last "
                "snapshot's time); the baseline file is what anvil would rewrite in place."
            )
        finally:
            chain.stop()


if __name__ == "__main__":
    main()
