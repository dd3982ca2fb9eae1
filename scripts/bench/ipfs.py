#!/usr/bin/env python3
"""Benchmark of the IPFS targets of issue 3, with the js-ipfs daemon and hashlib side by side.

    python scripts/bench/ipfs.py [--runs 5] [--url http://127.0.0.1:5001]

Starts its own js-ipfs daemon (scripts/ipfs-daemon, temporary repo, free 127.0.0.1 port)
unless ``--url`` is given, creates its test files in a temporary folder and deletes them.
Prints, for each target, the median of ``--runs`` runs (MB/s = 10^6 bytes per second):

1. SHA-256 + CID of a 256 MiB file: ours vs the daemon's ``add --only-hash`` (≥ 2x) and vs
   one plain ``hashlib.sha256`` pass (≥ 0.8x);
2. peak memory growth (max RSS) while hashing a 1 GiB file (≤ 64 MiB);
3. embedded store put and get of a 64 MiB file (≥ 400 MB/s each), the daemon's add and cat
   beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ledger.content.blockstore import BlockStore  # noqa: E402
from ledger.content.hashing import hash_file  # noqa: E402
from ledger.content.ipfs import NodeStore  # noqa: E402

MiB = 1024 * 1024
MEMORY_PROBE = """
import sys
from ledger.content.hashing import hash_file
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS:")
hash_file(sys.argv[1])
print(status("VmHWM:") - before)
"""


def write_random(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        for _ in range(size // (16 * MiB)):
            f.write(os.urandom(16 * MiB))
        f.write(os.urandom(size % (16 * MiB)))
    os.sync()  # the test file's own write-back must not be timed as part of the next step
    return path


def median_rate(size: int, runs: int, fn: Callable[[], object]) -> float:
    """Median throughput in MB/s (10^6 B/s) over ``runs`` runs of ``fn``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return size / statistics.median(times) / 1e6


def interleaved(size: int, runs: int, fns: list[Callable[[], object]]) -> list[float]:
    """Median MB/s of each function, run in turn, so that all see the same machine load."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [size / statistics.median(t) / 1e6 for t in times]


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores other processes keep busy right now (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(1, total1 - total0))


def plain_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb", buffering=0) as f:
        while piece := f.read(4 * MiB):
            h.update(piece)
    return h.hexdigest()


def daemon_only_hash(node: NodeStore, path: Path) -> None:
    with path.open("rb") as f:  # the daemon's own hashing, streamed over its HTTP API
        node._call(
            "add", None, node._client.add, f, only_hash=True, pin=False, **node._add_options()
        )


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<46} {value:>14}  {note}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="use this running node instead of starting js-ipfs")
    args = parser.parse_args()
    load = busy_cores()  # before our own daemon starts
    with tempfile.TemporaryDirectory(prefix="bench-ipfs-") as tmp_name:
        tmp = Path(tmp_name)
        url, repo = args.url, tmp / "jsipfs"
        daemon = [sys.executable, str(ROOT / "scripts" / "ipfs-daemon")]
        if url is None:
            port = free_port()
            subprocess.run(
                [*daemon, "start", "--repo", str(repo), "--port", str(port)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
        try:
            return run(tmp, NodeStore(url, timeout=600), args.runs, load)
        finally:
            if args.url is None:
                subprocess.run([*daemon, "stop", "--repo", str(repo)], stdout=subprocess.DEVNULL)


def run(tmp: Path, node: NodeStore, runs: int, load: float) -> int:
    print(
        f"IPFS benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"daemon js-ipfs {node.version()}, median of {runs} runs, MB/s = 10^6 B/s"
    )
    print(
        f"other processes kept {load:.2f} of {os.cpu_count()} cores busy just before"
        + ("  (WARNING: the machine is not idle; parallel figures suffer)" if load > 0.2 else "")
    )
    ok = True

    big = write_random(tmp / "f256", 256 * MiB)
    size = big.stat().st_size
    assert hash_file(big).cid == str(node.only_hash(big.open("rb")).to_v1()), "CID parity"
    ours, plain, theirs = interleaved(
        size,
        runs,
        [lambda: hash_file(big), lambda: plain_sha256(big), lambda: daemon_only_hash(node, big)],
    )
    print("\n1. SHA-256 + CIDv1 of a 256 MiB file")
    row("ours (hash_file: SHA-256 + CID, one pass)", f"{ours:,.0f} MB/s")
    row("daemon add --only-hash --cid-version=1", f"{theirs:,.0f} MB/s")
    row("hashlib.sha256, one plain pass", f"{plain:,.0f} MB/s")
    row("ours / daemon (target >= 2.0)", f"{ours / theirs:.2f}x", verdict(ours >= 2 * theirs))
    row("ours / hashlib (target >= 0.8)", f"{ours / plain:.2f}x", verdict(ours >= 0.8 * plain))
    ok &= ours >= 2 * theirs and ours >= 0.8 * plain
    big.unlink()

    huge = write_random(tmp / "f1g", 1024 * MiB)
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(huge)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    growth = int(probe.stdout.strip()) / 1024
    huge.unlink()
    print("\n2. Peak memory growth (max RSS) while hashing a 1 GiB file")
    row("ours (VmHWM - VmRSS before; target <= 64 MiB)", f"{growth:.1f} MiB", verdict(growth <= 64))
    ok &= growth <= 64

    doc = write_random(tmp / "f64", 64 * MiB)
    size = doc.stat().st_size
    store = BlockStore(tmp / "store")

    def put() -> None:
        store.put_file(doc)

    def clear() -> None:
        for cid in store.pinned():
            store.unpin(cid)
        store.gc()
        os.sync()

    put_times = []
    for _ in range(runs):
        clear()
        start = time.perf_counter()
        put()
        put_times.append(time.perf_counter() - start)
    put_rate = size / statistics.median(put_times) / 1e6
    cid = hash_file(doc).cid

    def get() -> None:
        for _ in store.get(cid):
            pass

    get_rate = median_rate(size, runs, get)
    with doc.open("rb") as f:
        node_cid = node.put(f).cid
    node_add = median_rate(size, runs, lambda: node.put(doc.open("rb")))
    node_cat = median_rate(size, runs, lambda: sum(1 for _ in node.get(node_cid)))
    print("\n3. Embedded store, 64 MiB file (put: hash + write + fsync; get: read + verify)")
    row("embedded put (target >= 400 MB/s)", f"{put_rate:,.0f} MB/s", verdict(put_rate >= 400))
    row("embedded get (target >= 400 MB/s)", f"{get_rate:,.0f} MB/s", verdict(get_rate >= 400))
    row("daemon add via RPC (pin, CID check)", f"{node_add:,.0f} MB/s")
    row("daemon cat via RPC (CID check)", f"{node_cat:,.0f} MB/s")
    ok &= put_rate >= 400 and get_rate >= 400
    print(f"\nall targets: {verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
