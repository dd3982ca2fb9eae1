"""The outbox: acknowledged work that must reach the chain, kept durable in the database.

A registration is written here (and committed, with SQLite's full fsync) before the service
acknowledges it. A job is ``pending`` until its transaction is mined (``done``, with the
resulting record) or it can never succeed (``failed``, with the reason). After a crash of
the service, the chain or IPFS, pending jobs are simply submitted again: the contract
refuses a second registration of the same fingerprint, so a retry never registers twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, desc, insert, select, update

from ledger.db import outbox

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class Job:
    job_id: int
    kind: str
    subject: str
    payload: dict[str, Any]
    state: str
    tx_hash: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: int


def _job(row: Any) -> Job:
    return Job(
        row.job_id,
        row.kind,
        row.subject,
        json.loads(row.payload),
        row.state,
        row.tx_hash,
        json.loads(row.result) if row.result else None,
        row.error,
        row.created_at,
    )


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, kind: str, subject: str, payload: dict[str, Any]) -> Job:
        now = int(time.time())
        with self.engine.begin() as conn:
            job_id = conn.execute(
                insert(outbox).values(
                    kind=kind,
                    subject=subject,
                    payload=json.dumps(payload),
                    state=PENDING,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return Job(int(job_id), kind, subject, payload, PENDING, None, None, None, now)

    def _set(self, job_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.job_id == job_id)
                .values(updated_at=int(time.time()), **values)
            )

    def sent(self, job_id: int, tx_hash: str) -> None:
        self._set(job_id, tx_hash=tx_hash)

    def done(self, job_id: int, result: dict[str, Any]) -> None:
        self._set(job_id, state=DONE, result=json.dumps(result), error=None)

    def failed(self, job_id: int, error: str) -> None:
        self._set(job_id, state=FAILED, error=error)

    def pending(self) -> list[Job]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.state == PENDING).order_by(outbox.c.job_id)
            ).all()
        return [_job(r) for r in rows]

    def latest(self, subject: str) -> Job | None:
        """The newest job that is pending or done for ``subject`` (a fingerprint or root)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(outbox)
                .where(outbox.c.subject == subject, outbox.c.state != FAILED)
                .order_by(desc(outbox.c.job_id))
                .limit(1)
            ).first()
        return _job(row) if row else None

    def count_pending(self) -> int:
        return len(self.pending())
