"""Proof of consistency: re-checking index rows (or an export of them) against the chain.

Every indexed row keeps the transaction, block number, block hash and log index it came
from. ``Checker`` fetches those receipts in JSON-RPC batches and checks, row by row:

* documents: the log at that index was emitted by the contract and is its
  ``DocumentRegistered`` with the same fingerprint, CID, type, consignment reference and
  issuer (and the ``DocumentMetadataAnchored`` of the same transaction gives the same
  metadata CID); for a batch member it is the ``BatchAnchored`` of the row's root (or the
  ``BatchMemberRecorded`` of that member) and the member's fields prove membership of the
  root with the Merkle proof (the index's, else one rebuilt from the batch manifest the
  event anchors, else the one the ``recordBatchMember`` call carried); the block number and
  hash agree; ``getDocument`` (``getBatch`` for members) agrees on issuer, type, time and
  the current status, and ``supersededBy`` on the replacement;
* attestations: the log is the contract's ``AttestationRecorded`` with the same id,
  document, attester, verdict and reference, and ``getAttestation`` agrees on the time and
  the revoked flag.

Every difference is reported as (kind, row id, field, index value, chain value). Views are
read at one block (the head when the check starts), so a check is one consistent snapshot.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from eth_utils import keccak, to_checksum_address
from sqlalchemy import Engine, and_, select

from ledger import times
from ledger.chain import BatchMember, Manifest, MerkleTree, Registry
from ledger.chain import verify_merkle_proof as verify
from ledger.cid import Cid
from ledger.content import ContentStore
from ledger.db import attestations, batch_members, documents, sync_state
from ledger.errors import InvalidInput, LedgerError
from ledger.index.events import (
    Event,
    EventDecoder,
    cid_text,
    decode_record_call,
    fp_key,
    parse_cid_or_none,
)
from ledger.index.queries import csv_text

CHUNK = 1000  # rows per round of batched JSON-RPC requests
RPC_BATCH = 1000  # calls per JSON-RPC batch request
STATUS_NAMES = {0: None, 1: "registered", 2: "revoked", 3: "superseded"}
VERDICT_NAMES = {0: None, 1: "verified", 2: "cleared", 3: "held", 4: "rejected"}


class ConsistencyError(LedgerError):
    """The chain could not be asked (an RPC error), or an export file cannot be read."""


@dataclass(frozen=True)
class Difference:
    """One field on which a row and the chain disagree."""

    kind: str  # document or attestation
    row_id: str  # fingerprint (hex) or attestation id (0x-hex)
    field: str
    index_value: Any
    chain_value: Any


@dataclass
class Report:
    documents: int = 0
    attestations: int = 0
    block: int = 0  # the block the views were read at
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "block": self.block,
            "documents_checked": self.documents,
            "attestations_checked": self.attestations,
            "differences": [asdict(d) for d in self.differences],
        }


@dataclass(frozen=True)
class DocRow:
    fingerprint: str  # lower-case hex without 0x
    cid: str
    doc_type: int
    consignment_ref: str
    metadata_cid: str | None
    issuer: str
    status: str
    registered_at: int
    batch_root: str | None
    superseded_by: str | None
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    proof: list[str] | None = None  # the index's Merkle proof of a batch member


@dataclass(frozen=True)
class AttRow:
    attestation_id: str
    fingerprint: str
    attester: str
    verdict: str
    customs_ref: str
    attested_at: int
    revoked: bool
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


_GET_DOCUMENT = _selector("getDocument(bytes32)")
_GET_BATCH = _selector("getBatch(bytes32)")
_GET_ATTESTATION = _selector("getAttestation(bytes32)")
_SUPERSEDED_BY = _selector("supersededBy(bytes32)")


def _words(data: str) -> list[int]:
    raw = bytes.fromhex(data[2:])
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


def _address(word: int) -> str:
    return to_checksum_address(word.to_bytes(20, "big"))


class Checker:
    """Checks rows of one deployed contract against its chain."""

    def __init__(self, registry: Registry, store: ContentStore | None = None) -> None:
        self.registry = registry
        self.address = registry.address
        self.store = store
        self.decoder = EventDecoder(registry.contract.abi)
        self._provider: Any = registry.w3.provider
        self._manifests: dict[str, tuple[MerkleTree, dict[str, int]] | None] = {}
        self.block = 0

    # ------------------------------------------------------------------ JSON-RPC

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(calls), RPC_BATCH):
            chunk = calls[i : i + RPC_BATCH]
            try:
                if not hasattr(self._provider, "make_batch_request"):
                    replies = [self._provider.make_request(m, p) for m, p in chunk]
                else:
                    replies = self._provider.make_batch_request(chunk)
            except Exception as exc:  # a connection error, a timeout: nothing was checked
                raise ConsistencyError(f"the chain did not answer {chunk[0][0]}: {exc}") from exc
            if not isinstance(replies, list):
                raise ConsistencyError(f"batch of {chunk[0][0]} failed: {replies.get('error')}")
            for (method, _), reply in zip(chunk, replies, strict=True):
                if "error" in reply:
                    raise ConsistencyError(f"{method} failed: {reply['error']}")
                out.append(reply["result"])
        return out

    def _call(self, selector: str, word: str) -> tuple[str, list[Any]]:
        data = selector + word.removeprefix("0x").rjust(64, "0")
        return ("eth_call", [{"to": self.address, "data": data}, hex(self.block)])

    def start(self, at_most: int | None = None) -> int:
        """Fix the block the views are read at: the head, or ``at_most`` if lower."""
        (head,) = self._batch([("eth_blockNumber", [])])
        self.block = int(head, 16) if at_most is None else min(int(head, 16), at_most)
        return self.block

    # ------------------------------------------------------------------ common

    def _origin(
        self,
        kind: str,
        row_id: str,
        row: DocRow | AttRow,
        receipt: dict[str, Any] | None,
        diffs: list[Difference],
    ) -> Event | None:
        """Check the row's block and find its log; returns the decoded event."""
        if receipt is None:
            diffs.append(Difference(kind, row_id, "tx_hash", row.tx_hash, None))
            return None
        number = int(receipt["blockNumber"], 16)
        if number != row.block_number:
            diffs.append(Difference(kind, row_id, "block_number", row.block_number, number))
        block_hash = str(receipt["blockHash"]).lower()
        if block_hash != row.block_hash.lower():
            diffs.append(Difference(kind, row_id, "block_hash", row.block_hash, block_hash))
        entry = next(
            (lg for lg in receipt["logs"] if int(lg["logIndex"], 16) == row.log_index), None
        )
        if entry is None:
            diffs.append(Difference(kind, row_id, "log_index", row.log_index, None))
            return None
        if str(entry["address"]).lower() != self.address.lower():
            diffs.append(Difference(kind, row_id, "log_address", self.address, entry["address"]))
            return None
        ev = self.decoder.decode(entry, 0)
        if ev is None:
            diffs.append(Difference(kind, row_id, "event", "known event", entry["topics"][:1]))
        return ev

    @staticmethod
    def _compare(
        diffs: list[Difference], kind: str, row_id: str, pairs: Iterable[tuple[str, Any, Any]]
    ) -> None:
        for name, ours, theirs in pairs:
            if ours != theirs:
                diffs.append(Difference(kind, row_id, name, ours, theirs))

    # ------------------------------------------------------------------ documents

    def check_documents(self, rows: Iterable[DocRow]) -> Iterator[list[Difference]]:
        """Differences of each chunk of rows (an empty list for a clean chunk)."""
        if not self.block:
            self.start()
        chunk: list[DocRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                yield self._documents_chunk(chunk)
                chunk = []
        if chunk:
            yield self._documents_chunk(chunk)

    def _documents_chunk(self, rows: list[DocRow]) -> list[Difference]:
        txs = sorted({r.tx_hash for r in rows})
        roots = sorted({r.batch_root for r in rows if r.batch_root})
        calls: list[tuple[str, list[Any]]] = [("eth_getTransactionReceipt", [t]) for t in txs]
        calls += [self._call(_GET_DOCUMENT, r.fingerprint) for r in rows]
        calls += [self._call(_GET_BATCH, root) for root in roots]
        answers = self._batch(calls)
        receipts = dict(zip(txs, answers[: len(txs)], strict=True))
        docs = answers[len(txs) : len(txs) + len(rows)]
        batches = dict(zip(roots, answers[len(txs) + len(rows) :], strict=True))
        diffs: list[Difference] = []
        superseded: list[tuple[DocRow, str | None]] = []
        recorded: dict[str, list[DocRow]] = {}  # tx hash -> rows whose proof is in calldata
        for row, doc_data in zip(rows, docs, strict=True):
            fp = row.fingerprint
            ev = self._origin("document", fp, row, receipts[row.tx_hash], diffs)
            w = _words(doc_data)
            chain_issuer, chain_time, chain_type = _address(w[0]), w[1], w[2]
            chain_status = STATUS_NAMES.get(w[3], str(w[3]))
            if row.batch_root is None:
                self._check_registered(row, ev, receipts[row.tx_hash], diffs)
                if chain_status is None:
                    diffs.append(Difference("document", fp, "status", row.status, None))
                else:
                    self._compare(
                        diffs,
                        "document",
                        fp,
                        [
                            ("status", row.status, chain_status),
                            ("issuer", row.issuer, chain_issuer),
                            ("doc_type", row.doc_type, chain_type),
                            ("registered_at", row.registered_at, chain_time),
                        ],
                    )
            else:
                if self._check_member(row, ev, diffs) == "calldata":
                    recorded.setdefault(row.tx_hash, []).append(row)
                b = _words(batches[row.batch_root])
                if b[0] == 0:
                    diffs.append(Difference("document", fp, "batch_root", row.batch_root, None))
                else:
                    batch_issuer, anchored_at = _address(b[0]), b[1]
                    pairs = [
                        ("issuer", row.issuer, batch_issuer),
                        ("registered_at", row.registered_at, anchored_at),
                    ]
                    if (chain_issuer, chain_time) == (batch_issuer, anchored_at):
                        # recorded from this batch (not registered again on its own later)
                        pairs.append(("doc_type", row.doc_type, chain_type))
                    self._compare(diffs, "document", fp, pairs)
                # a member never recorded on its own has no record: it stands registered,
                # unless its whole batch was revoked
                expected = chain_status or "registered"
                if b[0] != 0 and len(b) > 3 and b[3] and expected == "registered":
                    expected = "revoked"
                self._compare(diffs, "document", fp, [("status", row.status, expected)])
            if row.status == "superseded" or chain_status == "superseded":
                superseded.append((row, chain_status))
        self._check_calldata_proofs(recorded, diffs)
        self._check_superseded(superseded, diffs)
        return diffs

    def _check_registered(
        self,
        row: DocRow,
        ev: Event | None,
        receipt: dict[str, Any] | None,
        diffs: list[Difference],
    ) -> None:
        fp = row.fingerprint
        if ev is None:
            return
        if ev.name != "DocumentRegistered":
            diffs.append(Difference("document", fp, "event", "DocumentRegistered", ev.name))
            return
        a = ev.args
        cid = cid_text(bytes.fromhex(a["cidPrefix"][2:] + a["cidDigest"][2:]))
        meta: str | None = None
        for entry in (receipt or {}).get("logs", []):
            if str(entry["address"]).lower() != self.address.lower():
                continue
            other = self.decoder.decode(entry, 0)
            if (
                other is not None
                and other.name == "DocumentMetadataAnchored"
                and fp_key(other.args["fingerprint"]) == fp
            ):
                meta = parse_cid_or_none(other.args["metadataCid"])
        self._compare(
            diffs,
            "document",
            fp,
            [
                ("fingerprint", fp, fp_key(a["fingerprint"])),
                ("cid", row.cid, cid),
                ("doc_type", row.doc_type, a["docType"]),
                ("consignment_ref", row.consignment_ref, a["consignmentRef"]),
                ("issuer", row.issuer, a["issuer"]),
                ("metadata_cid", row.metadata_cid, meta),
            ],
        )

    def _check_member(self, row: DocRow, ev: Event | None, diffs: list[Difference]) -> str:
        """Check a batch member's origin log and proof; 'calldata' if the proof is in the tx."""
        fp, root = row.fingerprint, row.batch_root
        if ev is None:
            return "done"
        if ev.name == "BatchAnchored":
            self._compare(
                diffs,
                "document",
                fp,
                [("batch_root", root, ev.args["root"]), ("issuer", row.issuer, ev.args["issuer"])],
            )
            proof = row.proof
            if proof is None:
                proof = self._manifest_proof(ev.args["manifestCid"], ev.args["root"], fp)
            self._check_proof(row, proof, diffs)
            return "done"
        if ev.name == "BatchMemberRecorded":
            self._compare(
                diffs,
                "document",
                fp,
                [
                    ("batch_root", root, ev.args["root"]),
                    ("fingerprint", fp, fp_key(ev.args["fingerprint"])),
                ],
            )
            if row.proof is not None:
                self._check_proof(row, row.proof, diffs)
                return "done"
            return "calldata"
        diffs.append(Difference("document", fp, "event", "BatchAnchored", ev.name))
        return "done"

    def _manifest_proof(self, manifest_hex: str, root: str, fp: str) -> list[str] | None:
        """The proof of ``fp`` rebuilt from the batch's manifest (None: the store lacks it)."""
        if root not in self._manifests:
            self._manifests[root] = None
            if self.store is not None and len(manifest_hex) > 2:
                try:
                    cid = Cid.parse(bytes.fromhex(manifest_hex[2:]))
                    loaded = Manifest.from_json(b"".join(self.store.get(cid)))
                    tree = loaded.tree()
                    if "0x" + tree.root.hex() == root:
                        positions = {e.fingerprint.lower(): i for i, e in enumerate(loaded.entries)}
                        self._manifests[root] = (tree, positions)
                except (LedgerError, ValueError):
                    pass
        cached = self._manifests[root]
        if cached is None:
            return None
        tree, positions = cached
        if fp not in positions:
            return []  # not a member of this manifest: no proof verifies
        return ["0x" + p.hex() for p in tree.proof(positions[fp])]

    def _check_proof(self, row: DocRow, proof: list[str] | None, diffs: list[Difference]) -> None:
        fp, root = row.fingerprint, str(row.batch_root)
        if proof is None:
            diffs.append(Difference("document", fp, "merkle_proof", None, "unavailable"))
            return
        try:
            member = BatchMember(
                bytes.fromhex(fp), row.doc_type, bytes(Cid.parse(row.cid)), row.consignment_ref
            )
            leaf = member.leaf()
        except (LedgerError, ValueError):
            diffs.append(Difference("document", fp, "cid", row.cid, "not a sha2-256 CIDv1"))
            return
        if not verify([bytes.fromhex(p[2:]) for p in proof], bytes.fromhex(root[2:]), leaf):
            fields = {
                "cid": row.cid,
                "doc_type": row.doc_type,
                "consignment_ref": row.consignment_ref,
            }
            diffs.append(
                Difference("document", fp, "batch_member", fields, f"no Merkle proof under {root}")
            )

    def _check_calldata_proofs(
        self, recorded: dict[str, list[DocRow]], diffs: list[Difference]
    ) -> None:
        hashes = sorted(recorded)
        txs = self._batch([("eth_getTransactionByHash", [h]) for h in hashes])
        for tx_hash, tx in zip(hashes, txs, strict=True):
            member = None
            if tx is not None:
                member = decode_record_call(str(tx.get("input") or tx.get("data") or ""))
            for row in recorded[tx_hash]:
                proof = member.proof if member and member.fingerprint == row.fingerprint else None
                self._check_proof(row, proof, diffs)

    def _check_superseded(
        self, rows: list[tuple[DocRow, str | None]], diffs: list[Difference]
    ) -> None:
        answers = self._batch([self._call(_SUPERSEDED_BY, r.fingerprint) for r, _ in rows])
        for (row, _), value in zip(rows, answers, strict=True):
            chain = value[2:].lower() if int(value, 16) else None
            self._compare(
                diffs, "document", row.fingerprint, [("superseded_by", row.superseded_by, chain)]
            )

    # ------------------------------------------------------------------ attestations

    def check_attestations(self, rows: Iterable[AttRow]) -> Iterator[list[Difference]]:
        if not self.block:
            self.start()
        chunk: list[AttRow] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                yield self._attestations_chunk(chunk)
                chunk = []
        if chunk:
            yield self._attestations_chunk(chunk)

    def _attestations_chunk(self, rows: list[AttRow]) -> list[Difference]:
        txs = sorted({r.tx_hash for r in rows})
        calls: list[tuple[str, list[Any]]] = [("eth_getTransactionReceipt", [t]) for t in txs]
        calls += [self._call(_GET_ATTESTATION, r.attestation_id) for r in rows]
        answers = self._batch(calls)
        receipts = dict(zip(txs, answers[: len(txs)], strict=True))
        diffs: list[Difference] = []
        for row, data in zip(rows, answers[len(txs) :], strict=True):
            aid = row.attestation_id
            ev = self._origin("attestation", aid, row, receipts[row.tx_hash], diffs)
            if ev is not None and ev.name != "AttestationRecorded":
                diffs.append(
                    Difference("attestation", aid, "event", "AttestationRecorded", ev.name)
                )
            elif ev is not None:
                a = ev.args
                self._compare(
                    diffs,
                    "attestation",
                    aid,
                    [
                        ("attestation_id", aid, a["id"]),
                        ("fingerprint", row.fingerprint, fp_key(a["fingerprint"])),
                        ("attester", row.attester, a["attester"]),
                        ("verdict", row.verdict, VERDICT_NAMES.get(a["verdict"])),
                        ("customs_ref", row.customs_ref, a["customsRef"]),
                    ],
                )
            w = _words(data)
            if w[0] == 0:
                diffs.append(Difference("attestation", aid, "attestation_id", aid, None))
                continue
            self._compare(
                diffs,
                "attestation",
                aid,
                [
                    ("attested_at", row.attested_at, w[1]),
                    ("revoked", row.revoked, bool(w[3])),
                ],
            )
        return diffs


# ---------------------------------------------------------------------- row sources


def _opt(value: Any) -> Any:
    return None if value in ("", None) else value


def doc_row_from_export(item: dict[str, Any]) -> DocRow:
    """A row of an export (``ledger.queries.export_csv``/``export_json``, or a page item)."""
    issuer = item.get("issuer")
    issuer_key = issuer["key"] if isinstance(issuer, dict) else item.get("issuer_key", issuer)
    try:
        return DocRow(
            fingerprint=str(item["sha256"]).lower().removeprefix("0x"),
            cid=str(item["cid"]),
            doc_type=int(item["doc_type"]),
            consignment_ref=str(item["consignment_ref"] or ""),
            metadata_cid=_opt(item.get("metadata_cid")),
            issuer=str(issuer_key),
            status=str(item["status"]),
            registered_at=times.parse(str(item["registered_at"])),
            batch_root=_opt(item.get("batch_root")),
            superseded_by=_opt(item.get("superseded_by")),
            tx_hash=str(item["tx_hash"]).lower(),
            block_number=int(item["block_number"]),
            block_hash=str(item["block_hash"]).lower(),
            log_index=int(item["log_index"]),
        )
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise ConsistencyError(f"not a document row of an export: {exc!r}") from exc


def read_export(path: Path) -> Iterator[DocRow]:
    """The document rows of a CSV or JSON export file (by content: JSON starts with '{', or
    '[' in version 1)."""
    with path.open(encoding="utf-8", newline="") as handle:
        first = handle.read(1)
        while first.isspace():
            first = handle.read(1)
        handle.seek(0)
        if first in ("{", "["):
            try:
                items = json.load(handle)
            except json.JSONDecodeError as exc:
                raise ConsistencyError(f"{path}: not valid JSON: {exc}") from exc
            if isinstance(items, dict):  # version 2: {"export_version": 2, "items": [...]}
                items = items.get("items")
            if not isinstance(items, list):
                raise ConsistencyError(
                    f"{path}: a JSON export is an object with an items array of documents "
                    "(or, in version 1, the array itself)"
                )
            for item in items:
                yield doc_row_from_export(item)
        else:
            yield from _read_csv(handle)


def _read_csv(handle: TextIO) -> Iterator[DocRow]:
    for item in csv.DictReader(handle):
        yield doc_row_from_export({k: csv_text(v or "") for k, v in item.items()})


def index_documents(
    engine: Engine, chunk: int = CHUNK, max_block: int | None = None
) -> Iterator[DocRow]:
    """Every document row of the index (up to ``max_block``), with the index's proof for
    batch members."""
    d = documents.c
    query = select(
        d.fingerprint,
        d.cid,
        d.doc_type,
        d.consignment_ref,
        d.metadata_cid,
        d.issuer,
        d.status,
        d.registered_at,
        d.batch_root,
        d.superseded_by,
        d.tx_hash,
        d.block_number,
        d.block_hash,
        d.log_index,
        batch_members.c.proof,
    ).select_from(
        documents.outerjoin(
            batch_members,
            and_(
                batch_members.c.fingerprint == d.fingerprint, batch_members.c.root == d.batch_root
            ),
        )
    )
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                query.where(d.fingerprint > last).order_by(d.fingerprint).limit(chunk)
            ).all()
        for r in rows:
            if max_block is not None and r.block_number > max_block:
                continue
            yield DocRow(
                r.fingerprint,
                r.cid,
                int(r.doc_type),
                r.consignment_ref,
                r.metadata_cid,
                r.issuer,
                r.status,
                int(r.registered_at),
                r.batch_root,
                r.superseded_by,
                r.tx_hash,
                int(r.block_number),
                r.block_hash,
                int(r.log_index),
                json.loads(r.proof) if r.proof else None,
            )
        if len(rows) < chunk:
            return
        last = rows[-1].fingerprint


def index_attestations(
    engine: Engine, chunk: int = CHUNK, max_block: int | None = None
) -> Iterator[AttRow]:
    a = attestations.c
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(attestations)
                .where(a.attestation_id > last)
                .order_by(a.attestation_id)
                .limit(chunk)
            ).all()
        for r in rows:
            if max_block is not None and r.block_number > max_block:
                continue
            yield AttRow(
                r.attestation_id,
                r.fingerprint,
                r.attester,
                r.verdict,
                r.customs_ref,
                int(r.attested_at),
                bool(r.revoked),
                r.tx_hash,
                int(r.block_number),
                r.block_hash,
                int(r.log_index),
            )
        if len(rows) < chunk:
            return
        last = rows[-1].attestation_id


Progress = Callable[[int], None]  # rows checked so far


def check_index(
    engine: Engine,
    checker: Checker,
    progress: Progress | None = None,
) -> Report:
    """Check every document and attestation row of the index against the chain.

    The chain's views are read at the block the index has reached (``sync_state``), so a
    revocation the indexer has not seen yet is not reported; rows an indexer writes while
    the check runs (above that block) are left out.
    """
    with engine.connect() as conn:
        indexed = conn.execute(select(sync_state.c.block_number)).scalar()
    report = Report(block=checker.start(None if indexed is None else int(indexed)))
    done = 0
    docs = index_documents(engine, max_block=report.block)
    for diffs, size in _counted(checker.check_documents, docs):
        report.documents += size
        report.differences.extend(diffs)
        done += size
        if progress is not None:
            progress(done)
    atts = index_attestations(engine, max_block=report.block)
    for diffs, size in _counted(checker.check_attestations, atts):
        report.attestations += size
        report.differences.extend(diffs)
        done += size
        if progress is not None:
            progress(done)
    return report


def check_export(path: Path, checker: Checker, progress: Progress | None = None) -> Report:
    """Check the document rows of an export file (CSV or JSON) against the chain."""
    report = Report(block=checker.start())
    for diffs, size in _counted(checker.check_documents, read_export(path)):
        report.documents += size
        report.differences.extend(diffs)
        if progress is not None:
            progress(report.documents)
    return report


def _counted(
    check: Callable[[Iterable[Any]], Iterator[list[Difference]]], rows: Iterable[Any]
) -> Iterator[tuple[list[Difference], int]]:
    """The differences of each chunk with the number of rows the chunk held."""
    counter = [0]

    def counting() -> Iterator[Any]:
        for row in rows:
            counter[0] += 1
            yield row

    seen = 0
    for diffs in check(counting()):
        yield diffs, counter[0] - seen
        seen = counter[0]
