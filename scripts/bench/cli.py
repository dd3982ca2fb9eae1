#!/usr/bin/env python
"""Benchmark of the command line's start-up: `tradeledger --help`, `cid` of a small file,
`verify` of a fingerprint and `admin org list` against a running local service, each beside
`python -c pass` run the same way in the same run (the interpreter's own start-up, the floor).

    .venv/bin/python scripts/bench/cli.py [--runs 15] [--json]

Targets (issue 12.8, on an idle machine): --help <= 0.3 s, cid <= 0.4 s, verify <= 0.6 s;
`admin org list` (issue 17.1) has none of its own: it should stay near `verify`.
A busy machine slows every process alike: the ratios to `python -c pass` say how much
of each figure is the command's own. The service (anvil, the contract, the demo data,
uvicorn) runs on free 127.0.0.1 ports and is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.bench.report import Progress, finish

TARGETS = {"help": 0.3, "cid": 0.4, "verify": 0.6}
BIN = Path(sys.executable).parent


@dataclass
class Report:
    runs: int
    seconds: dict[str, float]  # median wall time per command
    ratio_to_python: dict[str, float]
    targets_met: bool


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall time of ``argv`` over ``runs`` runs (after one untimed warm-up)."""
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        took = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-2000:]}")
        if i:
            times.append(took)
    return statistics.median(times)


def start_service(folder: Path) -> tuple[str, str, str, object]:
    """anvil + deployment + demo data + uvicorn in a thread; returns (url, sha256, the admin
    API key, stopper)."""
    import uvicorn

    from api.app import create_app
    from ledger.chain.deployment import ensure_deployed
    from ledger.chain.localchain import LocalChain, free_port
    from ledger.config import Settings
    from ledger.flows.demo import ensure_demo
    from ledger.flows.runtime import Runtime

    chain = LocalChain("anvil", free_port(), folder / "chain", persistent=False)
    chain.start()
    settings = Settings(data_dir=folder / "service", rpc_url=chain.url, port=free_port(), demo=True)
    ensure_deployed(settings)
    rt = Runtime.open(settings)
    rt.check_chain()
    try:
        creds = ensure_demo(rt)
    finally:
        rt.close()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{settings.port}"
    import httpx

    content = os.urandom(1000)
    r = httpx.post(
        f"{url}/v1/documents",
        files={"file": ("bench.pdf", content)},
        data={"doc_type": "861", "consignment_ref": "BENCH-CLI"},
        headers={"Authorization": f"Bearer {creds['api_keys']['exporter']}"},
        timeout=60,
    )
    r.raise_for_status()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        chain.stop()

    return url, r.json()["sha256"], creds["api_keys"]["admin"], stop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    progress = Progress(args.quiet)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = Path(tmp)
        progress("starting anvil and the service")
        url, sha256, admin, stop = start_service(folder)
        small = folder / "small.pdf"
        small.write_bytes(os.urandom(10_000))
        env = {
            **os.environ,
            "TRADELEDGER_API_URL": url,
            "TRADELEDGER_DATA_DIR": str(folder / "client"),
        }
        python = str(BIN / "python")
        tool = str(BIN / "tradeledger")
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "help": [tool, "--help"],
            "cid": [tool, "cid", str(small)],
            "verify": [tool, "verify", "--sha256", sha256],
            "admin org list": [tool, "--key", admin, "admin", "org", "list"],
        }
        seconds = {}
        try:
            for name, argv in commands.items():
                progress(f"timing {name} ({args.runs} runs)")
                seconds[name] = timed(argv, env, args.runs)
        finally:
            stop()  # type: ignore[operator]
    floor = seconds["python -c pass"]
    report = Report(
        args.runs,
        {k: round(v, 3) for k, v in seconds.items()},
        {k: round(v / floor, 1) for k, v in seconds.items()},
        all(seconds[k] <= t for k, t in TARGETS.items()),
    )
    return finish(report, TARGETS, args.json, table, progress)


def table(report: Report) -> str:
    lines = [f"{'command':<16} {'median s':>9} {'x python':>9} {'target s':>9}"]
    for name, value in report.seconds.items():
        target = TARGETS.get(name)
        lines.append(
            f"{name:<16} {value:>9.3f} {report.ratio_to_python[name]:>9.1f} "
            f"{target if target is not None else '':>9}"
        )
    lines.append(f"(median of {report.runs} runs each; targets met: {report.targets_met})")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
