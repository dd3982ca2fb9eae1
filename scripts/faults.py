#!/usr/bin/env python3
"""Fault injection (issue 13): clients register while the chain and the service are killed.

    .venv/bin/python scripts/faults.py [--chain-kills 20] [--service-kills 20]
        [--both-kills 10] [--clients 20] [--seed N] [--json]

Starts, in a temporary folder, a persistent anvil (state written every second) on a free
127.0.0.1 port, deploys the ledger, creates the demo organisations and starts the service
(``python -m cli.main serve``) as a child process. ``--clients`` threads then register
small random documents without pause; acknowledged (201/202) fingerprints are kept. In
random order, at random moments (0.5 to 3 s apart), the chain, the service or both are
killed with SIGKILL by PID and started again. While it runs, a checker reads acknowledged
documents (``GET /v1/documents/{sha256}``) and counts an answer ``registered`` for a
document the chain does not hold as a false answer.

At the end it waits for the service to drain its outbox and prints:

- ``lost``: acknowledged documents not on chain, counted apart as ``not_in_state`` (the
  contract's ``getDocument`` does not know them) and ``no_log`` (no ``DocumentRegistered``
  event: no block, receipt or evidence; a state restored ahead of its blocks says
  registered for these);
- ``duplicated``: documents with more than one ``DocumentRegistered`` event;
- ``stuck``: jobs still pending 60 s after the last restart;
- ``unreadable_state``: chain starts that failed (an unreadable state file);
- ``false_answers``: answers of registered for something not on chain at that moment;
- ``recovery_seconds``: the longest time, after a chain restart, from the chain answering
  to the service's ``/health`` saying 200 with nothing pending;
- ``service_restart_seconds``: the same after a restart of the service (or of both), which
  includes the service's own start (imports, unlocking keystores).

Everything it starts is stopped by PID at the end. Exit status 1 if a count is not 0; the
run's folder (chain snapshots and log, service database, outbox and log) is then kept and
its path printed (``--keep`` keeps it always), so a failing run can be examined.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.chain.deployment import ensure_deployed  # noqa: E402
from ledger.chain.localchain import LocalChain, free_port, stop_pid  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.errors import ChainUnavailable  # noqa: E402
from ledger.flows.demo import ensure_demo  # noqa: E402
from ledger.flows.runtime import Runtime  # noqa: E402

SECRET = "faults-script-only-secret"


class Lab:
    """The chain, the service and what the clients were told."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.chain = LocalChain("anvil", free_port(), folder / "chain", persistent=True)
        self.settings = Settings(
            data_dir=folder / "data",
            rpc_url=self.chain.url,
            chain="anvil",
            port=free_port(),
            keystore_secret=SECRET,  # type: ignore[arg-type]
        )
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self.service: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.acked: set[str] = set()
        self.lock = threading.Lock()
        self.false_answers: list[str] = []
        self.unreadable_state = 0

    # ------------------------------------------------------------ processes

    def start_chain(self) -> None:
        try:
            self.chain.start()
        except ChainUnavailable as exc:
            self.unreadable_state += 1
            raise SystemExit(f"faults.py: the chain does not start: {exc}") from exc

    def start_service(self) -> None:
        env = {
            **os.environ,
            "TRADELEDGER_DATA_DIR": str(self.settings.data_dir),
            "TRADELEDGER_RPC_URL": self.settings.rpc_url,
            "TRADELEDGER_CHAIN": "anvil",
            "TRADELEDGER_PORT": str(self.settings.port),
            "TRADELEDGER_KEYSTORE_SECRET": SECRET,
            "PYTHONPATH": str(ROOT),
        }
        log = (self.folder / "service.log").open("ab")
        self.service = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve"],
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    def kill_chain(self) -> None:
        self.chain.stop(signal.SIGKILL)

    def kill_service(self) -> None:
        if self.service is not None:
            stop_pid(self.service.pid, signal.SIGKILL)
            self.service.wait()
            self.service = None

    def stop(self) -> None:
        if self.service is not None:
            stop_pid(self.service.pid)
            self.service.wait()
        self.chain.stop()

    def health(self) -> dict[str, Any] | None:
        try:
            r = httpx.get(self.url + "/health", timeout=2)
        except httpx.HTTPError:
            return None
        body: dict[str, Any] = r.json()
        body["_status"] = r.status_code
        return body

    def wait_recovered(self, timeout: float) -> float:
        """Seconds from the chain answering to /health 200 with nothing pending."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            h = self.health()
            if h is not None and h["_status"] == 200 and h["pending"] == 0:
                return time.monotonic() - started
            time.sleep(0.1)
        return float("inf")

    # ------------------------------------------------------------ clients

    def client(self, stop: threading.Event, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                content = rng.randbytes(2000)
                try:
                    r = http.post(
                        self.url + "/v1/documents",
                        files={"file": ("d.pdf", content)},
                        data={"doc_type": "380", "consignment_ref": "FAULTS"},
                        headers={"Authorization": f"Bearer {self.token}"},
                    )
                except httpx.HTTPError:
                    time.sleep(0.2)
                    continue
                if r.status_code in (201, 202):
                    with self.lock:
                        self.acked.add(r.json()["sha256"])
                elif r.status_code >= 500 and r.status_code != 503:
                    print(f"faults.py: {r.status_code} {r.text[:200]}", file=sys.stderr)
                else:
                    time.sleep(0.1)

    def checker(self, stop: threading.Event, rt_url: str) -> None:
        """Read acknowledged documents; 'registered' must mean on chain."""
        from web3 import Web3

        from ledger.chain import Registry, read_record

        deployment = read_record(self.settings.deployment_file)
        assert deployment is not None
        registry = Registry(
            Web3(Web3.HTTPProvider(rt_url, request_kwargs={"timeout": 2})), deployment.address
        )
        rng = random.Random(0)
        with httpx.Client(timeout=5) as http:
            while not stop.is_set():
                with self.lock:
                    sample = rng.sample(sorted(self.acked), min(5, len(self.acked)))
                for sha in sample:
                    try:
                        r = http.get(f"{self.url}/v1/documents/{sha}")
                        if r.status_code != 200 or r.json()["record"]["status"] != "registered":
                            continue
                        if registry.document(bytes.fromhex(sha)) is None:
                            self.false_answers.append(sha)
                    except Exception:  # the service or the chain is down: no answer
                        continue
                time.sleep(0.2)


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="tradeledger-faults-")
    result: dict[str, Any] = {"folder": tmp}
    try:
        result.update(_run(args, rng, Path(tmp)))
        return result
    finally:
        if not args.keep and result.get("clean"):
            shutil.rmtree(tmp, ignore_errors=True)
            result["folder"] = None


def _run(args: argparse.Namespace, rng: random.Random, tmp: Path) -> dict[str, Any]:
    lab = Lab(tmp)
    lab.settings.data_dir.mkdir(parents=True)
    lab.start_chain()
    try:
        ensure_deployed(lab.settings)
        rt = Runtime.open(lab.settings)
        try:
            lab.token = str(ensure_demo(rt)["api_keys"]["exporter"])
        finally:
            rt.close()
        lab.start_service()
        if lab.wait_recovered(60) == float("inf"):
            raise SystemExit("faults.py: the service did not start")
        stop = threading.Event()
        threads = [
            threading.Thread(target=lab.client, args=(stop, i), daemon=True)
            for i in range(args.clients)
        ]
        threads.append(
            threading.Thread(target=lab.checker, args=(stop, lab.chain.url), daemon=True)
        )
        for t in threads:
            t.start()
        kills = (
            ["chain"] * args.chain_kills
            + ["service"] * args.service_kills
            + ["both"] * args.both_kills
        )
        rng.shuffle(kills)
        recovery = {"chain": 0.0, "service": 0.0, "both": 0.0}
        for i, kind in enumerate(kills):
            time.sleep(rng.uniform(0.5, 3.0))
            if kind in ("chain", "both"):
                lab.kill_chain()
            if kind in ("service", "both"):
                lab.kill_service()
            time.sleep(rng.uniform(0.0, 1.0))
            if kind in ("chain", "both"):
                lab.start_chain()
            if kind in ("service", "both"):
                lab.start_service()
            took = lab.wait_recovered(60)
            recovery[kind] = max(recovery[kind], took)
            print(f"kill {i + 1}/{len(kills)}: {kind}, recovered in {took:.1f} s", flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=40)
        lab.wait_recovered(60)
        health = lab.health() or {"pending": -1}
        stuck = int(health["pending"])
        not_in_state, no_log, duplicated = count_lost_and_duplicated(lab)
        lost = not_in_state | no_log
        figures = {
            "kills": {
                "chain": args.chain_kills,
                "service": args.service_kills,
                "both": args.both_kills,
            },
            "clients": args.clients,
            "acknowledged": len(lab.acked),
            "lost": len(lost),
            "not_in_state": len(not_in_state),
            "no_log": len(no_log),
            "duplicated": duplicated,
            "stuck": stuck,
            "unreadable_state": lab.unreadable_state,
            "false_answers": len(lab.false_answers),
            "recovery_seconds": round(recovery["chain"], 1),
            "service_restart_seconds": round(max(recovery["service"], recovery["both"]), 1),
        }
        if lost:
            (tmp / "lost.txt").write_text(
                "".join(
                    f"{sha} {'no_log ' if sha in no_log else ''}"
                    f"{'not_in_state' if sha in not_in_state else ''}\n"
                    for sha in sorted(lost)
                )
            )
        figures["clean"] = all(figures[c] == 0 for c in COUNTS)
        return figures
    finally:
        lab.stop()


COUNTS = ("lost", "duplicated", "stuck", "unreadable_state", "false_answers")


def count_lost_and_duplicated(lab: Lab) -> tuple[set[str], set[str], int]:
    """The acknowledged fingerprints the contract's state lacks, those without a
    ``DocumentRegistered`` log, and how many fingerprints have more than one log."""
    from collections import Counter

    from web3 import Web3

    from ledger.chain import Registry, read_record

    deployment = read_record(lab.settings.deployment_file)
    assert deployment is not None
    w3 = Web3(Web3.HTTPProvider(lab.chain.url, request_kwargs={"timeout": 60}))
    registry = Registry(w3, deployment.address)
    logs = registry.contract.events.DocumentRegistered().get_logs(
        from_block=deployment.block_number
    )
    counts = Counter(bytes(entry["args"]["fingerprint"]).hex() for entry in logs)
    no_log = {sha for sha in lab.acked if counts[sha] == 0}
    not_in_state = {sha for sha in lab.acked if registry.document(bytes.fromhex(sha)) is None}
    duplicated = sum(1 for n in counts.values() if n > 1)
    return not_in_state, no_log, duplicated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chain-kills", type=int, default=20)
    parser.add_argument("--service-kills", type=int, default=20)
    parser.add_argument("--both-kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's folder even when all counts are 0"
    )
    args = parser.parse_args(argv)
    result = run(args)
    result["seed"] = args.seed
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    if result["folder"]:
        print(f"faults.py: the run's folder is kept in {result['folder']}", file=sys.stderr)
    return 0 if result["clean"] else 1


if __name__ == "__main__":
    sys.exit(main())
