"""The outbox: acknowledged work that must reach the chain, kept durable in the database.

A registration is written here, and is on disk, before the service acknowledges it. On
SQLite the insert commits without an fsync and then waits for a shared fsync of the WAL
(``GroupSync``), so concurrent registrations share one flush instead of queueing behind
each other's; concurrent inserts (and updates) share one transaction, too. Later state
changes (done, failed) need no fsync of their own: if one is lost, the job is pending
again, and resubmitting it settles it from the chain.

A job is ``pending`` until its transaction is mined (``done``, with the
resulting record) or it can never succeed (``failed``, with the reason). A ``done`` job is
watched until its block is ``final`` (``ledger.flows.reconcile``): if the chain loses that
block (a crash of a local chain, a reorganisation), the job is ``pending`` again and sent
again. A relayed request whose signed deadline passed before it reached the chain is
``expired``: its issuer must sign a new one (it is reported, never dropped). After a crash
of the service, the chain or IPFS, pending jobs are simply submitted again: the contract
refuses a second registration of the same fingerprint, so a retry never registers twice.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, desc, func, insert, select, update

from ledger.db import outbox, outbox_members
from ledger.groupsync import Batcher, GroupSync

Write = Callable[[Connection], Any]  # one statement of a shared write transaction

PENDING, DONE, FINAL, FAILED = "pending", "done", "final", "failed"
EXPIRED = "expired"  # a relayed request's signed deadline passed: a new signature is needed


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
    updated_at: int = 0


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
        row.updated_at,
    )


def _finalise(job_ids: list[int], conn: Connection) -> Any:
    return conn.execute(
        update(outbox)
        .where(outbox.c.job_id.in_(job_ids), outbox.c.state == DONE)
        .values(state=FINAL)
    )


class Outbox:
    def __init__(self, engine: Engine, relaxed: Engine | None = None) -> None:
        """``engine`` commits durably; ``relaxed`` (optional) commits without an fsync."""
        self.engine = engine
        self.relaxed = relaxed or engine
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._files = [Path(database + "-wal"), Path(database)] if database and relaxed else []
        self._flush = GroupSync(self.sync)
        # Concurrent writes share transactions (one commit for a group of rows), and only
        # one group writes at a time: SQLite takes one writer, and its busy handler sleeps
        # 1, 2, 5… ms between tries where a queue goes on at once.
        self._inserts: Batcher[Write, Any] = Batcher(
            partial(self._write_group, self.relaxed if self._files else self.engine)
        )
        self._updates: Batcher[Write, Any] = Batcher(partial(self._write_group, self.relaxed))
        self._writing = threading.Lock()

    def _write_group(self, engine: Engine, writes: list[Write]) -> list[Any]:
        with self._writing, engine.begin() as conn:
            return [write(conn) for write in writes]

    def sync(self) -> None:
        """fsync the SQLite database and its WAL (nothing to do for a durable engine)."""
        for path in self._files:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def add(
        self,
        kind: str,
        subject: str,
        payload: dict[str, Any],
        durable: bool = True,
        members: Sequence[str] = (),
    ) -> Job:
        """Record a job (and, for a batch, its ``members``' fingerprints in manifest order,
        in the same transaction); it is on disk when this returns (with ``durable=False``:
        after the caller's next ``sync()``)."""
        now = int(time.time())
        row = insert(outbox).values(
            kind=kind,
            subject=subject,
            payload=json.dumps(payload),
            state=PENDING,
            created_at=now,
            updated_at=now,
        )

        def write(conn: Connection) -> Any:
            job_id = conn.execute(row).inserted_primary_key[0]  # type: ignore[index]
            if members:
                conn.execute(
                    insert(outbox_members),
                    [
                        {"fingerprint": fp, "job_id": job_id, "position": i}
                        for i, fp in enumerate(members)
                    ],
                )
            return job_id

        job_id = self._inserts(write)
        if self._files and durable:
            self._flush()
        return Job(int(job_id), kind, subject, payload, PENDING, None, None, None, now)

    def _set(self, job_id: int, **values: Any) -> None:
        change = (
            update(outbox)
            .where(outbox.c.job_id == job_id)
            .values(updated_at=int(time.time()), **values)
        )
        self._updates(lambda conn: conn.execute(change))

    def done(self, job_id: int, result: dict[str, Any]) -> None:
        self._set(job_id, state=DONE, result=json.dumps(result), error=None)

    def failed(self, job_id: int, error: str) -> None:
        self._set(job_id, state=FAILED, error=error)

    def expired(self, job_id: int, error: str) -> None:
        self._set(job_id, state=EXPIRED, error=error)

    def retire_expired(self, subject: str) -> None:
        """A new request for ``subject`` replaces its expired ones: they no longer count."""
        change = (
            update(outbox)
            .where(outbox.c.subject == subject, outbox.c.state == EXPIRED)
            .values(state=FAILED, error="replaced by a new request", updated_at=int(time.time()))
        )
        self._updates(lambda conn: conn.execute(change))

    def reopen(self, job_id: int, reason: str) -> None:
        """A done job whose transaction the canonical chain no longer holds: pending again."""
        self._set(job_id, state=PENDING, result=None, error=reason)

    def finalise(self, job_ids: Sequence[int]) -> None:
        """Done jobs whose blocks are final: no longer watched."""
        for i in range(0, len(job_ids), 500):
            chunk = list(job_ids[i : i + 500])
            self._updates(partial(_finalise, chunk))

    def unsettled(self) -> list[Job]:
        """Done jobs not known to be final yet, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.state == DONE).order_by(outbox.c.job_id)
            ).all()
        return [_job(r) for r in rows]

    def pending(self) -> list[Job]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox).where(outbox.c.state == PENDING).order_by(outbox.c.job_id)
            ).all()
        return [_job(r) for r in rows]

    def is_pending(self, job_id: int) -> bool:
        with self.engine.connect() as conn:
            state = conn.execute(select(outbox.c.state).where(outbox.c.job_id == job_id)).scalar()
        return state == PENDING

    def latest(self, subject: str) -> Job | None:
        """The newest job for ``subject`` (a fingerprint or root) that did not fail: pending,
        done, final or expired."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(outbox)
                .where(outbox.c.subject == subject, outbox.c.state != FAILED)
                .order_by(desc(outbox.c.job_id))
                .limit(1)
            ).first()
        return _job(row) if row else None

    def batch_of(self, fingerprint: str) -> tuple[Job, int] | None:
        """The newest pending or done batch job holding ``fingerprint``, and its position."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(outbox, outbox_members.c.position)
                .join(outbox_members, outbox_members.c.job_id == outbox.c.job_id)
                .where(outbox_members.c.fingerprint == fingerprint, outbox.c.state != FAILED)
                .order_by(desc(outbox.c.job_id))
                .limit(1)
            ).first()
        return (_job(row), int(row.position)) if row else None

    def count_pending(self) -> int:
        return self.count(PENDING)

    def count_expired(self) -> int:
        """Relayed requests that expired unsent: their issuers must sign again."""
        return self.count(EXPIRED)

    def count(self, state: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.state == state)
                ).scalar_one()
            )
