"""An index made before ``attestations.doc_registered_at`` existed gets the column, filled in,
and its index when the engine is next made (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from ledger.db import attestations, make_engine
from ledger.index import queries
from ledger.index.synthetic import Shape, load
from tests.databases import Databases


def test_missing_column_is_added_and_backfilled(databases: Databases) -> None:
    url = databases.url()
    engine = make_engine(url)
    load(engine, 50, Shape(seed=5))
    with engine.begin() as conn:  # back to the older schema
        conn.execute(text("DROP INDEX ix_attestations_org_verdict_doc_time"))
        conn.execute(text("ALTER TABLE attestations DROP COLUMN doc_registered_at"))
    engine.dispose()
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        assert "doc_registered_at" in {c["name"] for c in inspector.get_columns("attestations")}
        names = {ix["name"] for ix in inspector.get_indexes("attestations")}
        assert "ix_attestations_org_verdict_doc_time" in names
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.doc_registered_at, d.registered_at FROM attestations a "
                    "JOIN documents d ON d.fingerprint = a.fingerprint"
                )
            ).all()
            total = len(conn.execute(select(attestations.c.attestation_id)).all())
        assert rows and len(rows) == total
        assert all(a == d for a, d in rows)
        a = queries.find_attestations(engine, queries.AttestationFilter(), limit=1).items[0]
        f = queries.DocumentFilter(
            attester_org_id=a["attester"]["organisation_id"], verdict=a["verdict"]
        )
        assert queries.find_documents(engine, f).items
    finally:
        engine.dispose()
