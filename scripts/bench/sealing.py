#!/usr/bin/env python3
"""Benchmark of sealing (issue 16): seal + hash + store beside the embedded store's plain put.

    python scripts/bench/sealing.py [--runs 3] [--size-mib 256] [--big-mib 1024] [--json]

Writes its test files to a temporary folder and deletes them. In each round it runs, in
turn (so that both see the same machine load), on a fresh embedded block store each time:

- plain: ``BlockStore.put_file`` of the file (SHA-256 + CIDv1 + blocks, synced);
- sealed: ``BlockStore.put(Sealer(file, fresh document key))``: the plaintext's SHA-256
  (the fingerprint), AES-256-GCM STREAM, then the store's SHA-256 + CIDv1 + blocks of the
  sealed object, synced; one pass over the file.

Targets: sealed ≥ 0.5x plain (median MB/s, 10^6 B/s); peak memory growth (max RSS, in a
fresh process) sealing and storing a ``--big-mib`` file ≤ 64 MiB, the plain put's beside it.
Opening (``open_to_file`` from the store, fingerprint checked) is reported too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from report import Progress, finish  # noqa: E402

from ledger.content import BlockStore  # noqa: E402
from ledger.sealing import DocumentKey, Sealer, open_to_file  # noqa: E402

MiB = 1024 * 1024
TARGETS = {"sealed_vs_plain_ratio_min": 0.5, "memory_growth_mib_max": 64.0}
MEMORY_PROBE = """
import sys
from pathlib import Path
from ledger.content import BlockStore
from ledger.sealing import DocumentKey, Sealer
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))
store = BlockStore(Path(sys.argv[3]))
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
with open(sys.argv[2], "rb", buffering=0) as src:
    if sys.argv[1] == "sealed":
        store.put(Sealer(src, DocumentKey.generate()))
    else:
        store.put(src)
print((status("VmHWM:") - before) / 1024)
"""


@dataclass
class Report:
    size_mib: int
    big_mib: int
    runs: int
    plain_mb_s: float = 0.0
    sealed_mb_s: float = 0.0
    open_mb_s: float = 0.0
    sealed_memory_mib: float = 0.0
    plain_memory_mib: float = 0.0
    load: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.sealed_mb_s / self.plain_mb_s if self.plain_mb_s else 0.0

    @property
    def targets_met(self) -> bool:
        return (
            self.ratio >= TARGETS["sealed_vs_plain_ratio_min"]
            and self.sealed_memory_mib <= TARGETS["memory_growth_mib_max"]
        )


def write_random(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        for _ in range(size // (16 * MiB)):
            f.write(os.urandom(16 * MiB))
        f.write(os.urandom(size % (16 * MiB)))
    os.sync()
    return path


def load_average() -> float:
    return os.getloadavg()[0]


def timed_rounds(runs: int, fns: list[Callable[[], Callable[[], None]]]) -> list[float]:
    """Median seconds of each function, run in turn each round; each ``fn`` prepares and
    returns the timed step (a fresh store), cleaned up by the next preparation."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, spent in zip(fns, times, strict=True):
            step = fn()
            start = time.perf_counter()
            step()
            spent.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def memory(kind: str, path: Path, tmp: Path) -> float:
    store = tmp / f"mem-{kind}"
    try:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, kind, str(path), str(store)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return float(out.stdout.strip())
    finally:
        shutil.rmtree(store, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path, progress: Progress) -> Report:
    report = Report(args.size_mib, args.big_mib, args.runs, load=load_average())
    size = args.size_mib * MiB
    progress(f"writing a {args.size_mib} MiB test file")
    doc = write_random(tmp / "doc.bin", size)
    stores = tmp / "stores"

    def fresh(name: str) -> Path:
        shutil.rmtree(stores, ignore_errors=True)
        stores.mkdir()
        return stores / name

    def plain() -> Callable[[], None]:
        store = BlockStore(fresh("plain"))
        return lambda: (store.put_file(doc), None)[1]

    sealed_cid: list[str] = []

    def sealed() -> Callable[[], None]:
        store = BlockStore(fresh("sealed"))

        def step() -> None:
            with doc.open("rb", buffering=0) as f:
                sealer = Sealer(f, DocumentKey.generate())
                sealed_cid.append(store.put(sealer).cid)

        return step

    progress(f"{args.runs} rounds of plain put and sealed put, in turn")
    t_plain, t_sealed = timed_rounds(args.runs, [plain, sealed])
    report.plain_mb_s = size / t_plain / 1e6
    report.sealed_mb_s = size / t_sealed / 1e6

    progress("opening a sealed copy from the store (fingerprint checked)")
    store = BlockStore(fresh("open"))
    key = DocumentKey.generate()
    with doc.open("rb", buffering=0) as f:
        sealer = Sealer(f, key)
        fp = store.put(sealer)
    start = time.perf_counter()
    open_to_file(store.get(fp.cid), tmp / "back.bin", key, expect_sha256=sealer.sha256)
    report.open_mb_s = size / (time.perf_counter() - start) / 1e6
    (tmp / "back.bin").unlink()
    shutil.rmtree(stores, ignore_errors=True)
    doc.unlink()

    progress(f"writing a {args.big_mib} MiB file; peak RSS growth in fresh processes")
    big = write_random(tmp / "big.bin", args.big_mib * MiB)
    report.sealed_memory_mib = memory("sealed", big, tmp)
    report.plain_memory_mib = memory("plain", big, tmp)
    big.unlink()
    if report.load > 1.0:
        report.notes.append(
            f"load average {report.load:.1f} on {os.cpu_count()} cores at the start: the "
            "machine was shared; the ratio compares rounds run in turn under the same load"
        )
    return report


def table(r: Report) -> str:
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    lines = [
        f"Sealing benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"median of {r.runs} rounds, MB/s = 10^6 B/s",
        *r.notes,
        "",
        f"1. seal + hash + store of one {r.size_mib} MiB file (embedded block store, synced)",
        f"  plain put (SHA-256 + CID + blocks)               {r.plain_mb_s:8,.0f} MB/s",
        f"  sealed put (SHA-256 + STREAM + CID + blocks)     {r.sealed_mb_s:8,.0f} MB/s",
        f"  ratio sealed / plain                             {r.ratio:8.2f}x   target >= "
        f"{TARGETS['sealed_vs_plain_ratio_min']}x  {ok(r.ratio >= TARGETS['sealed_vs_plain_ratio_min'])}",
        f"  open from the store to a file (fingerprint checked) {r.open_mb_s:5,.0f} MB/s",
        "",
        f"2. peak memory growth (max RSS) storing a {r.big_mib} MiB file",
        f"  sealed put                                       {r.sealed_memory_mib:8.1f} MiB  "
        f"target <= {TARGETS['memory_growth_mib_max']:.0f} MiB  "
        f"{ok(r.sealed_memory_mib <= TARGETS['memory_growth_mib_max'])}",
        f"  plain put, beside it                             {r.plain_memory_mib:8.1f} MiB",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    progress = Progress(args.quiet)
    with tempfile.TemporaryDirectory(prefix="bench-sealing-") as d:
        report = run(args, Path(d), progress)
    return finish(report, TARGETS, args.json, table, progress)


if __name__ == "__main__":
    sys.exit(main())
