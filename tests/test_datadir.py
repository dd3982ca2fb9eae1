"""The data folder is private: new folders 700 and files 600 (blocks 400) whatever the
umask, an existing loose folder tightened by ``secure``, symbolic links left alone."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.config import Settings
from ledger.content import BlockStore
from ledger.datadir import keystore_secret, private_dir, secure, write_private
from ledger.db import make_engine


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def loose_entries(folder: Path) -> list[str]:
    """Every entry under ``folder`` (and itself) that a group or other user may use."""
    found = [] if mode(folder) == 0o700 else [f"{folder} {oct(mode(folder))}"]
    for p in folder.rglob("*"):
        if p.is_symlink():
            continue
        m = mode(p)
        if (p.is_dir() and m != 0o700) or (not p.is_dir() and m & 0o077):
            found.append(f"{p.relative_to(folder)} {oct(m)}")
    return found


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)  # a common default: 755 folders, 644 files
    try:
        yield
    finally:
        os.umask(old)


def test_what_the_ledger_writes_is_private_under_a_loose_umask(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    store = BlockStore(data / "blocks")
    fp = store.put(io.BytesIO(os.urandom(700_000)))
    store.put(io.BytesIO(b"small"), sync=False)
    store.sync()
    engine = make_engine(f"sqlite:///{data / 'ledger.db'}")
    with engine.connect():  # open: the WAL and shared-memory files exist
        assert mode(data / "ledger.db-wal") == mode(data / "ledger.db-shm") == 0o600
    engine.dispose()
    keystore_secret(Settings(data_dir=data, demo=True))  # the demo secret, in the folder
    write_private(data / "deployment.json", b"{}")
    assert private_dir(data / "a" / "b") == data / "a" / "b"
    assert loose_entries(data) == []
    block = next((data / "blocks").rglob(fp.cid))
    assert mode(block) == 0o400  # written once, never changed
    assert mode(data / "ledger.db") == 0o600  # and SQLite gives its journals the db's mode


def test_secure_tightens_an_old_folder_and_leaves_links_alone(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    (data / "blocks" / "aa").mkdir(parents=True)
    (data / "blocks" / "aa" / "block").write_bytes(b"x")
    (data / "blocks" / "aa" / "block").chmod(0o444)
    (data / "ledger.db").write_bytes(b"")
    (data / "ledger.db").chmod(0o666)
    (data / "tool.sh").write_text("#!/bin/sh\n")
    (data / "tool.sh").chmod(0o755)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)
    data.chmod(0o755)
    assert loose_entries(data)

    changed = secure(data)

    assert changed == 6  # data, blocks, aa, block, ledger.db, tool.sh
    assert loose_entries(data) == []
    assert mode(data / "blocks" / "aa" / "block") == 0o400  # owner bits kept
    assert mode(data / "tool.sh") == 0o700
    assert mode(outside) == 0o644  # a link's target is not the data folder's
    assert secure(data) == 0  # nothing left to do
    assert mode(data / ".private") == 0o600  # the stamp: the tree was walked


def test_secure_walks_again_when_the_folder_is_opened(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    secure(data)
    (data / "later.csv").write_text("x")  # 644, but inside a 700 folder: out of reach
    assert secure(data) == 0  # one stat, no walk
    data.chmod(0o755)  # someone opened the folder: the next start walks again
    assert secure(data) == 2
    assert loose_entries(data) == []


def test_secure_creates_a_missing_folder(tmp_path: Path, loose_umask: None) -> None:
    secure(tmp_path / "new" / "data")
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "data") == 0o700
