"""The database: one SQLAlchemy Core schema for SQLite (default) and PostgreSQL.

Two families of tables live here. The *index* (organisations, keys, documents, batches,
batch_members, attestations, events, sync_state) is derived from the contract's events by
``ledger.index.indexer`` and can be rebuilt from the chain at any time. The *service* tables
(api_keys, outbox) hold what only this service knows: credentials and acknowledged work
that is not on chain yet. Every indexed row keeps the block number, block hash and log
index it came from, so any row can be re-checked against the chain.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
)

from ledger.datadir import PRIVATE_FILE, private_dir

metadata = MetaData()


def _origin() -> list[Column[object]]:
    """Where an indexed row came from on chain."""
    return [
        Column("tx_hash", String(66), nullable=False),
        Column("block_number", BigInteger, nullable=False),
        Column("block_hash", String(66), nullable=False),
        Column("log_index", Integer, nullable=False),
    ]


organisations = Table(
    "organisations",
    metadata,
    Column("org_id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("country", String(2), nullable=False),
    Column("kind", String(16), nullable=False),  # exporter, issuing_body, customs, auditor
    *_origin(),
)

keys = Table(
    "keys",
    metadata,
    Column("address", String(42), primary_key=True),  # checksummed
    Column("org_id", Integer, nullable=False, index=True),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("retired_at", BigInteger),
    *_origin(),
)

documents = Table(
    "documents",
    metadata,
    Column("fingerprint", String(64), primary_key=True),  # SHA-256, lower-case hex, no 0x
    Column("cid", String(80), nullable=False),  # base32 CIDv1
    Column("doc_type", Integer, nullable=False),
    Column("consignment_ref", Text, nullable=False),
    Column("metadata_cid", String(80)),
    Column("issuer", String(42), nullable=False),
    Column("org_id", Integer, nullable=False),
    Column("registered_at", BigInteger, nullable=False),  # unix seconds (block time)
    Column("status", String(16), nullable=False),  # registered, revoked, superseded
    Column("batch_root", String(66)),  # set for members of a batch
    Column("superseded_by", String(64)),
    Column("supersedes", String(64)),
    Column("revoked_by", String(42)),
    Column("revoked_reason", Integer),
    Column("revoked_at", BigInteger),
    *_origin(),
    Index("ix_documents_org_type_time", "org_id", "doc_type", "registered_at"),
    Index("ix_documents_consignment", "consignment_ref"),
    Index("ix_documents_status_time", "status", "registered_at"),
    Index("ix_documents_time", "registered_at"),
)

batches = Table(
    "batches",
    metadata,
    Column("root", String(66), primary_key=True),
    Column("issuer", String(42), nullable=False),
    Column("org_id", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("manifest_cid", String(80)),
    Column("anchored_at", BigInteger, nullable=False),
    *_origin(),
)

batch_members = Table(
    "batch_members",
    metadata,
    # A document may sit in more than one batch: one row (and proof) per batch.
    Column("fingerprint", String(64), primary_key=True),
    Column("root", String(66), primary_key=True, index=True),
    Column("proof", Text, nullable=False),  # JSON list of 0x-hex sibling hashes
    *_origin(),  # the BatchAnchored log (the BatchMemberRecorded log if read from its call)
)

attestations = Table(
    "attestations",
    metadata,
    Column("attestation_id", String(66), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("attester", String(42), nullable=False),
    Column("org_id", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),  # verified, cleared, held, rejected
    Column("customs_ref", Text, nullable=False),
    Column("attested_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("revoked_by", String(42)),
    # the attested document's registered_at (it never changes: the first record wins), so
    # that "documents attested by X with verdict V, newest first" is one index range read
    Column("doc_registered_at", BigInteger),
    *_origin(),
    Index("ix_attestations_fingerprint", "fingerprint"),
    Index("ix_attestations_org_verdict_time", "org_id", "verdict", "attested_at"),
    Index(
        "ix_attestations_org_verdict_doc_time",
        "org_id",
        "verdict",
        "doc_registered_at",
        "fingerprint",
    ),
)

events = Table(
    "events",
    metadata,
    Column("block_number", BigInteger, primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("block_hash", String(66), nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("name", String(40), nullable=False),
    Column("subject", String(66)),  # fingerprint, root, attestation id, key or org id
    Column("args", Text, nullable=False),  # JSON of the decoded arguments
    Column("block_time", BigInteger, nullable=False),
    Index("ix_events_subject", "subject"),
)

sync_state = Table(
    "sync_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chain_id", BigInteger, nullable=False),
    Column("contract", String(42), nullable=False),
    Column("block_number", BigInteger, nullable=False),  # last block fully indexed
    Column("block_hash", String(66), nullable=False),
    # where indexing started (the deployment block) and its hash: a reset chain changes it
    Column("start_block", BigInteger, nullable=False),
    Column("start_hash", String(66), nullable=False),
)

credential_status = Table(
    "credential_status",
    metadata,
    # the bit of a document's credential in its issuing organisation's status list: given
    # once, when its first credential is issued, and never reused (not an index table: an
    # index rebuild keeps it, so credentials already issued keep pointing at their bit)
    Column("fingerprint", String(64), primary_key=True),
    Column("org_id", Integer, nullable=False),
    Column("list_index", Integer, nullable=False),
    UniqueConstraint("org_id", "list_index"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),  # public part shown in lists
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the secret part
    Column("label", Text, nullable=False),
    Column("role", String(16), nullable=False),  # exporter, issuer, customs, auditor, admin
    Column("org_id", Integer),  # None for the consortium admin
    Column("signing_key", String(64)),  # keystore name of the key the service signs with
    Column("created_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("job_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # register, batch, relay, revoke, ...
    Column("subject", String(66), nullable=False, index=True),  # fingerprint or batch root
    Column("payload", Text, nullable=False),  # JSON: everything needed to (re)submit
    Column("state", String(12), nullable=False, index=True),  # pending, done, failed
    Column("tx_hash", String(66)),
    Column("result", Text),  # JSON of the record once done
    Column("error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

outbox_members = Table(
    "outbox_members",
    metadata,
    # The documents of a batch job, written with it: each is readable (and can be revoked,
    # attested, superseded) as soon as its batch is acknowledged, before the index has it.
    Column("fingerprint", String(64), primary_key=True),
    Column("job_id", Integer, primary_key=True),
    Column("position", Integer, nullable=False),  # its place in the batch's manifest
)


encryption_keys = Table(
    "encryption_keys",
    metadata,
    # Organisations' X25519 encryption public keys (issue 16), admitted by the admin (or
    # created for an organisation this gateway serves); the newest unretired one is current.
    Column("key_id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, nullable=False, index=True),
    Column("public_key", String(64), nullable=False, unique=True),  # 32 bytes, hex
    Column("added_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger),
)

envelopes = Table(
    "envelopes",
    metadata,
    # A sealed document's key wrapped per recipient (ledger.sealing.Envelope, JSON), written
    # before its registration job; the recipients' organisation ids, and what the issuer
    # disclosed to auditors (JSON object), beside it.
    Column("fingerprint", String(64), primary_key=True),
    Column("envelope", Text, nullable=False),
    Column("recipients", Text, nullable=False),  # JSON list of org ids, in order of wrapping
    Column("disclosed", Text),
    Column("updated_at", BigInteger, nullable=False),
)


disclosures = Table(
    "disclosures",
    metadata,
    # Metadata fields of a sealed document that its issuer disclosed to auditors (issue 16):
    # one row per value (an HS code without dots), so the auditors' queries filter by them.
    Column("fingerprint", String(64), primary_key=True),
    Column("field", String(32), primary_key=True),  # country_of_origin, ..., hs_code
    Column("value", String(32), primary_key=True),
    Index("ix_disclosures_field_value", "field", "value"),
)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _create_private(path: Path) -> None:
    """Create the SQLite file as mode 600 before SQLite does (its -wal and -shm files then
    take the same mode)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def make_engine(url: str, durable: bool = True) -> Engine:
    """An engine for ``url``; SQLite runs in WAL mode.

    ``durable``: every commit is on disk when it returns (SQLite ``synchronous=FULL``).
    Otherwise commits survive a crash of the process but not of the machine until the next
    durable commit or WAL fsync (``synchronous=NORMAL``; PostgreSQL
    ``synchronous_commit=off``): right for what can be recomputed, such as the index.
    """
    if url.startswith("sqlite"):
        # A pool as large as the service's concurrency (the thread pool runs 40 threads):
        # with SQLAlchemy's default (5 + 10 overflow) every overflow connection is closed
        # on return and reopened, with its PRAGMAs, on the next request.
        in_memory = url in ("sqlite://", "sqlite:///:memory:")  # one shared connection
        if not in_memory and url.startswith("sqlite:///"):
            _create_private(Path(url.removeprefix("sqlite:///")))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **({} if in_memory else {"pool_size": 16, "max_overflow": 32}),
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    else:
        options = {} if durable else {"connect_args": {"options": "-c synchronous_commit=off"}}
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **options)
    metadata.create_all(engine)
    _add_missing_columns(engine)
    _create_missing_indexes(engine)
    return engine


# Columns added to tables after their first release: how to fill them in existing rows.
_BACKFILL = {
    ("attestations", "doc_registered_at"): "UPDATE attestations SET doc_registered_at = "
    "(SELECT d.registered_at FROM documents d WHERE d.fingerprint = attestations.fingerprint)",
}


def _add_missing_columns(engine: Engine) -> None:
    """Add (and backfill) the columns of ``_BACKFILL`` to tables made before they existed."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        missing = [
            (table, column)
            for table, column in _BACKFILL
            if column not in {c["name"] for c in inspector.get_columns(table)}
        ]
    for table, column in missing:
        kind = metadata.tables[table].c[column].type.compile(dialect=engine.dialect)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            conn.exec_driver_sql(_BACKFILL[(table, column)])


def _create_missing_indexes(engine: Engine) -> None:
    """Indexes added to tables that already exist (``create_all`` only makes new tables)."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        present = {
            ix["name"]
            for table in metadata.sorted_tables
            for ix in inspector.get_indexes(table.name)
        }
    for table in metadata.sorted_tables:
        for index in table.indexes:
            if index.name not in present:
                index.create(engine, checkfirst=True)
