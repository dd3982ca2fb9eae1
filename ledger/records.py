"""Reading the index: a document's record, its history and its attestations, as plain values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from ledger.db import attestations, batch_members, documents, keys, organisations
from ledger.doctypes import DOCUMENT_TYPES


@dataclass(frozen=True)
class Issuer:
    key: str
    org_id: int | None
    name: str | None
    country: str | None
    kind: str | None
    key_valid_from: int | None = None
    key_valid_until: int | None = None


@dataclass(frozen=True)
class Origin:
    """Where a record came from on chain."""

    tx_hash: str
    block_number: int
    block_hash: str | None
    log_index: int | None


@dataclass(frozen=True)
class AttestationView:
    attestation_id: str
    fingerprint: str
    verdict: str
    customs_ref: str
    attested_at: int
    revoked: bool
    attester: Issuer
    origin: Origin


@dataclass(frozen=True)
class HistoryEntry:
    at: int | None
    what: str  # registered, supersedes, superseded, revoked, attested, attestation_revoked
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentView:
    sha256: str
    cid: str
    doc_type: int
    doc_type_name: str
    consignment_ref: str
    metadata_cid: str | None
    issuer: Issuer
    status: str  # registered, revoked, superseded, pending
    registered_at: int | None
    origin: Origin | None
    batch_root: str | None = None
    merkle_proof: list[str] | None = None
    superseded_by: str | None = None
    supersedes: str | None = None
    revoked_reason: int | None = None
    revoked_by: str | None = None
    revoked_at: int | None = None


def issuer(engine: Engine, key: str) -> Issuer:
    with engine.connect() as conn:
        row = conn.execute(
            select(
                keys.c.org_id,
                keys.c.valid_from,
                keys.c.valid_until,
                organisations.c.name,
                organisations.c.country,
                organisations.c.kind,
            )
            .select_from(keys.join(organisations, keys.c.org_id == organisations.c.org_id))
            .where(keys.c.address == key)
        ).first()
    if row is None:
        return Issuer(key, None, None, None, None)
    return Issuer(key, row.org_id, row.name, row.country, row.kind, row.valid_from, row.valid_until)


def document(engine: Engine, sha256: str) -> DocumentView | None:
    with engine.connect() as conn:
        row = conn.execute(select(documents).where(documents.c.fingerprint == sha256)).first()
        proof_row = conn.execute(
            select(batch_members.c.proof).where(batch_members.c.fingerprint == sha256)
        ).first()
    if row is None:
        return None
    return DocumentView(
        sha256=row.fingerprint,
        cid=row.cid,
        doc_type=row.doc_type,
        doc_type_name=DOCUMENT_TYPES.get(row.doc_type, "unknown"),
        consignment_ref=row.consignment_ref,
        metadata_cid=row.metadata_cid,
        issuer=issuer(engine, row.issuer),
        status=row.status,
        registered_at=row.registered_at,
        origin=Origin(row.tx_hash, row.block_number, row.block_hash, row.log_index),
        batch_root=row.batch_root,
        merkle_proof=json.loads(proof_row.proof) if proof_row else None,
        superseded_by=row.superseded_by,
        supersedes=row.supersedes,
        revoked_reason=row.revoked_reason,
        revoked_by=row.revoked_by,
        revoked_at=row.revoked_at,
    )


def attestations_of(engine: Engine, sha256: str) -> list[AttestationView]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(attestations)
            .where(attestations.c.fingerprint == sha256)
            .order_by(attestations.c.block_number, attestations.c.log_index)
        ).all()
    return [
        AttestationView(
            r.attestation_id,
            r.fingerprint,
            r.verdict,
            r.customs_ref,
            r.attested_at,
            bool(r.revoked),
            issuer(engine, r.attester),
            Origin(r.tx_hash, r.block_number, r.block_hash, r.log_index),
        )
        for r in rows
    ]


def history(doc: DocumentView, atts: list[AttestationView]) -> list[HistoryEntry]:
    """What happened to a document, oldest first."""
    entries = [HistoryEntry(doc.registered_at, "registered", {"issuer": doc.issuer.key})]
    if doc.supersedes:
        entries.append(HistoryEntry(doc.registered_at, "supersedes", {"sha256": doc.supersedes}))
    for a in atts:
        entries.append(
            HistoryEntry(a.attested_at, "attested", {"verdict": a.verdict, "by": a.attester.name})
        )
        if a.revoked:
            entries.append(
                HistoryEntry(None, "attestation_revoked", {"attestation_id": a.attestation_id})
            )
    if doc.superseded_by:
        entries.append(HistoryEntry(None, "superseded", {"by": doc.superseded_by}))
    if doc.status == "revoked":
        entries.append(
            HistoryEntry(
                doc.revoked_at, "revoked", {"reason": doc.revoked_reason, "by": doc.revoked_by}
            )
        )
    return entries
