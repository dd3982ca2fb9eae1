#!/usr/bin/env python
"""Benchmark of the event indexer: register many documents on a local anvil, then time a
from-scratch sync into a fresh database and print events per second.

    .venv/bin/python scripts/bench/index.py --documents 20000

Registrations are sent as raw signed transactions in JSON-RPC batches with anvil's
automine off (one ``evm_mine`` per batch), so filling the chain takes seconds, not the
20,000 round trips of waiting for each receipt. Only 127.0.0.1; the anvil started here
is stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.registry import Registry, contract_factory
from ledger.chain.reverts import ErrorDecoder
from ledger.chain.sender import Sender, connect
from ledger.db import make_engine, sqlite_url
from ledger.index.indexer import Indexer
from ledger.types import OrgKind

SELECTOR = keccak(text="register(bytes32,uint16,bytes4,bytes32,string)")[:4]
RAW = bytes.fromhex("01551220")
GWEI = 10**9


def rpc_batch(url: str, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    replies = sorted(requests.post(url, json=body, timeout=120).json(), key=lambda r: r["id"])
    for reply in replies:
        if "error" in reply:
            raise RuntimeError(f"RPC error: {reply['error']}")
    return [r["result"] for r in replies]


def fill(url: str, documents: int, per_block: int) -> tuple[Registry, int]:
    """Deploy, admit one exporter, register ``documents`` documents; returns the deployment block."""
    w3 = connect(url)
    account = Account.create()
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction(
            {"from": w3.eth.accounts[0], "to": account.address, "value": 1000 * 10**18}
        )
    )
    sender = Sender(w3, account, ErrorDecoder(contract_factory(w3).abi))
    registry, sent = Registry.deploy(sender, account.address)
    admin = registry.sender(account)
    org_id, _ = registry.admit_organisation(admin, "Bench Exporter", "KZ", OrgKind.EXPORTER)
    registry.add_key(admin, org_id, account.address, 1, 2**40 - 1)
    nonce = w3.eth.get_transaction_count(account.address)
    chain_id = w3.eth.chain_id
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    started = time.perf_counter()
    for first in range(0, documents, per_block):
        raw = []
        for i in range(first, min(first + per_block, documents)):
            data = SELECTOR + encode(
                ["bytes32", "uint16", "bytes4", "bytes32", "string"],
                [os.urandom(32), 861, RAW, os.urandom(32), f"SMGS-BENCH-{i:06d}"],
            )
            tx = {
                "type": 2,
                "chainId": chain_id,
                "nonce": nonce + i,
                "to": registry.address,
                "data": data,
                "gas": 150_000,
                "maxFeePerGas": 50 * GWEI,
                "maxPriorityFeePerGas": 1 * GWEI,
                "value": 0,
            }
            raw.append("0x" + account.sign_transaction(tx).raw_transaction.hex())
        rpc_batch(url, [("eth_sendRawTransaction", [r]) for r in raw])
        rpc_batch(url, [("evm_mine", [])])
    while w3.eth.get_transaction_count(account.address) < nonce + documents:
        rpc_batch(url, [("evm_mine", [])])
    w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    print(
        f"registered {documents} documents in {elapsed:.1f} s, chain head {w3.eth.block_number}",
        file=sys.stderr,
    )
    return registry, sent.block_number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--per-block", type=int, default=400, help="registrations per block")
    parser.add_argument("--max-blocks", type=int, default=2000, help="blocks per eth_getLogs")
    parser.add_argument("--db-url", help="index database (default: SQLite in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        chain = LocalChain("anvil", free_port(), Path(tmp) / "chain", persistent=False)
        chain.start()
        try:
            registry, deployment_block = fill(chain.url, args.documents, args.per_block)
            engine = make_engine(args.db_url or sqlite_url(Path(tmp) / "index.db"))
            indexer = Indexer(engine, registry, deployment_block)
            started = time.perf_counter()
            count = indexer.sync(max_blocks=args.max_blocks)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            again = indexer.rebuild(max_blocks=args.max_blocks)
            rebuild = time.perf_counter() - started
        finally:
            chain.stop()
    print(f"sync:    {count} events in {elapsed:.2f} s = {count / elapsed:,.0f} events/s")
    print(f"rebuild: {again} events in {rebuild:.2f} s = {again / rebuild:,.0f} events/s")


if __name__ == "__main__":
    main()
