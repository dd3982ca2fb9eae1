"""Reading the index: a document's record, its history and its attestations, as plain values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from ledger.db import attestations, batch_members, batches, documents, keys, organisations
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


def _issuer_columns(key_column: Any) -> list[Any]:
    """The columns of an issuer (key + organisation), labelled, for an outer join on ``key_column``."""
    return [
        key_column.label("i_key"),
        keys.c.org_id.label("i_org_id"),
        keys.c.valid_from.label("i_valid_from"),
        keys.c.valid_until.label("i_valid_until"),
        organisations.c.name.label("i_name"),
        organisations.c.country.label("i_country"),
        organisations.c.kind.label("i_kind"),
    ]


def _join_issuer(table: Any, key_column: Any) -> Any:
    return table.outerjoin(keys, keys.c.address == key_column).outerjoin(
        organisations, organisations.c.org_id == keys.c.org_id
    )


def _issuer_of(row: Any) -> Issuer:
    if row.i_name is None:  # no key row, or a key of no known organisation
        return Issuer(row.i_key, None, None, None, None)
    return Issuer(
        row.i_key,
        row.i_org_id,
        row.i_name,
        row.i_country,
        row.i_kind,
        row.i_valid_from,
        row.i_valid_until,
    )


def issuer(engine: Engine, key: str) -> Issuer:
    """The organisation behind signing key ``key`` (its fields None if no organisation has it)."""
    (sql,) = _compiled(engine, _ISSUER)
    with _cursor(engine) as cur:
        row = sql.first(cur, key)
    return Issuer(key, None, None, None, None) if row is None else _issuer_of(row)


# One statement per read (built once; SQLAlchemy caches its compiled form): the document,
# its issuer and its Merkle proof (the first by primary key, as before) in one row.
_PROOF = (
    select(batch_members.c.proof)
    .where(batch_members.c.fingerprint == documents.c.fingerprint)
    .order_by(batch_members.c.root)
    .limit(1)
    .scalar_subquery()
)
_DOCUMENT = (
    select(documents, *_issuer_columns(documents.c.issuer), _PROOF.label("proof"))
    .select_from(_join_issuer(documents, documents.c.issuer))
    .where(documents.c.fingerprint == bindparam("value"))
)
_ISSUER = (
    select(*_issuer_columns(keys.c.address))
    .select_from(keys.join(organisations, organisations.c.org_id == keys.c.org_id))
    .where(keys.c.address == bindparam("value"))
)
_ATTESTATIONS = (
    select(attestations, *_issuer_columns(attestations.c.attester))
    .select_from(_join_issuer(attestations, attestations.c.attester))
    .where(attestations.c.fingerprint == bindparam("value"))
    .order_by(attestations.c.block_number, attestations.c.log_index)
)


@dataclass(frozen=True)
class BatchView:
    """A batch as the index knows it: who anchored it, and its members' statuses."""

    root: str
    org_id: int
    issuer: str
    size: int
    members: dict[str, str]  # fingerprint -> status


def batch(engine: Engine, root: str) -> BatchView | None:
    """The batch anchored under ``root`` (0x-hex), or None if the index has none."""
    with engine.connect() as conn:
        row = conn.execute(select(batches).where(batches.c.root == root)).first()
        if row is None:
            return None
        members = conn.execute(
            select(documents.c.fingerprint, documents.c.status).where(
                documents.c.batch_root == root
            )
        ).all()
    return BatchView(
        root, int(row.org_id), row.issuer, int(row.size), {m.fingerprint: m.status for m in members}
    )


def document(engine: Engine, sha256: str) -> DocumentView | None:
    (sql,) = _compiled(engine, _DOCUMENT)
    with _cursor(engine) as cur:
        row = sql.first(cur, sha256)
    return None if row is None else _document_view(row)


def document_and_attestations(
    engine: Engine, sha256: str
) -> tuple[DocumentView | None, list[AttestationView]]:
    """The record and its attestations: the hot read of verification."""
    doc_sql, att_sql = _compiled(engine, _DOCUMENT, _ATTESTATIONS)
    with _cursor(engine) as cur:
        row = doc_sql.first(cur, sha256)
        if row is None:
            return None, []
        return _document_view(row), [_attestation_view(r) for r in att_sql.all(cur, sha256)]


@contextmanager
def _cursor(engine: Engine) -> Iterator[Any]:
    """A DBAPI cursor on a pooled connection.

    The hot reads (a registration's duplicate check and issuer, a verification) run
    statements compiled once per engine on it directly: SQLAlchemy's per-execution work
    (about 0.2 ms here, ten times SQLite's own point lookup) was most of their cost.
    """
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        try:
            yield cur
        finally:
            cur.close()
    finally:
        conn.close()  # back to the pool


class _Raw:
    """A statement of one bound ``value``, compiled for one dialect, run on a DBAPI cursor;
    rows by column name."""

    def __init__(self, statement: Any, engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        self.compiled = compiled

    def _params(self, value: str) -> Any:
        params = self.compiled.construct_params({"value": value})
        if self.compiled.positional:
            return tuple(params[name] for name in self.compiled.positiontup)
        return params

    def _rows(self, cur: Any, value: str) -> tuple[list[str], list[Any]]:
        cur.execute(self.sql, self._params(value))
        return [d[0] for d in cur.description], cur.fetchall()

    def first(self, cur: Any, value: str) -> Any | None:
        names, rows = self._rows(cur, value)
        return _Row(dict(zip(names, rows[0], strict=True))) if rows else None

    def all(self, cur: Any, value: str) -> list[Any]:
        names, rows = self._rows(cur, value)
        return [_Row(dict(zip(names, r, strict=True))) for r in rows]


class _Row(dict[str, Any]):
    """A row whose columns read as attributes, like SQLAlchemy's."""

    __getattr__ = dict.__getitem__


@lru_cache(maxsize=64)
def _compiled(engine: Engine, *statements: Any) -> tuple[_Raw, ...]:
    return tuple(_Raw(s, engine) for s in statements)


def _document_view(row: Any) -> DocumentView:
    return DocumentView(
        sha256=row.fingerprint,
        cid=row.cid,
        doc_type=row.doc_type,
        doc_type_name=DOCUMENT_TYPES.get(row.doc_type, "unknown"),
        consignment_ref=row.consignment_ref,
        metadata_cid=row.metadata_cid,
        issuer=_issuer_of(row),
        status=row.status,
        registered_at=row.registered_at,
        origin=Origin(row.tx_hash, row.block_number, row.block_hash, row.log_index),
        batch_root=row.batch_root,
        merkle_proof=json.loads(row.proof) if row.proof else None,
        superseded_by=row.superseded_by,
        supersedes=row.supersedes,
        revoked_reason=row.revoked_reason,
        revoked_by=row.revoked_by,
        revoked_at=row.revoked_at,
    )


def attestations_of(engine: Engine, sha256: str) -> list[AttestationView]:
    with engine.connect() as conn:
        return _attestations(conn, sha256)


def _attestations(conn: Connection, sha256: str) -> list[AttestationView]:
    return [_attestation_view(r) for r in conn.execute(_ATTESTATIONS, {"value": sha256}).all()]


def _attestation_view(r: Any) -> AttestationView:
    return AttestationView(
        r.attestation_id,
        r.fingerprint,
        r.verdict,
        r.customs_ref,
        r.attested_at,
        bool(r.revoked),
        _issuer_of(r),
        Origin(r.tx_hash, r.block_number, r.block_hash, r.log_index),
    )


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
