#!/usr/bin/env python
"""Benchmark of the auditors' queries on SQLite and PostgreSQL, and of the consistency check.

    .venv/bin/python scripts/bench/queries.py --documents 1000000 --db sqlite --db postgresql

For each database: fill an empty index with ``--documents`` synthetic documents and their
attestations (``ledger.index.synthetic``: ~50 organisations, 17 document types, a year of
registrations, ~1 attestation per document; rows go straight into the index tables), then
time ``--queries`` random queries of each kind (issuer + type + time range; consignment;
attester + verdict, as attestations and as documents; the second page of the first kind)
and report p50/p95/max, then export ``--export-rows`` documents as CSV and report the time
and the peak RSS growth while exporting. PostgreSQL is a private server started with
``scripts/postgres`` in a temporary folder (fsync on, as in production) and stopped at the
end. ``--check N`` also registers N documents on a local anvil, indexes them and times
``tradeledger index check``'s work (rows checked per second).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, select  # noqa: E402

from ledger.db import documents, make_engine, sqlite_url  # noqa: E402
from ledger.index import queries  # noqa: E402
from ledger.index.synthetic import START, YEAR, Shape, load  # noqa: E402

DAY = 86400


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PeakRss:
    """Samples the resident set size every 5 ms while active."""

    def __enter__(self) -> PeakRss:
        self.base = self.peak = rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / 1024


def timed(samples: list[float], fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
    }


def run_queries(engine: Engine, n: int, shape: Shape, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    exporters = list(range(1, shape.organisations - shape.customs + 1))
    customs = list(range(shape.organisations - shape.customs + 1, shape.organisations + 1))
    weights = [1 / i for i in range(1, len(exporters) + 1)]
    with engine.connect() as conn:
        consignments = int(
            conn.execute(
                select(func.count(func.distinct(documents.c.consignment_ref)))
            ).scalar_one()
        )
    from ledger.index.synthetic import TYPE_WEIGHTS, VERDICT_WEIGHTS

    types, type_weights = list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values())
    verdicts = list(VERDICT_WEIGHTS)
    kinds: dict[str, list[float]] = {
        "issuer+type+time": [],
        "issuer+type+time, page 2": [],
        "consignment": [],
        "attestations: attester+verdict": [],
        "documents: attester+verdict": [],
        "documents: attester+verdict+time": [],
    }
    rows: dict[str, list[int]] = {k: [] for k in kinds}
    for i in range(n + 10):
        warm = i < 10  # the first queries warm the caches and the pool: not counted
        org = rng.choices(exporters, weights)[0]
        doc_type = rng.choices(types, type_weights)[0]
        start = START + rng.randrange(YEAR - 90 * DAY)
        span = rng.choice((7, 30, 90)) * DAY
        f = queries.DocumentFilter(
            org_id=org, doc_type=doc_type, time_from=start, time_to=start + span
        )
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("issuer+type+time", lambda f=f: queries.find_documents(engine, f, limit=100)),
            (
                "consignment",
                lambda c=rng.randrange(1, consignments + 1): queries.find_documents(
                    engine, queries.DocumentFilter(consignment_ref=f"SMGS-{c:07d}"), limit=100
                ),
            ),
            (
                "attestations: attester+verdict",
                lambda a=rng.choice(customs), v=rng.choice(verdicts): queries.find_attestations(
                    engine, queries.AttestationFilter(attester_org_id=a, verdict=v), limit=100
                ),
            ),
            (
                "documents: attester+verdict",
                lambda a=rng.choice(customs), v=rng.choice(verdicts): queries.find_documents(
                    engine, queries.DocumentFilter(attester_org_id=a, verdict=v), limit=100
                ),
            ),
            (
                "documents: attester+verdict+time",
                lambda a=rng.choice(customs), v=rng.choice(verdicts), s=start: (
                    queries.find_documents(
                        engine,
                        queries.DocumentFilter(
                            attester_org_id=a, verdict=v, time_from=s, time_to=s + 30 * DAY
                        ),
                        limit=100,
                    )
                ),
            ),
        ]
        for name, fn in runs:
            samples: list[float] = []
            page = timed(samples, fn)
            if not warm:
                kinds[name].extend(samples)
                rows[name].append(len(page.items))
            if name == "issuer+type+time":
                cursor = page.next_cursor
                if cursor is not None:
                    samples = []
                    more = timed(
                        samples, lambda f=f, c=cursor: queries.find_documents(engine, f, c, 100)
                    )
                    if not warm:
                        kinds["issuer+type+time, page 2"].extend(samples)
                        rows["issuer+type+time, page 2"].append(len(more.items))
    return {
        name: {**summary(s), "queries": len(s), "mean_rows": round(statistics.mean(rows[name]), 1)}
        for name, s in kinds.items()
        if s
    }


def run_export(engine: Engine, target: int, folder: Path) -> dict[str, Any]:
    """A CSV export of about ``target`` documents: the time range that holds that many."""
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(documents)).scalar_one())
        span = int(YEAR * min(1.0, target / total))
        time_from = START + 30 * DAY
        cutoff = conn.execute(
            select(documents.c.registered_at)
            .where(documents.c.registered_at >= time_from)
            .order_by(documents.c.registered_at)
            .offset(target)
            .limit(1)
        ).scalar()
    time_to = int(cutoff) if cutoff is not None else time_from + span
    f = queries.DocumentFilter(time_from=time_from, time_to=time_to)
    out = folder / "export.csv"
    with PeakRss() as rss, out.open("w") as handle:
        started = time.perf_counter()
        for chunk in queries.export_csv(engine, f):
            handle.write(chunk)
        elapsed = time.perf_counter() - started
    with out.open() as handle:
        lines = sum(1 for _ in handle) - 1
    size = out.stat().st_size
    out.unlink()
    return {
        "rows": lines,
        "seconds": round(elapsed, 2),
        "rows_per_s": round(lines / elapsed),
        "mib": round(size / 2**20, 1),
        "peak_rss_growth_mib": round(rss.growth_mib, 1),
        "rss_before_mib": round(rss.base / 1024, 1),
    }


def bench_database(kind: str, url: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    engine = make_engine(url)
    shape = Shape(seed=args.seed)
    started = time.perf_counter()

    def progress(docs: int, atts: int) -> None:
        if docs % 100_000 == 0:
            print(
                f"  {kind}: {docs:,} documents, {atts:,} attestations "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )

    n_docs, n_atts = load(engine, args.documents, shape, progress)
    load_s = time.perf_counter() - started
    print(
        f"{kind}: loaded {n_docs:,} documents and {n_atts:,} attestations in {load_s:.0f} s",
        file=sys.stderr,
    )
    result: dict[str, Any] = {
        "documents": n_docs,
        "attestations": n_atts,
        "load_seconds": round(load_s, 1),
        "queries": run_queries(engine, args.queries, shape, args.seed + 1),
        "export_csv": run_export(engine, args.export_rows, folder),
    }
    engine.dispose()
    return result


def start_postgres(folder: Path) -> str:
    out = subprocess.run(
        [str(ROOT / "scripts" / "postgres"), "start", str(folder)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def stop_postgres(folder: Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "postgres"), "stop", str(folder)], check=False)


def bench_check(n: int, folder: Path) -> dict[str, Any]:
    """Register ``n`` documents on anvil, index them, time the consistency check."""
    from index import fill

    from ledger.chain.localchain import LocalChain, free_port
    from ledger.index.consistency import Checker, check_index
    from ledger.index.indexer import Indexer

    chain = LocalChain("anvil", free_port(), folder / "chain", persistent=False)
    chain.start()
    try:
        registry, deployment_block = fill(chain.url, n, 400)
        engine = make_engine(sqlite_url(folder / "check.db"))
        Indexer(engine, registry, deployment_block).sync()
        started = time.perf_counter()
        report = check_index(engine, Checker(registry))
        elapsed = time.perf_counter() - started
    finally:
        chain.stop()
    rows = report.documents + report.attestations
    return {
        "rows": rows,
        "differences": len(report.differences),
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="random queries of each kind")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument(
        "--db", action="append", choices=["sqlite", "postgresql"], help="default: both"
    )
    parser.add_argument("--check", type=int, default=0, help="documents for the check benchmark")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    results: dict[str, Any] = {"documents": args.documents, "queries_per_kind": args.queries}
    with tempfile.TemporaryDirectory(prefix="bench-queries-", dir=os.environ.get("TMPDIR")) as tmp:
        folder = Path(tmp)
        for kind in args.db or ["sqlite", "postgresql"]:
            if kind == "sqlite":
                url = sqlite_url(folder / "index.db")
                results[kind] = bench_database(kind, url, args, folder)
            else:
                # its own folder under /tmp: the server runs as `postgres` when we are root
                pg = Path(tempfile.mkdtemp(prefix="bench-queries-pg-"))
                try:
                    results[kind] = bench_database(kind, start_postgres(pg), args, folder)
                finally:
                    stop_postgres(pg)
                    shutil.rmtree(pg, ignore_errors=True)
            print(json.dumps({kind: results[kind]}, indent=2), file=sys.stderr)
        if args.check:
            results["check"] = bench_check(args.check, folder)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
