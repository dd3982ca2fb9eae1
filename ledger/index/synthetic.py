"""Synthetic index rows with realistic shapes, for the query benchmark and the query tests.

Only for exercising the query layer (``ledger.index.queries``): the rows are written straight into
the index tables and are not on any chain. The shapes follow the corridor: ~50
organisations (a few large exporters and chambers, a long tail, 8 customs offices), the
17 UN/EDIFACT types in a skewed mix (invoices, rail notes and certificates of origin
first), consignments of ~5 documents, registrations spread over a year (fewer at
weekends), ~1 attestation per document, a few revoked or superseded documents, some batch
members.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ledger.db import attestations, documents, keys, organisations
from ledger.doctypes import DOCUMENT_TYPES

YEAR = 365 * 86400
START = 1_735_689_600  # 2025-01-01T00:00:00Z
BLOCK_TIME = 2
TYPE_WEIGHTS = {
    380: 20, 720: 15, 861: 12, 271: 10, 830: 8, 851: 6, 705: 5, 14: 4, 3: 4,
    856: 3, 852: 3, 929: 3, 950: 2, 853: 2, 864: 1, 722: 1, 952: 1,
}  # fmt: skip
VERDICT_WEIGHTS = {"verified": 50, "cleared": 35, "held": 10, "rejected": 5}
ATTESTATIONS_PER_DOC = {0: 30, 1: 45, 2: 20, 3: 5}  # mean 1.0
B32 = "abcdefghijklmnopqrstuvwxyz234567"

DOC_COLUMNS = [c.name for c in documents.columns]
ATT_COLUMNS = [c.name for c in attestations.columns]


@dataclass(frozen=True)
class Shape:
    organisations: int = 50
    customs: int = 8  # of the organisations, the last ones
    docs_per_consignment: int = 5
    seed: int = 1


def _hex(rng: random.Random, nbytes: int) -> str:
    return f"{rng.getrandbits(8 * nbytes):0{2 * nbytes}x}"


def _address(org_id: int) -> str:
    return f"0x{org_id:040x}"


def org_rows(shape: Shape) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Organisations and one key each (key address derived from the org id)."""
    orgs, org_keys = [], []
    for org_id in range(1, shape.organisations + 1):
        customs = org_id > shape.organisations - shape.customs
        origin = {"tx_hash": "0x" + "00" * 32, "block_number": 0, "block_hash": "0x" + "00" * 32}
        orgs.append(
            {
                "org_id": org_id,
                "name": f"{'Customs' if customs else 'Exporter'} {org_id}",
                "country": "AF" if customs and org_id % 2 else "KZ",
                "kind": "customs" if customs else ("exporter" if org_id % 4 else "issuing_body"),
                "log_index": org_id,
                **origin,
            }
        )
        org_keys.append(
            {
                "address": _address(org_id),
                "org_id": org_id,
                "valid_from": 0,
                "valid_until": 2**40 - 1,
                "retired_at": None,
                "log_index": 1000 + org_id,
                **origin,
            }
        )
    return orgs, org_keys


def generate(
    count: int, shape: Shape | None = None, chunk: int = 10_000
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Chunks of (document rows, attestation rows) as tuples in ``DOC_COLUMNS``/``ATT_COLUMNS``
    order; ``count`` documents in all."""
    shape = shape or Shape()
    rng = random.Random(shape.seed)
    exporters = list(range(1, shape.organisations - shape.customs + 1))
    customs = list(range(shape.organisations - shape.customs + 1, shape.organisations + 1))
    # a long tail: organisation i is chosen with weight 1/i
    exporter_weights = [1 / i for i in range(1, len(exporters) + 1)]
    types, type_weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
    verdicts, verdict_weights = list(VERDICT_WEIGHTS), list(VERDICT_WEIGHTS.values())
    att_counts, att_weights = list(ATTESTATIONS_PER_DOC), list(ATTESTATIONS_PER_DOC.values())
    assert set(types) == set(DOCUMENT_TYPES)
    consignment = 0
    left_in_consignment = 0
    org = exporters[0]
    docs: list[tuple[Any, ...]] = []
    atts: list[tuple[Any, ...]] = []
    for n in range(count):
        if left_in_consignment == 0:
            consignment += 1
            left_in_consignment = rng.randint(1, 2 * shape.docs_per_consignment - 1)
            org = rng.choices(exporters, exporter_weights)[0]
            root = "0x" + _hex(rng, 32) if rng.random() < 0.3 else None
            t = START + rng.randrange(YEAR)
            if (t // 86400 + 3) % 7 >= 5 and rng.random() < 0.6:  # weekends are quieter
                t -= 2 * 86400
        left_in_consignment -= 1
        t_doc = max(START, t + rng.randrange(0, 3600))
        r = rng.random()
        status = "registered" if r < 0.97 else ("revoked" if r < 0.99 else "superseded")
        fp = _hex(rng, 32)
        block = (t_doc - START) // BLOCK_TIME
        block_hash = "0x" + _hex(rng, 32)
        issuer = _address(org)
        docs.append(
            (
                fp,
                "bafkrei" + "".join(rng.choices(B32, k=52)),
                rng.choices(types, type_weights)[0],
                f"SMGS-{consignment:07d}",
                None,
                issuer,
                org,
                t_doc,
                status,
                root,
                _hex(rng, 32) if status == "superseded" else None,
                None,
                issuer if status == "revoked" else None,
                2 if status == "revoked" else None,
                t_doc + 86400 if status == "revoked" else None,
                "0x" + _hex(rng, 32),
                block,
                block_hash,
                n % 50,
            )
        )
        for _ in range(rng.choices(att_counts, att_weights)[0]):
            office = rng.choice(customs)
            t_att = t_doc + rng.randrange(3600, 10 * 86400)
            atts.append(
                (
                    "0x" + _hex(rng, 32),
                    fp,
                    _address(office),
                    office,
                    rng.choices(verdicts, verdict_weights)[0],
                    f"HRT-{rng.randrange(10**6):06d}",
                    t_att,
                    rng.random() < 0.01,
                    None,
                    t_doc,
                    "0x" + _hex(rng, 32),
                    (t_att - START) // BLOCK_TIME,
                    "0x" + _hex(rng, 32),
                    0,
                )
            )
        if len(docs) >= chunk:
            yield docs, atts
            docs, atts = [], []
    if docs or atts:
        yield docs, atts


def _check_columns() -> None:
    assert DOC_COLUMNS == [
        "fingerprint", "cid", "doc_type", "consignment_ref", "metadata_cid", "issuer",
        "org_id", "registered_at", "status", "batch_root", "superseded_by", "supersedes",
        "revoked_by", "revoked_reason", "revoked_at", "tx_hash", "block_number",
        "block_hash", "log_index",
    ], DOC_COLUMNS  # fmt: skip
    assert ATT_COLUMNS == [
        "attestation_id", "fingerprint", "attester", "org_id", "verdict", "customs_ref",
        "attested_at", "revoked", "revoked_by", "doc_registered_at", "tx_hash",
        "block_number", "block_hash", "log_index",
    ], ATT_COLUMNS  # fmt: skip


_check_columns()


def load(
    engine: Engine, count: int, shape: Shape | None = None, progress: Any = None
) -> tuple[int, int]:
    """Insert organisations, keys and ``count`` documents with their attestations.

    PostgreSQL gets the rows by ``COPY``, SQLite by ``executemany`` in one transaction per
    chunk. Returns (documents, attestations) inserted.
    """
    shape = shape or Shape()
    orgs, org_keys = org_rows(shape)
    with engine.begin() as conn:
        conn.execute(organisations.insert(), orgs)
        conn.execute(keys.insert(), org_keys)
    n_docs = n_atts = 0
    postgres = engine.dialect.name == "postgresql"
    for docs, atts in generate(count, shape):
        if postgres:
            _copy(engine, docs, atts)
        else:
            with engine.begin() as conn:
                for table, cols, rows in (
                    ("documents", DOC_COLUMNS, docs),
                    ("attestations", ATT_COLUMNS, atts),
                ):
                    marks = ", ".join("?" * len(cols))
                    conn.exec_driver_sql(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows
                    )
        n_docs += len(docs)
        n_atts += len(atts)
        if progress is not None:
            progress(n_docs, n_atts)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return n_docs, n_atts


def _copy(engine: Engine, docs: list[tuple[Any, ...]], atts: list[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, rows in (
            ("documents", DOC_COLUMNS, docs),
            ("attestations", ATT_COLUMNS, atts),
        ):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
