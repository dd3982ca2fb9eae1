#!/usr/bin/env python3
"""Offline proofs: the size of one registration's proof material and the time to check it,
in Python, in Node and in headless Chromium, beside reference implementations.

    .venv/bin/python scripts/bench/proofs.py [--documents 20000] [--per-block 400]
                                             [--runs 200] [--no-browser] [--json] [--quiet]

Starts its own anvil (Cancun, as ``scripts/run`` does; free 127.0.0.1 port, stopped by PID
at the end), deploys the ledger, and registers ``--documents`` documents with metadata,
``--per-block`` to a block (raw transactions in JSON-RPC batches, automine off), so the
contract's storage trie and the registration's block have a realistic size. For one
registration in the middle of the last full block it produces what a bundle of that
registration carries to be checked offline:

* the registration: its block's header with a checkpoint (2 of 3 consortium signatures)
  and the proof of its receipt (the DocumentRegistered event);
* the status: a later block's header with its checkpoint, and the storage proofs of two
  slots (the document's record and its issuer key's record) against that block;

and prints the sizes (minified JSON, hex as the schema has it), then times the whole check
(parse + verify, median of ``--runs``) in Python (``ledger.proofs``), in Node and in
Chromium (``api/pages/static/proofs.js``, the bundle the pages ship; Chromium loads it from
memory through Playwright, no server). Beside each, the same walks and signature recoveries
done by reference code: py-trie + eth-account in Python, @ethereumjs/mpt + noble in Node.
Exit status 1 if a target is missed: proof material <= 16 KB, Python check <= 20 ms,
browser check <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64decode
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import rlp  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_typed_data  # noqa: E402
from eth_utils import event_abi_to_log_topic  # noqa: E402
from report import Progress, finish  # noqa: E402
from trie import HexaryTrie  # noqa: E402

from ledger.chain import (  # noqa: E402
    ErrorDecoder,
    LocalChain,
    Registry,
    Rpc,
    Sender,
    connect,
    contract_factory,
    free_port,
    register_many,
)
from ledger.proofs import (  # noqa: E402
    Anchor,
    Checkpoint,
    ReceiptProof,
    Signer,
    StorageProof,
    TrustFile,
    anchor,
    mapping_slot,
    prove_receipt,
    prove_storage,
    statement_at,
    verify_anchor,
    verify_event,
    verify_storage,
)
from ledger.proofs.codec import keccak  # noqa: E402
from ledger.types import OrgKind  # noqa: E402

TARGETS = {"material_kb": 16.0, "python_ms": 20.0, "browser_ms": 300.0}
BUNDLE = ROOT / "api" / "pages" / "static" / "proofs.js"
NODE_RUNNER = Path(__file__).with_name("proofs_node.mjs")
CHECK_MODULE = Path(__file__).with_name("proofs_check.mjs")
WEEK = 7 * 24 * 3600


@dataclass
class Report:
    documents: int
    per_block: int
    extra_slots: int
    extra_accounts: int
    sizes: dict[str, int]  # bytes of minified JSON
    header_rlp_bytes: int
    nodes: dict[str, int]  # trie nodes per proof
    python_ms: float
    python_reference_ms: float
    node_ms: float
    node_first_ms: float
    node_reference_ms: float
    browser_ms: float | None
    browser_first_ms: float | None
    material_kb: float

    @property
    def targets_met(self) -> bool:
        browser = self.browser_ms if self.browser_ms is not None else self.node_ms
        return (
            self.material_kb <= TARGETS["material_kb"]
            and self.python_ms <= TARGETS["python_ms"]
            and browser <= TARGETS["browser_ms"]
        )


# ---------------------------------------------------------------------- the chain


def fill(url: str, args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    """Deploy, admit an exporter, register ``documents``; the subject registration's facts."""
    documents, per_block = args.documents, args.per_block
    w3 = connect(url)
    rpc = Rpc(url, timeout=600)  # mining after a million stand-in slots rebuilds a big trie
    admin, exporter = Account.create(), Account.create()
    for who in (admin, exporter):
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction(
                {"from": w3.eth.accounts[0], "to": who.address, "value": 10**21}
            ),
            poll_latency=0.01,
        )
    registry, _ = Registry.deploy(
        Sender(w3, admin, ErrorDecoder(contract_factory(w3).abi)), admin.address
    )
    a = registry.sender(admin)
    org, _ = registry.admit_organisation(a, "Bench Exporter LLP", "KZ", OrgKind.EXPORTER)
    registry.add_key(a, org, exporter.address, 1, int(time.time()) + 10 * 365 * 86400)
    fingerprints = [os.urandom(32) for _ in range(documents)]

    def registered(done: int) -> None:
        if done % (10 * per_block) == 0:
            progress(f"registered {done:,} documents")

    hashes = register_many(
        rpc, registry, exporter, fingerprints, per_block, "SMGS-BENCH", progress=registered
    )
    in_last_block = (documents - 1) % per_block + 1
    last = list(zip(fingerprints, hashes, strict=True))[-in_last_block:]
    grow(rpc, registry.address, args.extra_slots, args.extra_accounts, progress)
    for _ in range(3):
        rpc.call("evm_mine", [])  # the status checkpoint signs a later block
    fingerprint, tx_hash = last[len(last) // 2]
    receipt = rpc.call("eth_getTransactionReceipt", [tx_hash])
    assert receipt["status"] == "0x1", "the subject registration failed"
    head = int(rpc.call("eth_blockNumber", []), 16)
    return {
        "rpc": rpc,
        "registry": registry,
        "exporter": exporter.address,
        "fingerprint": fingerprint,
        "tx_hash": tx_hash,
        "block_txs": len(last),
        "head": head,
        "doc_slot": _declared_at(rpc, registry.address, fingerprint, head),
        "key_slot": _declared_at(rpc, registry.address, exporter.address, head),
    }


def grow(rpc: Rpc, contract: str, slots: int, accounts: int, progress: Progress) -> None:
    """Stand-ins for a larger ledger and chain: ``slots`` random storage slots in the contract
    (as many more documents' records would be: keys are keccak hashes either way) and
    ``accounts`` funded random accounts in the state trie (anvil_setStorageAt/setBalance)."""
    for done in range(0, slots, 1000):
        value = "0x" + os.urandom(32).hex()
        rpc.batch(
            [
                ("anvil_setStorageAt", [contract, "0x" + os.urandom(32).hex(), value])
                for _ in range(min(1000, slots - done))
            ]
        )
        if done % 100_000 == 0:
            progress(f"{done:,} extra storage slots")
    for done in range(0, accounts, 1000):
        rpc.batch(
            [
                ("anvil_setBalance", ["0x" + os.urandom(20).hex(), "0x1"])
                for _ in range(min(1000, accounts - done))
            ]
        )


def _declared_at(rpc: Rpc, contract: str, key: bytes | str, block: int) -> int:
    """The slot of the contract's mapping that holds ``key`` (found, not assumed)."""
    for slot in range(64):
        value = rpc.call("eth_getStorageAt", [contract, hex(mapping_slot(slot, key)), hex(block)])
        if int(value, 16):
            return slot
    raise SystemExit(f"no mapping of the contract holds {key!r}")


# ---------------------------------------------------------------------- the material


def produce(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the proof material of one registration, what a verifier needs beside it)."""
    rpc, registry = world["rpc"], world["registry"]
    signers = [Account.create() for _ in range(3)]
    trust = TrustFile(
        int(rpc.call("eth_chainId", []), 16),
        bytes.fromhex(registry.address[2:]),
        tuple(Signer(bytes.fromhex(s.address[2:]), f"Member {i}") for i, s in enumerate(signers)),
        threshold=2,
        max_age=WEEK,
    )

    def checkpoint(block: int) -> Any:
        statement = statement_at(rpc, registry.address, block)
        for key in signers[:2]:
            statement = statement.sign(bytes(key.key))
        return statement

    header, receipt = prove_receipt(rpc, world["tx_hash"])
    status_block = world["head"]
    slots = [
        mapping_slot(world["doc_slot"], world["fingerprint"]),
        mapping_slot(world["key_slot"], world["exporter"]),
    ]
    material = {
        "registration": {
            "anchor": anchor(rpc, header.number, checkpoint(header.number)).to_json(),
            "receipt": receipt.to_json(),
        },
        "status": {
            "anchor": anchor(rpc, status_block, checkpoint(status_block)).to_json(),
            "storage": prove_storage(rpc, registry.address, slots, status_block).to_json(),
        },
    }
    abi = next(e for e in registry.contract.abi if e.get("name") == "DocumentRegistered")
    expect = {
        "trust": trust.to_json(),
        "now": int(time.time()),
        "contract": registry.address.lower(),
        "topics": ["0x" + event_abi_to_log_topic(abi).hex(), "0x" + world["fingerprint"].hex()],
        "slots": [hex(s) for s in slots],
        "linked": anchor(rpc, header.number, checkpoint(status_block)).to_json(),
    }
    return material, expect


def check(material: dict[str, Any], expect: dict[str, Any]) -> dict[int, int]:
    """The whole offline check of one registration, from parsed JSON: what a verifier does."""
    trust = TrustFile.from_json(expect["trust"])
    contract = bytes.fromhex(expect["contract"][2:])
    registration = verify_anchor(
        Anchor.from_json(material["registration"]["anchor"]), trust, expect["now"], fresh=False
    )
    topics = [bytes.fromhex(t[2:]) for t in expect["topics"]]
    verify_event(
        ReceiptProof.from_json(material["registration"]["receipt"]),
        registration.header,
        contract,
        topics,
    )
    status = verify_anchor(Anchor.from_json(material["status"]["anchor"]), trust, expect["now"])
    slots = [int(s, 16) for s in expect["slots"]]
    return verify_storage(
        StorageProof.from_json(material["status"]["storage"]), status.header, contract, slots
    )


def reference_check(material: dict[str, Any], expect: dict[str, Any]) -> None:
    """The same walks and recoveries with reference code (py-trie, eth-account), no parsing
    of our own beyond hex: the baseline."""
    for part in ("registration", "status"):
        cp = material[part]["anchor"]["checkpoint"]
        typed = Checkpoint.from_json(cp).typed_data()
        signable = encode_typed_data(full_message=typed)
        for signature in cp["signatures"]:
            Account.recover_message(signable, signature=signature)
    header = rlp.decode(b64decode(material["registration"]["anchor"]["headers"][0]["rlp"]))
    receipt = material["registration"]["receipt"]
    _py_trie(header[5], rlp.encode(receipt["txIndex"]), receipt["nodes"])
    state_header = rlp.decode(b64decode(material["status"]["anchor"]["headers"][0]["rlp"]))
    storage = material["status"]["storage"]
    account = _py_trie(
        state_header[3], keccak(bytes.fromhex(storage["address"][2:])), storage["accountNodes"]
    )
    for slot in storage["slots"]:
        _py_trie(rlp.decode(account)[2], keccak(bytes.fromhex(slot[2:])), storage["storageNodes"])


def _py_trie(root: bytes, key: bytes, nodes: list[str]) -> bytes:
    decoded = [rlp.decode(b64decode(n)) for n in nodes]
    value: bytes = HexaryTrie.get_from_proof(root, key, decoded)
    return value


def median_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":")))


# ---------------------------------------------------------------------- JavaScript


def node_timings(case: Path, runs: int) -> dict[str, float]:
    done = subprocess.run(
        ["node", "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", str(NODE_RUNNER),
         str(BUNDLE), str(case), str(runs)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"the Node check failed:\n{done.stderr[-3000:]}")
    timings: dict[str, float] = json.loads(done.stdout)
    return timings


def browser_timings(case: Path, runs: int) -> dict[str, float] | None:
    """First and median check in headless Chromium; None if Chromium is not installed."""
    executable = shutil.which("chromium")
    if executable is None:
        return None
    from playwright.sync_api import Route, sync_playwright

    files = {
        "/proofs.js": BUNDLE.read_bytes(),
        "/check.mjs": CHECK_MODULE.read_bytes(),
        "/case.json": case.read_bytes(),
        "/": (
            b"<!doctype html><script type=module>"
            b"import * as lib from '/proofs.js'; import {timeChecks} from '/check.mjs';"
            b"const input = await (await fetch('/case.json')).json();"
            b"window.result = timeChecks(lib, input, " + str(runs).encode() + b");"
            b"</script>"
        ),
    }

    def serve(route: Route) -> None:
        path = "/" + route.request.url.split("/", 3)[3]
        body = files.get(path)
        kind = (
            "text/html"
            if path == "/"
            else "application/json"
            if path.endswith(".json")
            else "text/javascript"
        )
        if body is None:
            route.fulfill(status=404, body="")
        else:
            route.fulfill(status=200, body=body, content_type=kind)

    with (
        tempfile.TemporaryDirectory(prefix="bench-proofs-chromium-") as profile,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.route("http://bench.invalid/**", serve)
            page.goto("http://bench.invalid/")
            page.wait_for_function("window.result !== undefined", timeout=120_000)
            result: dict[str, float] = page.evaluate("window.result")
        finally:
            browser.close()
    return result


# ---------------------------------------------------------------------- the run


def measure(args: argparse.Namespace, progress: Progress) -> Report:
    with tempfile.TemporaryDirectory(prefix="bench-proofs-") as tmp:
        chain = LocalChain("anvil", free_port(), Path(tmp) / "chain", persistent=False)
        chain.start()
        try:
            progress(f"anvil on {chain.url}: registering {args.documents:,} documents")
            world = fill(chain.url, args, progress)
            material, expect = produce(world)
        finally:
            chain.stop()
        progress("chain stopped; checking offline")
        check(material, expect)  # raises if anything does not hold
        python_ms = median_ms(lambda: check(material, expect), args.runs)
        reference_ms = median_ms(lambda: reference_check(material, expect), args.runs)
        case = Path(tmp) / "case.json"
        case.write_text(json.dumps({"material": material, "expect": expect}))
        progress("Node")
        node = node_timings(case, args.runs)
        browser = None
        if not args.no_browser:
            progress("headless Chromium")
            browser = browser_timings(case, args.runs)
    registration, status = material["registration"], material["status"]
    header_json = registration["anchor"]["headers"][0]
    linked = expect["linked"]
    sizes = {
        "material": size(material),
        "header": size(header_json),
        "checkpoint": size(registration["anchor"]["checkpoint"]),
        "receipt_proof": size(registration["receipt"]),
        "storage_proof": size(status["storage"]),
        "linked_anchor": size(linked),
        "linked_headers": len(linked["headers"]),
    }
    return Report(
        documents=args.documents,
        per_block=args.per_block,
        extra_slots=args.extra_slots,
        extra_accounts=args.extra_accounts,
        sizes=sizes,
        header_rlp_bytes=len(b64decode(header_json["rlp"])),
        nodes={
            "receipt": len(registration["receipt"]["nodes"]),
            "account": len(status["storage"]["accountNodes"]),
            "slots": len(status["storage"]["storageNodes"]),
        },
        python_ms=python_ms,
        python_reference_ms=reference_ms,
        node_ms=node["median_ms"],
        node_first_ms=node["first_ms"],
        node_reference_ms=node["reference_ms"],
        browser_ms=None if browser is None else browser["median_ms"],
        browser_first_ms=None if browser is None else browser["first_ms"],
        material_kb=round(sizes["material"] / 1024, 2),
    )


def table(r: Report) -> str:
    s = r.sizes
    per_header = (s["linked_anchor"] - s["header"] - s["checkpoint"]) / max(
        1, s["linked_headers"] - 1
    )
    browser = (
        "not run"
        if r.browser_ms is None
        else f"{r.browser_ms:.2f} ms (first {r.browser_first_ms:.1f} ms)"
    )
    rows = [
        f"chain: anvil (Cancun), {r.documents:,} documents (+{r.extra_slots:,} stand-in storage slots, "
        f"+{r.extra_accounts:,} accounts), {r.per_block} registrations in the subject's block",
        "",
        "size of one registration's proof material (minified JSON; blobs base64)",
        f"  total                       {s['material']:>7,} B = {r.material_kb:.1f} KB   target <= {TARGETS['material_kb']:.0f} KB",
        f"  a header                    {s['header']:>7,} B  (RLP {r.header_rlp_bytes} B)",
        f"  a checkpoint (2 signatures) {s['checkpoint']:>7,} B",
        f"  receipt proof               {s['receipt_proof']:>7,} B  ({r.nodes['receipt']} nodes)",
        f"  storage proof, 2 slots      {s['storage_proof']:>7,} B  ({r.nodes['account']} account nodes, {r.nodes['slots']} storage nodes)",
        f"  registration linked to the status checkpoint by {s['linked_headers']} headers: {s['linked_anchor']:,} B "
        f"({per_header:,.0f} B a header)",
        "",
        "time of the whole check (parse + verify), median",
        f"  Python ledger.proofs        {r.python_ms:7.2f} ms   target <= {TARGETS['python_ms']:.0f} ms; "
        f"reference (py-trie + eth-account) {r.python_reference_ms:.2f} ms = x{r.python_ms / r.python_reference_ms:.2f}",
        f"  Node proofs.js              {r.node_ms:7.2f} ms   (first {r.node_first_ms:.1f} ms); "
        f"reference (@ethereumjs/mpt + noble) {r.node_reference_ms:.2f} ms = x{r.node_ms / r.node_reference_ms:.2f}",
        f"  Chromium proofs.js          {browser}   target <= {TARGETS['browser_ms']:.0f} ms",
        "",
        f"targets met: {'yes' if r.targets_met else 'NO'}",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--per-block", type=int, default=400, help="registrations per block")
    parser.add_argument("--runs", type=int, default=200, help="checks per median")
    parser.add_argument(
        "--extra-slots",
        type=int,
        default=0,
        help="random storage slots added to the contract (a larger ledger's storage trie)",
    )
    parser.add_argument(
        "--extra-accounts",
        type=int,
        default=0,
        help="random funded accounts added to the chain (a larger state trie)",
    )
    parser.add_argument("--no-browser", action="store_true", help="skip headless Chromium")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.documents < 1 or args.per_block < 1 or args.runs < 1:
        parser.error("--documents, --per-block and --runs must be positive")
    progress = Progress(args.quiet)
    return finish(measure(args, progress), TARGETS, args.json, table, progress)


if __name__ == "__main__":
    sys.exit(main())
