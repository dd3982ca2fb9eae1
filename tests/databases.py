"""Index databases for the tests: SQLite files, or databases on a private PostgreSQL server.

The PostgreSQL variant runs when ``TRADELEDGER_TEST_POSTGRES=1`` or ``pytest --postgres``:
``scripts/postgres`` starts one server for the session (in a temporary folder, on a free
port of 127.0.0.1) and every test gets its own fresh database on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ledger.config import PROJECT_ROOT
from ledger.db import make_engine, sqlite_url

SCRIPT = PROJECT_ROOT / "scripts" / "postgres"
SQLITE, POSTGRESQL = "sqlite", "postgresql"


def postgres_enabled(config: pytest.Config) -> bool:
    return (
        bool(config.getoption("--postgres")) or os.environ.get("TRADELEDGER_TEST_POSTGRES") == "1"
    )


def database_kinds(config: pytest.Config) -> list[str]:
    return [SQLITE, POSTGRESQL] if postgres_enabled(config) else [SQLITE]


class PostgresServer:
    """A throw-away server started by ``scripts/postgres`` (no fsync: test data only)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tradeledger-pg-"))
        env = {
            **os.environ,
            "TRADELEDGER_PG_OPTIONS": "-c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off",
        }
        out = subprocess.run(
            [str(SCRIPT), "start", str(self.folder)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if out.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise RuntimeError(
                f"scripts/postgres could not start a server (is the Debian package "
                f"`postgresql` installed? scripts/setup installs it): {out.stderr.strip()}"
            )
        self.url = out.stdout.strip().splitlines()[-1]
        self._admin = create_engine(
            self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )

    def create(self) -> str:
        """A new empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def stop(self) -> None:
        self._admin.dispose()
        subprocess.run([str(SCRIPT), "stop", str(self.folder)], check=False, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


class Databases:
    """Fresh, empty index databases of one kind; ``close`` disposes and drops them all."""

    def __init__(self, kind: str, folder: Path, server: PostgresServer | None) -> None:
        self.kind = kind
        self.folder = folder
        self.server = server
        self._engines: list[tuple[Engine, str]] = []

    def url(self) -> str:
        if self.server is not None:
            return self.server.create()
        return sqlite_url(self.folder / f"index-{uuid.uuid4().hex[:8]}.db")

    def new(self) -> Engine:
        url = self.url()
        engine = make_engine(url)
        self._engines.append((engine, url))
        return engine

    def close(self) -> None:
        for engine, url in self._engines:
            engine.dispose()
            if self.server is not None:
                self.server.drop(url)
        self._engines.clear()


def open_databases(request: pytest.FixtureRequest, kind: str, folder: Path) -> Iterator[Databases]:
    server = request.getfixturevalue("postgres_server") if kind == POSTGRESQL else None
    dbs = Databases(kind, folder, server)
    try:
        yield dbs
    finally:
        dbs.close()
