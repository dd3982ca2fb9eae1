"""How acknowledged work looks to the caller: the record of an outbox job or of a receipt.

The index answers for what it holds (``ledger.index.records``); for work the index has not
seen yet, the record is built here from the job's payload: ``pending`` until its transaction
is mined, then ``registered`` with the block it landed in. Outbox results are stored as the
JSON of these records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Engine

from ledger.chain import Manifest
from ledger.doctypes import DOCUMENT_TYPES
from ledger.errors import NotFound
from ledger.flows.outbox import EXPIRED, Job
from ledger.index import DocumentView, Issuer, Origin, records


def pending(engine: Engine, job: Job) -> DocumentView:
    """The record a job will create, before its transaction is mined."""
    p = job.payload
    if job.kind == "batch":  # a batch job stands for no single document
        raise NotFound(f"{job.subject} is a batch root, not a document fingerprint")
    return DocumentView(
        sha256=p["fingerprint"],
        cid=p["cid"],
        doc_type=p["doc_type"],
        doc_type_name=DOCUMENT_TYPES.get(p["doc_type"], "unknown"),
        consignment_ref=p["consignment_ref"],
        metadata_cid=p.get("metadata_cid"),
        issuer=records.issuer(engine, p["issuer"]),
        status="pending",
        registered_at=None,
        origin=None,
        supersedes=p.get("supersedes"),
    )


def registered(engine: Engine, job: Job, registered_at: int, origin: Origin | None) -> DocumentView:
    """The record of a job whose transaction was mined at ``origin`` (None: on chain, the
    contract says, but where is not known yet)."""
    return replace(
        pending(engine, job), status="registered", registered_at=registered_at, origin=origin
    )


NEEDS_SIGNATURE = "needs_signature"  # the status of a relayed request that expired unsent


def of_job(engine: Engine, job: Job) -> DocumentView:
    """The record of a job that is done (its stored result), still pending, or expired
    before the chain took it (``needs_signature``)."""
    if job.state == EXPIRED:
        return replace(pending(engine, job), status=NEEDS_SIGNATURE)
    if job.result is not None:
        return from_json(job.result)
    return pending(engine, job)


def batch_members(
    engine: Engine, job: Job, manifest: Manifest, result: dict[str, Any] | None
) -> list[DocumentView]:
    """One record per member of a batch job, with its Merkle proof; registered once the
    job's ``result`` (block time and origin) is known, pending before."""
    return _members(engine, job, manifest, result, range(len(manifest.entries)))


def batch_member(engine: Engine, job: Job, manifest: Manifest, position: int) -> DocumentView:
    """The record of the member at ``position`` of a batch job (as ``batch_members``)."""
    return _members(engine, job, manifest, job.result, [position])[0]


def _members(
    engine: Engine,
    job: Job,
    manifest: Manifest,
    result: dict[str, Any] | None,
    positions: Iterable[int],
) -> list[DocumentView]:
    origin = Origin(**result["origin"]) if result and result.get("origin") else None
    at = result["registered_at"] if result else None
    tree = manifest.tree()
    issuer = records.issuer(engine, job.payload["issuer"])
    entries = manifest.entries
    return [
        DocumentView(
            sha256=e.fingerprint,
            cid=e.cid,
            doc_type=e.doc_type,
            doc_type_name=DOCUMENT_TYPES.get(e.doc_type, "unknown"),
            consignment_ref=e.consignment_ref,
            metadata_cid=e.metadata_cid,
            issuer=issuer,
            status="registered" if result else "pending",
            registered_at=at,
            origin=origin,
            batch_root=job.subject,
            merkle_proof=["0x" + h.hex() for h in tree.proof(i)],
        )
        for i, e in ((i, entries[i]) for i in positions)
    ]


def to_json(view: DocumentView) -> dict[str, Any]:
    return asdict(view)


def from_json(data: dict[str, Any]) -> DocumentView:
    issuer = Issuer(**data["issuer"])
    origin = Origin(**data["origin"]) if data.get("origin") else None
    return DocumentView(**{**data, "issuer": issuer, "origin": origin})
