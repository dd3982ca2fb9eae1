#!/usr/bin/env python3
"""Gas report: the Trade Document Ledger beside its peers, measured on one local chain.

    .venv/bin/python scripts/bench/gas.py [--json] [--samples 20] [--batch-size 1000]
                                           [--rpc http://127.0.0.1:8545]

Starts its own anvil (non-persistent, free port on 127.0.0.1; stopped by PID at the end)
unless ``--rpc`` names an existing local chain whose first account is unlocked and funded.
Deploys, on that chain:

* our ``TradeDocumentLedger`` from the artifact the package ships (``ledger/chain/artifacts``);
* TradeTrust/OpenAttestation ``DocumentStore`` from the ABI and bytecode that
  ``@tradetrust-tt/document-store`` ships in ``dist/contracts/factories`` (an ethers v5
  factory module, read with ``node`` and a stand-in for ``ethers``; nothing is compiled);
* Ethereum Attestation Service ``SchemaRegistry`` and ``EAS`` from the Hardhat artifacts
  that ``@ethereum-attestation-service/eas-contracts`` ships in ``artifacts/contracts``.

It then sends realistic transactions (SHA-256 fingerprints and CIDv1 of synthetic documents,
consignment references such as ``SMGS-2026-0001234``) and prints one row per operation: the
receipt's ``gasUsed`` (the median over ``--samples`` transactions where several are sent),
the floor for the same calldata where the operation creates exactly one storage slot
(21,000 + calldata gas + 22,100 + the logs' cost), the target from issue 2, PASS/FAIL, and
for peers the ratio ours/theirs. ``--json`` prints the same as JSON. The exit status is 1
if a target is missed. Gas is deterministic: the figures do not depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eth_abi import encode  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402
from report import Progress, finish  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402
from web3.types import TxReceipt, Wei  # noqa: E402

from ledger.chain.localchain import LocalChain, free_port  # noqa: E402
from ledger.chain.merkle import BatchMember, MerkleTree  # noqa: E402
from ledger.chain.registry import Registry, contract_factory  # noqa: E402
from ledger.chain.relay import RegisterRequest, sign_request  # noqa: E402
from ledger.chain.reverts import ErrorDecoder  # noqa: E402
from ledger.chain.sender import Sender, Sent, connect  # noqa: E402
from ledger.content.hashing import Fingerprint, hash_bytes  # noqa: E402
from ledger.types import OrgKind, RevocationReason, Verdict  # noqa: E402

NODE_MODULES = ROOT / "node_modules"
DOCUMENT_STORE_PACKAGE = NODE_MODULES / "@tradetrust-tt" / "document-store"
DOCUMENT_STORE_FACTORY = (
    DOCUMENT_STORE_PACKAGE / "dist/contracts/factories/DocumentStore__factory.js"
)
EAS_PACKAGE = NODE_MODULES / "@ethereum-attestation-service" / "eas-contracts"
EAS_SCHEMA = "bytes32 documentHash,string cid,string consignmentRef"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
YEAR = 365 * 24 * 3600
SEED = 20260002  # issue 2: the same documents, keys and references on every run

# Calldata and log prices (EIP-2028, yellow paper) and the price of a new storage slot
# (EIP-2929 cold SSTORE from zero to non-zero).
TX_BASE = 21_000
CALLDATA_NONZERO = 16
CALLDATA_ZERO = 4
NEW_SLOT = 22_100
LOG_BASE = 375
LOG_TOPIC = 375
LOG_DATA_BYTE = 8

TARGETS = {
    "register": 53_000,
    "batch_per_doc": 60,
    "relayed_steady": 80_000,
    "attest": 55_000,
    "revoke_batch": 50_000,  # issue 14
}

# Reads the ABI and bytecode out of the package's ethers v5 factory without ethers installed:
# the module's ContractFactory base class is replaced by one that keeps its arguments.
_READ_FACTORY_JS = r"""
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'ethers') {
    return {
      ContractFactory: class { constructor(abi, bytecode) { this.abi = abi; this.bytecode = bytecode; } },
      Contract: class {},
    };
  }
  return load.call(this, request, ...rest);
};
const mod = require(process.argv[1]);
const factory = new mod[process.argv[2]]();
process.stdout.write(JSON.stringify({ abi: factory.abi, bytecode: factory.bytecode }));
"""


@dataclass
class Row:
    """One line of the report."""

    key: str
    operation: str
    gas: float
    unit: str = "gas"
    samples: int = 1
    floor: int | None = None
    target: int | None = None
    result: str = ""  # PASS, FAIL or "" (for information)
    versus: str | None = None  # for peers: the key of our row they compare with
    ratio: float | None = None  # ours / theirs
    peer: str | None = None
    note: str = ""


@dataclass
class Report:
    chain: dict[str, Any]
    artifacts: dict[str, str]
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        if float(row.gas).is_integer():
            row.gas = int(row.gas)
        if row.target is not None:
            row.result = "PASS" if row.gas <= row.target else "FAIL"
        self.rows.append(row)
        return row

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)

    def compare(self) -> None:
        for r in self.rows:
            if r.versus is not None:
                r.ratio = round(self.row(r.versus).gas / r.gas, 3)

    @property
    def targets_met(self) -> bool:
        return all(r.result != "FAIL" for r in self.rows)


# ---------------------------------------------------------------------------- gas arithmetic


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return CALLDATA_ZERO * zeros + CALLDATA_NONZERO * (len(data) - zeros)


def log_gas(receipt: TxReceipt) -> int:
    return sum(
        LOG_BASE + LOG_TOPIC * len(log["topics"]) + LOG_DATA_BYTE * len(log["data"])
        for log in receipt["logs"]
    )


def floor_gas(w3: Web3, sent: Sent) -> int:
    """21,000 + calldata + one new slot + logs: what any contract must pay for this tx."""
    data = bytes(w3.eth.get_transaction(sent.tx_hash)["input"])
    return TX_BASE + calldata_gas(data) + NEW_SLOT + log_gas(sent.receipt)


def gas(sent: Sent) -> int:
    return int(sent.receipt["gasUsed"])


def median(values: list[int]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------------------- artifacts


def document_store_artifact() -> dict[str, Any]:
    """ABI and bytecode of DocumentStore as the npm package ships them (no compilation)."""
    node = shutil.which("node")
    if node is None:
        sys.exit("bench/gas.py: `node` is needed to read the DocumentStore factory module")
    if not DOCUMENT_STORE_FACTORY.is_file():
        sys.exit(f"bench/gas.py: {DOCUMENT_STORE_FACTORY} is missing: run npm install")
    out = subprocess.run(
        [node, "-e", _READ_FACTORY_JS, str(DOCUMENT_STORE_FACTORY), "DocumentStore__factory"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    artifact: dict[str, Any] = json.loads(out)
    return artifact


def eas_artifact(name: str) -> dict[str, Any]:
    """A Hardhat artifact that eas-contracts ships (compiled by its authors)."""
    path = EAS_PACKAGE / "artifacts" / "contracts" / f"{name}.sol" / f"{name}.json"
    if not path.is_file():
        sys.exit(f"bench/gas.py: {path} is missing: run npm install")
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact


def package_version(folder: Path) -> str:
    meta = json.loads((folder / "package.json").read_text())
    return f"{meta['name']}@{meta['version']}"


# ---------------------------------------------------------------------------- chain


@contextmanager
def chain(rpc: str | None) -> Iterator[tuple[Web3, str]]:
    """A Web3 on ``rpc`` (loopback only) or on a fresh anvil this process starts and stops."""
    if rpc is not None:
        host = urlparse(rpc).hostname
        if host not in LOOPBACK:
            sys.exit(f"bench/gas.py: --rpc must be a local chain on 127.0.0.1, not {rpc}")
        yield connect(rpc), rpc
        return
    with tempfile.TemporaryDirectory(prefix="gas-report-") as folder:
        local = LocalChain("anvil", free_port(), Path(folder), persistent=False)
        local.start()
        try:
            yield connect(local.url), local.url
        finally:
            local.stop()  # SIGTERM to the process group led by anvil's PID


def fund(w3: Web3, *addresses: str, wei: int = 10**21) -> None:
    source = w3.eth.accounts[0]
    hashes = [
        w3.eth.send_transaction({"from": source, "to": a, "value": Wei(wei)}) for a in addresses
    ]
    for h in hashes:
        w3.eth.wait_for_transaction_receipt(h, poll_latency=0.005)


def deploy(sender: Sender, artifact: dict[str, Any], *args: Any) -> tuple[Contract, Sent]:
    w3 = sender.w3
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    sent = sender.send(
        factory.constructor(*args).build_transaction(
            {"from": sender.address, "chainId": w3.eth.chain_id, "nonce": 0}
        )
    )
    address = sent.receipt["contractAddress"]
    assert address is not None
    return w3.eth.contract(address=address, abi=artifact["abi"]), sent


def node_info(w3: Web3) -> dict[str, Any]:
    info: dict[str, Any] = {"chain_id": w3.eth.chain_id, "client": w3.client_version}
    try:
        raw = w3.provider.make_request("anvil_nodeInfo", [])  # type: ignore[arg-type]
        info["hardfork"] = raw["result"].get("hardFork")
    except Exception:  # only anvil answers this; the report works without it
        pass
    return info


# ---------------------------------------------------------------------------- documents


class Documents:
    """Synthetic trade documents: fingerprints, CIDs and consignment references (seeded)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._next_ref = 1234

    def document(self, low: int = 20_000, high: int = 600_000) -> Fingerprint:
        """A document of a random size (CIDv1 raw below 256 KiB, dag-pb above)."""
        return hash_bytes(self._rng.randbytes(self._rng.randint(low, high)))

    def consignment_ref(self) -> str:
        ref = f"SMGS-2026-{self._next_ref:07d}"
        self._next_ref += 1
        return ref

    def hash32(self) -> bytes:
        return self._rng.randbytes(32)


def account(role: str) -> LocalAccount:
    """A key derived from the role's name, so every run signs with the same keys."""
    key: LocalAccount = Account.from_key(keccak(f"gas-report/{SEED}/{role}".encode()))
    return key


# ---------------------------------------------------------------------------- measurements


def measure(
    w3: Web3, rpc_url: str, samples: int, batch_size: int, progress: Callable[[str], None]
) -> Report:
    docs = Documents(SEED)
    roles = ["admin", "exporter", "issuer", "customs", "exporter2", "relayer", "peer"]
    actors = {role: account(role) for role in roles}
    fund(w3, *(a.address for a in actors.values()))
    report = Report(
        chain={"rpc": rpc_url, **node_info(w3)},
        artifacts={
            "TradeDocumentLedger": "ledger/chain/artifacts/TradeDocumentLedger.json",
            "DocumentStore": f"{package_version(DOCUMENT_STORE_PACKAGE)} "
            f"{DOCUMENT_STORE_FACTORY.relative_to(DOCUMENT_STORE_PACKAGE)}",
            "SchemaRegistry, EAS": f"{package_version(EAS_PACKAGE)} artifacts/contracts/*.sol/*.json",
        },
    )
    _measure_ours(w3, report, docs, actors, samples, batch_size, progress)
    _measure_document_store(w3, report, docs, actors["peer"], samples, batch_size, progress)
    _measure_eas(w3, report, docs, actors["peer"], samples, progress)
    report.compare()
    return report


def _measure_ours(
    w3: Web3,
    report: Report,
    docs: Documents,
    actors: dict[str, LocalAccount],
    samples: int,
    batch_size: int,
    progress: Callable[[str], None],
) -> None:
    progress("deploying TradeDocumentLedger")
    admin_sender = Sender(w3, actors["admin"], ErrorDecoder(contract_factory(w3).abi))
    registry, deployed = Registry.deploy(admin_sender, actors["admin"].address)
    admin = registry.sender(actors["admin"])
    report.add(Row("deploy", "Deployment", gas(deployed)))

    orgs = {
        "exporter": ("Demo Exporter LLP", "KZ", OrgKind.EXPORTER),
        "issuer": ("Demo Chamber of Commerce and Industry", "KZ", OrgKind.ISSUING_BODY),
        "customs": ("Demo Hairatan Customs Office", "AF", OrgKind.CUSTOMS),
        "exporter2": ("Demo Second Exporter LLP", "UZ", OrgKind.EXPORTER),
    }
    now = int(w3.eth.get_block("latest")["timestamp"])
    admit: list[int] = []
    add_key: list[int] = []
    for role, (name, country, kind) in orgs.items():
        org_id, sent = registry.admit_organisation(admin, name, country, kind)
        admit.append(gas(sent))
        add_key.append(gas(registry.add_key(admin, org_id, actors[role].address, 1, now + YEAR)))
    report.add(
        Row(
            "admit_organisation",
            "admitOrganisation (name ~30 chars)",
            median(admit[1:]),
            samples=len(admit) - 1,
            note=f"first organisation: {admit[0]:,} (counter 0 -> 1)",
        )
    )
    report.add(Row("add_key", "addKey", median(add_key), samples=len(add_key)))

    progress(f"{samples} registrations")
    exporter = registry.sender(actors["exporter"])
    registered: list[tuple[bytes, str]] = []
    reg_gas: list[int] = []
    reg_floor: list[int] = []
    for _ in range(samples):
        fp, ref = docs.document(), docs.consignment_ref()
        sent = registry.register(exporter, fp.sha256_bytes, 720, fp.cid_bytes, ref)
        reg_gas.append(gas(sent))
        reg_floor.append(floor_gas(w3, sent))
        registered.append((fp.sha256_bytes, ref))
    report.add(
        Row(
            "register",
            "register: CIDv1 (bytes4+bytes32) + consignment ref",
            median(reg_gas),
            samples=samples,
            floor=int(median(reg_floor)),
            target=TARGETS["register"],
            note=f"min {min(reg_gas):,}, max {max(reg_gas):,}",
        )
    )
    # A reference longer than 32 bytes takes a second word in the calldata and in the log.
    long_gas: list[int] = []
    for _ in range(5):
        fp, ref = docs.document(), f"{docs.consignment_ref()}/KZ-AF/WAGON-58123456"
        long_gas.append(gas(registry.register(exporter, fp.sha256_bytes, 720, fp.cid_bytes, ref)))
    report.add(
        Row(
            "register_long_ref",
            "register: consignment ref of 38 bytes (> 32)",
            median(long_gas),
            samples=len(long_gas),
            note='e.g. "SMGS-2026-0001254/KZ-AF/WAGON-58123456"',
        )
    )

    meta_gas: list[int] = []
    meta_floor: list[int] = []
    for _ in range(max(5, samples // 2)):
        fp, meta, ref = docs.document(), docs.document(500, 4_000), docs.consignment_ref()
        sent = registry.register(
            exporter, fp.sha256_bytes, 861, fp.cid_bytes, ref, metadata_cid=meta.cid_bytes
        )
        meta_gas.append(gas(sent))
        meta_floor.append(floor_gas(w3, sent))
    report.add(
        Row(
            "register_with_metadata",
            "registerWithMetadata (+ 36-byte metadata CID)",
            median(meta_gas),
            samples=len(meta_gas),
            floor=int(median(meta_floor)),
        )
    )

    progress(f"batch of {batch_size}")
    members = [
        BatchMember(fp.sha256_bytes, 380, fp.cid_bytes, docs.consignment_ref())
        for fp in (docs.document(1_000, 30_000) for _ in range(batch_size))
    ]
    tree = MerkleTree([m.leaf() for m in members])
    manifest = docs.document(50_000, 200_000)
    sent = registry.anchor_batch(exporter, tree.root, batch_size, manifest.cid_bytes)
    report.add(
        Row(
            "batch_total",
            f"anchorBatch: {batch_size} documents, total",
            gas(sent),
            floor=floor_gas(w3, sent),
            note="Merkle root + size + 36-byte manifest CID",
        )
    )
    report.add(
        Row(
            "batch_per_doc",
            f"anchorBatch: per document (/{batch_size})",
            round(gas(sent) / batch_size, 1),
            unit="gas/doc",
            target=TARGETS["batch_per_doc"],
        )
    )
    record: list[int] = []
    for index in range(min(5, batch_size)):
        sent = registry.record_batch_member(exporter, tree.root, members[index], tree.proof(index))
        record.append(gas(sent))
    report.add(
        Row(
            "record_batch_member",
            f"recordBatchMember ({len(tree.proof(0))}-hash proof)",
            median(record),
            samples=len(record),
        )
    )
    # whole-batch revoke: of this batch, then of small batches (the cost does not depend on size)
    revoke_batch = [gas(registry.revoke_batch(exporter, tree.root, 1))]
    for _ in range(4):
        small = [
            BatchMember(fp.sha256_bytes, 380, fp.cid_bytes, docs.consignment_ref())
            for fp in (docs.document(1_000, 30_000) for _ in range(4))
        ]
        root = MerkleTree([m.leaf() for m in small]).root
        registry.anchor_batch(exporter, root, len(small), manifest.cid_bytes)
        revoke_batch.append(gas(registry.revoke_batch(exporter, root, 1)))
    report.add(
        Row(
            "revoke_batch",
            "revokeBatch (every member, one transaction)",
            median(revoke_batch),
            samples=len(revoke_batch),
            target=TARGETS["revoke_batch"],
        )
    )

    progress("relayed registrations")
    relayer = registry.sender(actors["relayer"])
    issuer_key = actors["exporter2"]  # has never registered anything: its first request
    relayed: list[int] = []
    relayed_floor: list[int] = []
    deadline = int(w3.eth.get_block("latest")["timestamp"]) + 3600
    for nonce in range(samples + 1):
        fp, ref = docs.document(), docs.consignment_ref()
        request = RegisterRequest(
            issuer_key.address, fp.sha256_bytes, 720, fp.cid_bytes, ref, b"", nonce, deadline
        )
        signature = sign_request(issuer_key, request, registry.chain_id, registry.address)
        sent = registry.register_with_signature(relayer, request, signature)
        relayed.append(gas(sent))
        relayed_floor.append(floor_gas(w3, sent))
    report.add(
        Row(
            "relayed_first",
            "registerWithSignature: key's first request (nonce 0)",
            relayed[0],
            floor=relayed_floor[0],
            note="sent by a relayer account",
        )
    )
    report.add(
        Row(
            "relayed_steady",
            "registerWithSignature: steady state",
            median(relayed[1:]),
            samples=samples,
            floor=int(median(relayed_floor[1:])),
            target=TARGETS["relayed_steady"],
            note="sent by a relayer account",
        )
    )

    progress("attestations, revocations, supersessions")
    customs = registry.sender(actors["customs"])
    attest: list[int] = []
    attest_floor: list[int] = []
    ids: list[bytes] = []
    for i, (fingerprint, _ref) in enumerate(registered[: max(5, samples // 2)]):
        attestation_id, sent = registry.attest(
            customs, fingerprint, Verdict.CLEARED, f"AF-HRT-2026-{4567 + i:06d}"
        )
        attest.append(gas(sent))
        attest_floor.append(floor_gas(w3, sent))
        ids.append(attestation_id)
    report.add(
        Row(
            "attest",
            "attest (verdict + customs ref)",
            median(attest),
            samples=len(attest),
            floor=int(median(attest_floor)),
            target=TARGETS["attest"],
        )
    )
    revoke_att = [gas(registry.revoke_attestation(customs, i)) for i in ids[:5]]
    report.add(
        Row("revoke_attestation", "revokeAttestation", median(revoke_att), samples=len(revoke_att))
    )

    tail = registered[-10:]
    revoke = [
        gas(registry.revoke(exporter, fp, int(RevocationReason.ISSUED_IN_ERROR)))
        for fp, _ in tail[:5]
    ]
    report.add(Row("revoke", "revoke (document)", median(revoke), samples=len(revoke)))
    supersede: list[int] = []
    for old, ref in tail[5:]:
        new = docs.document()
        sent = registry.supersede(exporter, old, new.sha256_bytes, 720, new.cid_bytes, ref)
        supersede.append(gas(sent))
    report.add(
        Row("supersede", "supersede (no metadata CID)", median(supersede), samples=len(supersede))
    )


def _measure_document_store(
    w3: Web3,
    report: Report,
    docs: Documents,
    owner: LocalAccount,
    samples: int,
    batch_size: int,
    progress: Callable[[str], None],
) -> None:
    progress("TradeTrust DocumentStore")
    peer = "TradeTrust DocumentStore"
    artifact = document_store_artifact()
    sender = Sender(w3, owner, ErrorDecoder(artifact["abi"]))
    store, sent = deploy(sender, artifact, "Demo Exporter LLP", owner.address)
    report.add(Row("ds_deploy", "DocumentStore: deployment", gas(sent), peer=peer, versus="deploy"))
    roots = [docs.hash32() for _ in range(samples)]
    issue = [gas(sender.transact(store.functions.issue(r))) for r in roots]
    report.add(
        Row(
            "ds_issue",
            "DocumentStore: issue(bytes32)",
            median(issue),
            samples=samples,
            peer=peer,
            versus="register",
            note="hash only: no CID, no reference, no issuer key",
        )
    )
    # OpenAttestation batches by issuing the Merkle root of the wrapped documents.
    tree = MerkleTree([docs.hash32() for _ in range(batch_size)])
    batch = gas(sender.transact(store.functions.issue(tree.root)))
    report.add(
        Row(
            "ds_batch_per_doc",
            f"DocumentStore: issue(batch root) per document (/{batch_size})",
            round(batch / batch_size, 1),
            unit="gas/doc",
            peer=peer,
            versus="batch_per_doc",
            note=f"one issue of the root: {batch:,}",
        )
    )
    bulk = [docs.hash32() for _ in range(samples)]
    bulk_gas = gas(sender.transact(store.functions.bulkIssue(bulk)))
    report.add(
        Row(
            "ds_bulk_issue",
            f"DocumentStore: bulkIssue of {samples} hashes, per hash",
            round(bulk_gas / samples, 1),
            peer=peer,
            versus="register",
            note=f"total {bulk_gas:,}",
        )
    )
    revoke = [gas(sender.transact(store.functions.revoke(r))) for r in roots[:5]]
    report.add(
        Row(
            "ds_revoke",
            "DocumentStore: revoke(bytes32)",
            median(revoke),
            samples=len(revoke),
            peer=peer,
            versus="revoke",
        )
    )


def _measure_eas(
    w3: Web3,
    report: Report,
    docs: Documents,
    attester: LocalAccount,
    samples: int,
    progress: Callable[[str], None],
) -> None:
    progress("Ethereum Attestation Service")
    peer = "Ethereum Attestation Service"
    registry_artifact, eas_artifact_ = eas_artifact("SchemaRegistry"), eas_artifact("EAS")
    abi = registry_artifact["abi"] + eas_artifact_["abi"]
    sender = Sender(w3, attester, ErrorDecoder([i for i in abi if i.get("type") == "error"]))
    schemas, sent_registry = deploy(sender, registry_artifact)
    eas, sent_eas = deploy(sender, eas_artifact_, schemas.address)
    report.add(
        Row(
            "eas_deploy",
            "EAS: deployment (SchemaRegistry + EAS)",
            gas(sent_registry) + gas(sent_eas),
            peer=peer,
            versus="deploy",
            note=f"SchemaRegistry {gas(sent_registry):,}, EAS {gas(sent_eas):,}",
        )
    )
    zero = "0x" + "00" * 20
    sent = sender.transact(schemas.functions.register(EAS_SCHEMA, zero, True))
    (event,) = schemas.events.Registered().process_receipt(sent.receipt)
    schema_uid = bytes(event["args"]["uid"])
    report.add(
        Row(
            "eas_register_schema",
            "EAS: register schema",
            gas(sent),
            peer=peer,
            note=f'"{EAS_SCHEMA}"',
        )
    )

    attest: list[int] = []
    uids: list[bytes] = []
    for _ in range(samples):
        fp, ref = docs.document(), docs.consignment_ref()
        data = encode(["bytes32", "string", "string"], [fp.sha256_bytes, fp.cid, ref])
        request = (schema_uid, (zero, 0, True, b"\x00" * 32, data, 0))
        sent = sender.transact(eas.functions.attest(request))
        (event,) = eas.events.Attested().process_receipt(sent.receipt)
        uids.append(bytes(event["args"]["uid"]))
        attest.append(gas(sent))
    report.add(
        Row(
            "eas_attest",
            "EAS: attest(hash, base32 CIDv1, consignment ref)",
            median(attest),
            samples=samples,
            peer=peer,
            versus="register",
            note="no recipient, no expiry, revocable; vs our attest: "
            f"{report.row('attest').gas / median(attest):.3f}",
        )
    )
    revoke = [
        gas(sender.transact(eas.functions.revoke((schema_uid, (uid, 0))))) for uid in uids[:5]
    ]
    report.add(
        Row(
            "eas_revoke",
            "EAS: revoke",
            median(revoke),
            samples=len(revoke),
            peer=peer,
            versus="revoke",
        )
    )


# ---------------------------------------------------------------------------- output


def _fmt(value: float | int | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def table(report: Report) -> str:
    header = ["Operation", "Gas", "Floor", "Target", "Result", "Ours/theirs", "Note"]
    lines = [header]
    section = None
    for r in report.rows:
        name = r.peer or "Trade Document Ledger"
        if name != section:
            lines.append([f"-- {name}", "", "", "", "", "", ""])
            section = name
        ratio = f"{r.ratio:.3f} vs {r.versus}" if r.ratio is not None else ""
        target = f"<= {_fmt(r.target)}" if r.target is not None else ""
        gas_text = _fmt(r.gas) + ("/doc" if r.unit == "gas/doc" else "")
        samples = f" (median of {r.samples})" if r.samples > 1 else ""
        lines.append(
            [
                r.operation,
                gas_text,
                _fmt(r.floor),
                target,
                r.result,
                ratio,
                (r.note + samples).strip(),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {1, 2, 3}
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    chain_info = ", ".join(f"{k}={v}" for k, v in report.chain.items())
    verdict = "all targets met" if report.targets_met else "SOME TARGETS MISSED"
    return "\n".join([f"chain: {chain_info}", *out, verdict])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure the gas of the Trade Document Ledger and of its peers "
        "(TradeTrust DocumentStore, Ethereum Attestation Service) on one local chain.",
        epilog="Exit status 1 if a target of issue 2 is missed.",
    )
    parser.add_argument("--rpc", help="use this local chain (127.0.0.1) instead of a fresh anvil")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument(
        "--samples", type=int, default=20, help="transactions per median (default 20)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=1000, help="documents in the Merkle batch (default 1000)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if args.samples < 10 or args.batch_size < 2:
        parser.error("--samples must be at least 10 and --batch-size at least 2")

    progress = Progress(args.quiet)
    with chain(args.rpc) as (w3, url):
        progress(f"chain at {url}")
        report = measure(w3, url, args.samples, args.batch_size, progress)
    return finish(report, TARGETS, args.json, table, progress)


if __name__ == "__main__":
    sys.exit(main())
