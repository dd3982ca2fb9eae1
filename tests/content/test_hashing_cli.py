"""Flat memory on a 1 GiB file, and the ``tradeledger cid`` command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.content.ipfs import NodeStore
from tests.content.conftest import ROOT, make_file

pytestmark = pytest.mark.ipfs

MEASURE = """
import os
from ledger.content.hashing import hash_stream
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))
piece = os.urandom(4 * 1024 * 1024)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
fp = hash_stream(piece for _ in range(256))  # 1 GiB streamed through the hasher
print(status("VmHWM:") - before, fp.size, fp.cid)
"""


@pytest.mark.slow
def test_memory_stays_flat_on_1_gib() -> None:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    growth_kib = int(out[0])
    assert growth_kib <= 64 * 1024, f"peak memory grew by {growth_kib} KiB"
    assert int(out[1]) == 1024**3
    assert out[2].startswith("bafybei")


def test_cid_command(tmp_path: Path, node: NodeStore) -> None:
    doc = make_file(tmp_path / "consignment note.pdf", 700_000, seed=9)
    run = subprocess.run(
        [sys.executable, "-m", "cli.main", "cid", "--json", str(doc)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    with doc.open("rb") as f:
        assert shown["cid"] == str(node.only_hash(f))
    assert shown["size"] == 700_000

    plain = subprocess.run(
        [sys.executable, "-m", "cli.main", "cid", str(doc), str(tmp_path / "missing")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 1
    assert plain.stdout.split()[:2] == [shown["sha256"], shown["cid"]]
    assert "missing" in plain.stderr
