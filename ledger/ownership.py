"""One owner per data folder and database: the process that sends transactions and writes
the index holds a lock, and a second one refuses to start, naming the holder.

Two services on one data folder would hand out the same nonces ("nonce too low") and
collide in the index. The data folder's lock is ``flock`` on ``DATA_DIR/owner.lock``, which
the kernel releases when its holder dies, even by kill -9; the file keeps the holder's PID
and command for the message. On PostgreSQL the database may be shared by folders on other
machines, so the owner also holds a session advisory lock on one connection kept open (the
server releases it when that session ends), with its PID in the connection's
``application_name``.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, text

from ledger.config import Settings
from ledger.errors import DataFolderBusy

LOCK_FILE = "owner.lock"
# pg_try_advisory_lock(int4, int4): "trad", "ledg"
_PG_KEYS = {"k1": 0x74726164, "k2": 0x6C656467}


@dataclass
class Ownership:
    """The locks this process holds; ``release`` (or the process's end) lets them go."""

    fd: int | None
    pg: Connection | None = None
    _engine: Engine | None = field(default=None, repr=False)

    def release(self) -> None:
        if self.pg is not None:
            self.pg.close()  # the session ends: the advisory lock goes with it
            self.pg = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = None


def claim(settings: Settings, what: str) -> Ownership:
    """Take the data folder's lock (and the PostgreSQL database's) for ``what`` (e.g.
    "serve"); DataFolderBusy, naming the holder, if another process has it."""
    path = settings.data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise DataFolderBusy(
            f"the data folder {settings.data_dir} is in use by {holder}: stop it first, or "
            "give this one its own TRADELEDGER_DATA_DIR (and database)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} ({what}: {' '.join(sys.argv)})\n".encode(), 0)
    owner = Ownership(fd)
    if settings.db_url.startswith("postgresql"):
        try:
            _claim_postgres(owner, settings, what)
        except BaseException:
            owner.release()
            raise
    return owner


def _claim_postgres(owner: Ownership, settings: Settings, what: str) -> None:
    name = f"tradeledger pid {os.getpid()} on {socket.gethostname()} ({what})"[:63]
    engine = create_engine(settings.db_url, connect_args={"application_name": name})
    owner._engine = engine
    conn = engine.connect()
    owner.pg = conn
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k1, :k2)"), _PG_KEYS).scalar()
    conn.commit()
    if got:
        return
    holder = conn.execute(
        text(
            "SELECT a.application_name, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = :k1 AND l.objid = :k2 "
            "AND l.objsubid = 2 AND l.granted"
        ),
        _PG_KEYS,
    ).first()
    who = (
        f"{holder.application_name or 'a client'} (server process {holder.pid})"
        if holder is not None
        else "another process"
    )
    where = engine.url.render_as_string(hide_password=True)
    raise DataFolderBusy(
        f"the database {where} is in use by {who}: stop it first, or give this service its "
        "own database"
    )


def _read_holder(fd: int) -> str:
    try:
        text_ = os.pread(fd, 1000, 0).decode(errors="replace").strip()
    except OSError:
        text_ = ""
    return text_ or "another process"
