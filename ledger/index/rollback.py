"""Rolling the index back to a block after a reorganisation of the chain.

Rows created above the common ancestor are deleted with their events. Older rows that the
dropped events had changed (a revoked or superseded document, a revoked attestation, a
retired key) get those columns reset, and the stored events at or below the ancestor that
concern them are applied again, so the result equals an index built from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, select, update

from ledger.db import (
    attestations,
    batch_members,
    batches,
    documents,
    events,
    keys,
    organisations,
    sync_state,
)
from ledger.index.events import Event, fp_key
from ledger.index.writer import RangeWriter

INDEX_TABLES = (organisations, keys, documents, batches, batch_members, attestations, events)


def rollback(conn: Connection, ancestor: int, block_hash: str) -> None:
    """Undo every event above ``ancestor``; the index then stands at that block."""
    gone = conn.execute(
        select(events.c.name, events.c.args).where(events.c.block_number > ancestor)
    ).all()
    for table in INDEX_TABLES:
        conn.execute(delete(table).where(table.c.block_number > ancestor))
    docs: set[str] = set()
    new_docs: set[str] = set()
    atts: set[str] = set()
    retired: set[str] = set()
    for name, args_json in gone:
        args = json.loads(args_json)
        if name == "DocumentRevoked":
            docs.add(fp_key(args["fingerprint"]))
        elif name == "DocumentSuperseded":
            docs.add(fp_key(args["oldFingerprint"]))
            new_docs.add(fp_key(args["newFingerprint"]))
        elif name == "AttestationRevoked":
            atts.add(args["id"])
        elif name == "KeyRetired":
            retired.add(args["key"])
    _reset_documents(conn, docs, new_docs)
    for chunk in _chunks(sorted(atts)):
        conn.execute(
            update(attestations)
            .where(attestations.c.attestation_id.in_(chunk))
            .values(revoked=False, revoked_by=None)
        )
    for key in retired:
        added = conn.execute(
            select(events.c.args).where(events.c.name == "KeyAdded", events.c.subject == key)
        ).first()
        if added is not None:
            until = json.loads(added.args)["validUntil"]
            conn.execute(
                update(keys).where(keys.c.address == key).values(retired_at=None, valid_until=until)
            )
    # Replay what older events did to the rows just reset (the contract allows none today).
    subjects = sorted(docs | new_docs | atts | retired)
    writer = RangeWriter(conn, None)
    for chunk in _chunks(subjects):
        rows = conn.execute(
            select(events)
            .where(events.c.subject.in_(chunk), events.c.name.in_(_MUTATIONS))
            .order_by(events.c.block_number, events.c.log_index)
        ).all()
        for r in rows:
            writer.apply(_stored_event(r), record=False)
    writer.flush()
    conn.execute(
        update(sync_state)
        .where(sync_state.c.id == 1)
        .values(block_number=ancestor, block_hash=block_hash)
    )


_MUTATIONS = ("DocumentRevoked", "DocumentSuperseded", "AttestationRevoked", "KeyRetired")


def _reset_documents(conn: Connection, docs: set[str], new_docs: set[str]) -> None:
    for chunk in _chunks(sorted(docs)):
        conn.execute(
            update(documents)
            .where(documents.c.fingerprint.in_(chunk))
            .values(
                status="registered",
                superseded_by=None,
                revoked_by=None,
                revoked_reason=None,
                revoked_at=None,
            )
        )
    for chunk in _chunks(sorted(new_docs)):
        conn.execute(
            update(documents).where(documents.c.fingerprint.in_(chunk)).values(supersedes=None)
        )


def _stored_event(row: Any) -> Event:
    return Event(
        row.name,
        row.block_number,
        row.log_index,
        row.block_hash,
        row.tx_hash,
        row.block_time,
        json.loads(row.args),
    )


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
