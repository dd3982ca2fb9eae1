"""Auditors' queries over the index: filtered documents and attestations with stable
(keyset) pagination, counts per day and per document type, and streamed CSV/JSON export.

Everything is SQLAlchemy Core, so the same queries run on SQLite and PostgreSQL. Pages are
ordered newest first by (time, id); a cursor is the last row's (time, id), so results stay
stable while new rows arrive.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.sql import Select

from ledger.db import attestations, disclosures, documents, events, organisations
from ledger.doctypes import DOCUMENT_TYPES
from ledger.errors import InvalidInput
from ledger.times import iso

MAX_LIMIT = 1000
STATUSES = ("registered", "revoked", "superseded")
VERDICTS = ("verified", "cleared", "held", "rejected")


@dataclass(frozen=True)
class DocumentFilter:
    org_id: int | None = None
    doc_type: int | None = None
    consignment_ref: str | None = None
    status: str | None = None
    attester_org_id: int | None = None
    verdict: str | None = None
    time_from: int | None = None  # unix seconds, inclusive
    time_to: int | None = None  # unix seconds, exclusive
    country_of_origin: str | None = None  # as disclosed by the issuer (issue 16)
    hs_code: str | None = None  # as disclosed, dots ignored

    def check(self) -> DocumentFilter:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        if self.verdict is not None and self.verdict not in VERDICTS:
            raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}")
        if self.doc_type is not None and self.doc_type not in DOCUMENT_TYPES:
            raise InvalidInput(f"unknown document type {self.doc_type}")
        if (
            self.time_from is not None
            and self.time_to is not None
            and self.time_to <= self.time_from
        ):
            raise InvalidInput("the time range is empty: 'to' must be after 'from'")
        return self


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(t: int, key: str) -> str:
    return base64.urlsafe_b64encode(f"{t}:{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        t, key = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        return int(t), key
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "invalid cursor: pass back the next_cursor of the previous page unchanged"
        ) from exc


def _attested(f: DocumentFilter) -> bool:
    """Both attester and verdict given: the page is read from the attestations' index."""
    return f.attester_org_id is not None and f.verdict is not None


def _documents_query(f: DocumentFilter) -> Select[Any]:
    """The documents matching ``f``, unordered.

    With an attester and a verdict, the rows come from the attestations' index on
    (attester, verdict, document time, fingerprint) joined to their documents: the
    newest-first order is that index's, so a page is one range read (a document attested
    twice alike appears twice: ``find_documents`` skips the repeat). Otherwise documents are
    read by their own indexes, with an ``EXISTS`` probe for an attester or a verdict alone.
    """
    org = organisations.alias("org")
    d, a = documents.c, attestations.c
    attested = _attested(f)
    source = attestations.join(documents, d.fingerprint == a.fingerprint) if attested else documents
    q = select(
        d.fingerprint,
        d.cid,
        d.doc_type,
        d.consignment_ref,
        d.metadata_cid,
        d.issuer,
        d.org_id,
        org.c.name.label("organisation"),
        org.c.country,
        d.status,
        d.registered_at,
        d.batch_root,
        d.superseded_by,
        d.supersedes,
        d.revoked_reason,
        d.revoked_at,
        d.tx_hash,
        d.block_number,
        d.block_hash,
        d.log_index,
    ).select_from(source.outerjoin(org, org.c.org_id == d.org_id))
    conds = []
    if f.org_id is not None:
        conds.append(d.org_id == f.org_id)
    if f.doc_type is not None:
        conds.append(d.doc_type == f.doc_type)
    if f.consignment_ref is not None:
        conds.append(d.consignment_ref == f.consignment_ref)
    if f.status is not None:
        conds.append(d.status == f.status)
    time, _ = _order(f)
    if f.time_from is not None:
        conds.append(time >= f.time_from)
    if f.time_to is not None:
        conds.append(time < f.time_to)
    for field, value in (
        ("country_of_origin", f.country_of_origin),
        ("hs_code", None if f.hs_code is None else f.hs_code.replace(".", "")),
    ):
        if value is not None:
            x = disclosures.c
            conds.append(
                exists().where(
                    x.fingerprint == d.fingerprint, x.field == field, x.value == value.upper()
                )
            )
    if attested:
        conds += [a.org_id == f.attester_org_id, a.verdict == f.verdict]
    elif f.attester_org_id is not None or f.verdict is not None:
        att = [a.fingerprint == d.fingerprint]
        if f.attester_org_id is not None:
            att.append(a.org_id == f.attester_org_id)
        if f.verdict is not None:
            att.append(a.verdict == f.verdict)
        conds.append(exists().where(and_(*att)))
    return q.where(*conds)


def _order(f: DocumentFilter) -> tuple[Any, Any]:
    """The (time, fingerprint) columns a page of ``f`` is ordered and cut by."""
    if _attested(f):
        return attestations.c.doc_registered_at, attestations.c.fingerprint
    return documents.c.registered_at, documents.c.fingerprint


def _document_row(r: Any) -> dict[str, Any]:
    return {
        "sha256": r.fingerprint,
        "cid": r.cid,
        "doc_type": r.doc_type,
        "doc_type_name": DOCUMENT_TYPES.get(r.doc_type, "unknown"),
        "consignment_ref": r.consignment_ref,
        "metadata_cid": r.metadata_cid,
        "issuer": {
            "key": r.issuer,
            "organisation_id": r.org_id,
            "organisation": r.organisation,
            "country": r.country,
        },
        "status": r.status,
        "registered_at": iso(r.registered_at),
        "batch_root": r.batch_root,
        "superseded_by": r.superseded_by,
        "supersedes": r.supersedes,
        "revoked_reason": r.revoked_reason,
        "revoked_at": iso(r.revoked_at),
        "tx_hash": r.tx_hash,
        "block_number": r.block_number,
        "block_hash": r.block_hash,
        "log_index": r.log_index,
    }


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def find_documents(
    engine: Engine, f: DocumentFilter, cursor: str | None = None, limit: int = 100
) -> Page:
    """One page of documents matching ``f``, newest first."""
    q = _documents_query(f.check())
    _limit(limit)
    time, key = _order(f)
    after = decode_cursor(cursor) if cursor else None
    rows: list[Any] = []
    seen: set[str] = set()
    with engine.connect() as conn:
        while len(rows) <= limit:
            page = q
            if after is not None:
                t, k = after
                # the plain bound lets the database seek the time index (the OR alone makes
                # PostgreSQL scan from the newest row on every page)
                page = page.where(time <= t, or_(time < t, and_(time == t, key < k)))
            want = limit + 1 - len(rows)
            fetched = conn.execute(page.order_by(time.desc(), key.desc()).limit(want)).all()
            for r in fetched:
                if r.fingerprint not in seen:  # only repeats when read via attestations
                    seen.add(r.fingerprint)
                    rows.append(r)
            if len(fetched) < want:
                break
            after = (fetched[-1].registered_at, fetched[-1].fingerprint)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1].registered_at, rows[-1].fingerprint) if more and rows else None
    return Page([_document_row(r) for r in rows], nxt)


@dataclass(frozen=True)
class AttestationFilter:
    fingerprint: str | None = None
    attester_org_id: int | None = None
    verdict: str | None = None
    time_from: int | None = None
    time_to: int | None = None


def find_attestations(
    engine: Engine, f: AttestationFilter, cursor: str | None = None, limit: int = 100
) -> Page:
    """One page of attestations matching ``f``, newest first."""
    if f.verdict is not None and f.verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}")
    org = organisations.alias("org")
    q = select(attestations, org.c.name.label("organisation"), org.c.country).select_from(
        attestations.outerjoin(org, org.c.org_id == attestations.c.org_id)
    )
    a = attestations.c
    for cond, value in (
        (a.fingerprint, f.fingerprint),
        (a.org_id, f.attester_org_id),
        (a.verdict, f.verdict),
    ):
        if value is not None:
            q = q.where(cond == value)
    if f.time_from is not None:
        q = q.where(a.attested_at >= f.time_from)
    if f.time_to is not None:
        q = q.where(a.attested_at < f.time_to)
    if cursor:
        t, key = decode_cursor(cursor)
        q = q.where(
            a.attested_at <= t,
            or_(a.attested_at < t, and_(a.attested_at == t, a.attestation_id < key)),
        )
    q = q.order_by(a.attested_at.desc(), a.attestation_id.desc()).limit(_limit(limit) + 1)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {
            "attestation_id": r.attestation_id,
            "sha256": r.fingerprint,
            "verdict": r.verdict,
            "reference": r.customs_ref,
            "attested_at": iso(r.attested_at),
            "revoked": bool(r.revoked),
            "attester": {
                "key": r.attester,
                "organisation_id": r.org_id,
                "organisation": r.organisation,
                "country": r.country,
            },
            "tx_hash": r.tx_hash,
            "block_number": r.block_number,
            "block_hash": r.block_hash,
            "log_index": r.log_index,
        }
        for r in rows
    ]
    nxt = encode_cursor(rows[-1].attested_at, rows[-1].attestation_id) if more and rows else None
    return Page(items, nxt)


def daily_counts(
    engine: Engine, time_from: int | None = None, time_to: int | None = None
) -> list[dict[str, Any]]:
    """Registrations and attestations per UTC day."""

    def per_day(column: Any) -> dict[int, int]:
        day = (column // 86400).label("day")
        q = select(day, func.count()).group_by(day)
        if time_from is not None:
            q = q.where(column >= time_from)
        if time_to is not None:
            q = q.where(column < time_to)
        with engine.connect() as conn:
            return {int(d): int(n) for d, n in conn.execute(q).all()}

    regs = per_day(documents.c.registered_at)
    atts = per_day(attestations.c.attested_at)
    return [
        {
            "day": datetime.fromtimestamp(d * 86400, UTC).date().isoformat(),
            "registrations": regs.get(d, 0),
            "attestations": atts.get(d, 0),
        }
        for d in sorted(set(regs) | set(atts))
    ]


def organisations_list(engine: Engine) -> list[dict[str, Any]]:
    """Every admitted organisation (id, name, country, kind), by name."""
    o = organisations.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(o.org_id, o.name, o.country, o.kind).order_by(o.name, o.org_id)
        ).all()
    return [
        {"org_id": r.org_id, "name": r.name, "country": r.country, "kind": r.kind} for r in rows
    ]


def counts_by_doc_type(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(documents.c.doc_type, func.count())
            .group_by(documents.c.doc_type)
            .order_by(documents.c.doc_type)
        ).all()
    return [
        {"doc_type": t, "doc_type_name": DOCUMENT_TYPES.get(t, "unknown"), "documents": n}
        for t, n in rows
    ]


EXPORT_VERSION = 2
"""The exports' format. 2: times are ISO 8601 UTC with ``Z``; a CSV cell a spreadsheet would
read as a formula (or one starting with an apostrophe) gets an apostrophe in front
(``csv_cell``); a JSON export is ``{"export_version": 2, "items": [...]}``. 1: Unix seconds,
cells verbatim, a bare JSON array."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula is quoted
    with a leading apostrophe (reversible: ``csv_text`` takes it off)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(cell: str) -> str:
    """The value ``csv_cell`` wrote."""
    return cell[1:] if cell.startswith("'") else cell


CSV_COLUMNS = [
    "sha256",
    "cid",
    "doc_type",
    "doc_type_name",
    "consignment_ref",
    "metadata_cid",
    "issuer_key",
    "organisation_id",
    "organisation",
    "country",
    "status",
    "registered_at",
    "batch_root",
    "superseded_by",
    "supersedes",
    "revoked_reason",
    "revoked_at",
    "tx_hash",
    "block_number",
    "block_hash",
    "log_index",
]


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    issuer = item["issuer"]
    return {
        **{k: v for k, v in item.items() if k != "issuer"},
        "issuer_key": issuer["key"],
        "organisation_id": issuer["organisation_id"],
        "organisation": issuer["organisation"],
        "country": issuer["country"],
    }


def _pages(
    find: Callable[..., Page], engine: Engine, f: Any, page_size: int
) -> Iterator[dict[str, Any]]:
    """Every item of a paged query, one page at a time."""
    cursor = None
    while True:
        page = find(engine, f, cursor, page_size)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def iter_documents(
    engine: Engine, f: DocumentFilter, page_size: int = MAX_LIMIT
) -> Iterator[dict[str, Any]]:
    return _pages(find_documents, engine, f, page_size)


def iter_attestations(
    engine: Engine, f: AttestationFilter, page_size: int = MAX_LIMIT
) -> Iterator[dict[str, Any]]:
    return _pages(find_attestations, engine, f, page_size)


def _csv(
    items: Iterator[dict[str, Any]],
    columns: list[str],
    flat: Callable[[dict[str, Any]], dict[str, Any]],
) -> Iterator[str]:
    """Items as CSV text, yielded every 500 rows (memory stays flat)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for count, item in enumerate(items, start=1):
        writer.writerow({k: csv_cell(v) for k, v in flat(item).items()})
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_array(items: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Items as one JSON object (``export_version`` and the ``items`` array), streamed."""
    yield f'{{"export_version":{EXPORT_VERSION},"items":['
    first = True
    for item in items:
        yield ("" if first else ",") + json.dumps(item, separators=(",", ":"))
        first = False
    yield "]}"


def named(
    items: Iterator[dict[str, Any]], doc_type_name: Callable[[int], str] | None
) -> Iterator[dict[str, Any]]:
    """Items whose ``doc_type_name`` comes from ``doc_type_name`` (e.g. another language)."""
    if doc_type_name is None:
        return items
    return ({**item, "doc_type_name": doc_type_name(item["doc_type"])} for item in items)


def export_csv(
    engine: Engine, f: DocumentFilter, doc_type_name: Callable[[int], str] | None = None
) -> Iterator[str]:
    """The matching documents as CSV text, streamed page by page (memory stays flat);
    document type names from ``doc_type_name`` when given, English otherwise."""
    return _csv(named(iter_documents(engine, f), doc_type_name), CSV_COLUMNS, _flat)


def export_json(
    engine: Engine, f: DocumentFilter, doc_type_name: Callable[[int], str] | None = None
) -> Iterator[str]:
    """The matching documents as a JSON array, streamed (names as in ``export_csv``)."""
    return _json_array(named(iter_documents(engine, f), doc_type_name))


ATTESTATION_CSV_COLUMNS = [
    "attestation_id",
    "sha256",
    "verdict",
    "reference",
    "attested_at",
    "revoked",
    "attester_key",
    "organisation_id",
    "organisation",
    "country",
    "tx_hash",
    "block_number",
    "block_hash",
    "log_index",
]


def _flat_attestation(item: dict[str, Any]) -> dict[str, Any]:
    attester = item["attester"]
    return {
        **{k: v for k, v in item.items() if k != "attester"},
        "attester_key": attester["key"],
        "organisation_id": attester["organisation_id"],
        "organisation": attester["organisation"],
        "country": attester["country"],
    }


def export_attestations_csv(engine: Engine, f: AttestationFilter) -> Iterator[str]:
    """The matching attestations as CSV text, streamed page by page."""
    return _csv(iter_attestations(engine, f), ATTESTATION_CSV_COLUMNS, _flat_attestation)


def export_attestations_json(engine: Engine, f: AttestationFilter) -> Iterator[str]:
    """The matching attestations as a JSON array, streamed."""
    return _json_array(iter_attestations(engine, f))


def document_history(engine: Engine, sha256: str) -> dict[str, Any] | None:
    """A document's row, every contract event about it (oldest first) and its attestations.

    The events are the document's own (registration, metadata, relaying, recording from a
    batch, revocation, supersession of it and by it), its batch's anchoring, and the
    recording and revocation of its attestations, each with the block and transaction it
    came from. None if the index has no such document.
    """
    fp = sha256.lower().removeprefix("0x")
    page = find_documents_by_fingerprint(engine, fp)
    if page is None:
        return None
    atts = list(iter_attestations(engine, AttestationFilter(fingerprint=fp)))
    att_ids = [a["attestation_id"] for a in atts]
    wanted: dict[str, tuple[str, ...] | None] = {fp: None}  # subject -> event names (None: all)
    wanted.update({a: None for a in att_ids})
    if page["batch_root"]:
        wanted[page["batch_root"]] = ("BatchAnchored", "BatchRevoked")
    if page["supersedes"]:
        wanted[page["supersedes"]] = ("DocumentSuperseded",)
    found: list[dict[str, Any]] = []
    subjects = sorted(wanted)
    with engine.connect() as conn:
        for i in range(0, len(subjects), 500):
            rows = conn.execute(
                select(events).where(events.c.subject.in_(subjects[i : i + 500]))
            ).all()
            for r in rows:
                names = wanted[r.subject]
                if names is not None and r.name not in names:
                    continue
                found.append(
                    {
                        "block_number": r.block_number,
                        "log_index": r.log_index,
                        "block_time": iso(r.block_time),
                        "event": r.name,
                        "args": json.loads(r.args),
                        "tx_hash": r.tx_hash,
                        "block_hash": r.block_hash,
                    }
                )
    found.sort(key=lambda e: (e["block_number"], e["log_index"]))
    return {"document": page, "events": found, "attestations": atts}


CONSORTIUM_EVENTS = (
    "OrganisationAdmitted",
    "KeyAdded",
    "KeyRetired",
    "RoleGranted",
    "RoleRevoked",
    "RoleAdminChanged",
    "DefaultAdminTransferScheduled",
    "DefaultAdminTransferCanceled",
    "DefaultAdminDelayChangeScheduled",
    "DefaultAdminDelayChangeCanceled",
)
"""The contract's events of the consortium admin's actions (and of the admin's hand-over)."""


def consortium_events(
    engine: Engine, time_from: int | None = None, time_to: int | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The admin's actions in [time_from, time_to), newest first: admissions, keys given and
    retired, and every step of an admin transfer, each with its block and transaction."""
    q = select(events).where(events.c.name.in_(CONSORTIUM_EVENTS))
    if time_from is not None:
        q = q.where(events.c.block_time >= time_from)
    if time_to is not None:
        q = q.where(events.c.block_time < time_to)
    q = q.order_by(events.c.block_number.desc(), events.c.log_index.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        {
            "block_number": r.block_number,
            "log_index": r.log_index,
            "block_time": iso(r.block_time),
            "event": r.name,
            "args": json.loads(r.args),
            "tx_hash": r.tx_hash,
            "block_hash": r.block_hash,
        }
        for r in rows
    ]


def find_documents_by_fingerprint(engine: Engine, fp: str) -> dict[str, Any] | None:
    """The document row of one fingerprint, as ``find_documents`` items are."""
    q = _documents_query(DocumentFilter()).where(documents.c.fingerprint == fp)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    return None if row is None else _document_row(row)
