#!/usr/bin/env python3
"""Service benchmark (issue 4): the API beside a bare web3.py loop, on one fresh local anvil.

    .venv/bin/python scripts/bench/service.py [--singles 400] [--clients 16]
        [--batch-size 500] [--batches 4] [--baseline 300] [--duration 10]
        [--connections 8] [--json] [--quiet]

One run starts, in a temporary folder (under ``$TMPDIR/tradeledger-bench``, marked
``chattr +T`` so that each run's files get a block group of their own: see ``run_folder``),
a non-persistent anvil on a free 127.0.0.1 port,
deploys the ledger, creates the demo organisations and API keys, and starts the service
(``python -m cli.main serve``) as a separate process with ``TRADELEDGER_*`` pointing at that
folder and chain. It then measures, against the same chain:

1. baseline: a bare web3.py loop sending signed ``register`` transactions (calldata built
   beforehand, fixed gas, fees and nonce; sign, ``send_raw_transaction``, receipt polled
   every millisecond) from a key of its own organisation. It runs once before and once
   after the API's single registrations, and the mean is the reference: anvil gets slower
   as blocks accumulate, so this cancels the drift;
2. single registrations: multipart ``POST /v1/documents`` of 100 KB random files from
   ``--clients`` concurrent clients (threads; one keep-alive connection each), timed in
   steady state: after one untimed registration per client and once the service's index
   has caught up with the chain;
3. batch registration: ``POST /v1/documents/batch`` of ``--batch-size`` 100 KB files,
   ``--batches`` times, documents per second end to end (upload, store, one transaction),
   after one untimed batch and once the index has caught up;
4. verification by hash: ``wrk`` (Debian package ``wrk``) POSTs ``{"sha256": ...}`` of the
   registered documents to ``/v1/verify`` for ``--duration`` seconds over ``--connections``
   connections; requests/s and the p50/p99 latency wrk reports;
5. memory: the peak RSS of the service's process tree (sum over its processes, read from
   ``/proc`` every 50 ms) during the verification load.

Prints a table (figure, value, target, PASS/FAIL, ratio) or ``--json``, stops the service and
anvil by PID, and exits 1 if a target is missed. Every request body is built before its
phase is timed, so the client's own work is mostly sending bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_typing import HexStr  # noqa: E402
from report import Progress, finish  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.types import Nonce, TxParams, Wei  # noqa: E402

from ledger.chain.deployment import ensure_deployed  # noqa: E402
from ledger.chain.localchain import LocalChain, free_port, stop_pid  # noqa: E402
from ledger.cid import split_cid  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.content.hashing import hash_bytes  # noqa: E402
from ledger.flows.demo import ensure_demo  # noqa: E402
from ledger.flows.runtime import Runtime  # noqa: E402
from ledger.types import OrgKind  # noqa: E402

DOC_SIZE = 100 * 1024
DOC_TYPE = 861  # certificate of origin
YEAR = 365 * 24 * 3600
MIB = 1024 * 1024
TARGETS = {
    "single_vs_baseline": 0.7,  # ratio of the API's registrations/s to the bare loop's
    "batch_docs_per_s": 1000.0,
    "verify_rps": 2000.0,
    "verify_p99_ms": 20.0,
    "peak_rss_mib": 300.0,
}


@dataclass
class Row:
    """One line of the report."""

    key: str
    figure: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    result: str = ""  # PASS, FAIL or "" (for information)
    ratio: float | None = None  # value / target (or / baseline for the single registrations)
    note: str = ""


@dataclass
class Report:
    setup: dict[str, Any]
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row, compared: float | None = None) -> Row:
        """Add ``row``; ``compared`` is what its target applies to (default: its value)."""
        subject = row.value if compared is None else compared
        if row.target is not None:
            met = subject >= row.target if row.higher_is_better else subject <= row.target
            row.result = "PASS" if met else "FAIL"
            if compared is None and row.target:
                row.ratio = round(row.value / row.target, 3)
        self.rows.append(row)
        return row

    @property
    def targets_met(self) -> bool:
        return all(r.result != "FAIL" for r in self.rows)


# ---------------------------------------------------------------------------- setup


@contextmanager
def anvil(folder: Path) -> Iterator[LocalChain]:
    chain = LocalChain("anvil", free_port(), folder / "anvil", persistent=False)
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()  # SIGTERM to the process group led by anvil's PID


def prepare(settings: Settings) -> tuple[str, LocalAccount]:
    """Deploy, create the demo organisations; return the exporter's API key and a bench key.

    The bench key belongs to an exporter organisation of its own, so the baseline loop never
    shares a nonce with the service's signing keys.
    """
    ensure_deployed(settings)
    rt = Runtime.open(settings)
    try:
        creds = ensure_demo(rt)
        admin = rt.sender("deployer")
        org_id, _ = rt.registry.admit_organisation(
            admin, "Bench Baseline Exporter (not a real party)", "KZ", OrgKind.EXPORTER
        )
        account: LocalAccount = Account.create()
        head = int(rt.w3.eth.get_block("latest")["timestamp"])
        rt.registry.add_key(admin, org_id, account.address, head - 60, head + YEAR)
        source = rt.w3.eth.accounts[0]
        tx = rt.w3.eth.send_transaction(
            {"from": source, "to": account.address, "value": Wei(10**21)}
        )
        rt.w3.eth.wait_for_transaction_receipt(tx, poll_latency=0.005)
    finally:
        rt.close()
    return str(creds["api_keys"]["exporter"]), account


@dataclass
class Service:
    """The API service as a child process (its own session, so its workers stop with it)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def pids(self) -> list[int]:
        """The service's process and all its descendants."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with suppress(OSError):
                    todo += [int(c) for c in task.read_text().split()]
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the service's processes."""
        total = 0
        for pid in self.pids():
            with suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total


@contextmanager
def service(
    settings: Settings,
    profile: Path | None,
    progress: Progress,
    source: Path = ROOT,
) -> Iterator[Service]:
    env = {
        **os.environ,
        "TRADELEDGER_DATA_DIR": str(settings.data_dir),
        "TRADELEDGER_RPC_URL": settings.rpc_url,
        "TRADELEDGER_CHAIN": "anvil",
        "TRADELEDGER_HOST": "127.0.0.1",
        "TRADELEDGER_PORT": str(settings.port),
    }
    cmd = [sys.executable, "-m", "cli.main", "serve"]
    if profile is not None:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        cmd = [py_spy, "record", "--format", "raw", "-r", "100", "--idle", "--subprocesses", "-o",
               str(profile), "--", *cmd]  # fmt: skip
    log = settings.data_dir / "service.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            cmd,
            cwd=settings.data_dir,  # no .env of the project's folder
            env={**env, "PYTHONPATH": str(source)},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    svc = Service(process, f"http://127.0.0.1:{settings.port}", log)
    try:
        wait_healthy(svc, 60.0)
        progress(f"service at {svc.url} (pid {process.pid})")
        yield svc
    except BaseException:
        stop_pid(process.pid, signal.SIGINT if profile else signal.SIGTERM, timeout=30)
        process.wait()
        print(f"--- service log (tail) ---\n{log.read_text()[-4000:]}", file=sys.stderr)
        raise
    else:
        stop_pid(process.pid, signal.SIGINT if profile else signal.SIGTERM, timeout=30)
        process.wait()


def wait_healthy(svc: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if svc.process.poll() is not None:
            sys.exit(f"bench/service.py: the service exited:\n{svc.log.read_text()[-3000:]}")
        try:
            r = httpx.get(svc.url + "/health", timeout=2)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"bench/service.py: the service is not healthy:\n{svc.log.read_text()[-3000:]}")
        time.sleep(0.1)


# ---------------------------------------------------------------------------- baseline


def baseline(w3: Web3, address: str, account: LocalAccount, count: int) -> float:
    """Registrations/s of a bare loop: sign, send_raw_transaction, poll the receipt (1 ms)."""
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=registry_abi())
    calldata: list[HexStr] = []
    first: list[Any] = []
    for i in range(count):
        fp = hash_bytes(os.urandom(64))
        args = [fp.sha256_bytes, DOC_TYPE, *split_cid(fp.cid_bytes), f"SMGS-BASE-{i:06d}"]
        calldata.append(HexStr(contract.encode_abi("register", args=args)))
        first = first or args
    estimate = contract.functions.register(*first).estimate_gas({"from": account.address})
    gas = estimate + estimate // 5 + 10_000
    base = int(w3.eth.get_block("pending").get("baseFeePerGas", 0))
    chain_id = w3.eth.chain_id
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    started = time.perf_counter()
    for i, data in enumerate(calldata):
        tx: TxParams = {
            "to": contract.address,
            "data": data,
            "gas": gas,
            "maxFeePerGas": Wei(2 * base + 10**9),
            "maxPriorityFeePerGas": Wei(10**9),
            "nonce": Nonce(nonce + i),
            "chainId": chain_id,
            "value": Wei(0),
            "type": 2,
        }
        signed = account.sign_transaction(tx)  # type: ignore[arg-type]
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.001)
        if receipt["status"] != 1:
            sys.exit(f"bench/service.py: baseline transaction {i} reverted")
    return count / (time.perf_counter() - started)


def registry_abi() -> list[dict[str, Any]]:
    from ledger.chain.compile import load_artifact

    abi: list[dict[str, Any]] = load_artifact("TradeDocumentLedger")["abi"]
    return abi


# ---------------------------------------------------------------------------- API load


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body (built once, outside the timed part) and its content type."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for i, (name, data) in enumerate(files):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="doc-{i}.pdf"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        parts.append(data)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def singles(svc: Service, token: str, count: int, clients: int) -> tuple[float, list[str]]:
    """Registrations/s of ``count`` single uploads from ``clients`` concurrent clients, in
    steady state: after one untimed registration per client (the first unlocks the signing
    key's keystore) and once the service's index has caught up with the chain."""
    bodies = [
        multipart(
            [("doc_type", str(DOC_TYPE)), ("consignment_ref", f"SMGS-2026-{i:07d}")],
            [("file", os.urandom(DOC_SIZE))],
        )
        for i in range(clients + count)
    ]
    local = threading.local()
    clients_made: list[httpx.Client] = []

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                base_url=svc.url, timeout=120, headers={"Authorization": f"Bearer {token}"}
            )
            clients_made.append(local.client)
        c: httpx.Client = local.client
        return c

    def send(i: int) -> str:
        body, ctype = bodies[i]
        r = client().post("/v1/documents", content=body, headers={"Content-Type": ctype})
        if r.status_code != 201:
            raise RuntimeError(f"single registration {i}: HTTP {r.status_code}: {r.text[:300]}")
        return str(r.json()["sha256"])

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: client().get("/health"), range(clients * 4)))  # connections
        list(pool.map(send, range(clients)))  # warm-up, untimed
        wait_caught_up(svc)
        started = time.perf_counter()
        hashes = list(pool.map(send, range(clients, clients + count)))
        elapsed = time.perf_counter() - started
    for c in clients_made:
        c.close()
    return count / elapsed, hashes


def batches(
    svc: Service, token: str, size: int, count: int, in_flight: int
) -> tuple[float, list[str], list[float]]:
    """Documents/s of ``count`` batches of ``size`` 100 KB files, ``in_flight`` at a time;
    the hashes, and each request's seconds. Timed in steady state: after one untimed batch
    and once the service's index has caught up with the chain."""
    bodies = [
        multipart(
            [("doc_type", str(DOC_TYPE)), ("consignment_ref", f"SMGS-BATCH-{b:04d}")],
            [("files", os.urandom(DOC_SIZE)) for _ in range(size)],
        )
        for b in range(count + 1)
    ]
    headers = {"Authorization": f"Bearer {token}"}

    seconds: list[float] = []

    def send(b: int) -> list[str]:
        body, ctype = bodies[b]
        with httpx.Client(base_url=svc.url, timeout=600, headers=headers) as c:
            sent = time.perf_counter()
            r = c.post("/v1/documents/batch", content=body, headers={"Content-Type": ctype})
            seconds.append(time.perf_counter() - sent)
        if r.status_code != 201:
            raise RuntimeError(f"batch {b}: HTTP {r.status_code}: {r.text[:300]}")
        return [d["sha256"] for d in r.json()["documents"]]

    send(count)  # warm-up, untimed
    seconds.clear()
    wait_caught_up(svc)
    with ThreadPoolExecutor(in_flight) as pool:
        started = time.perf_counter()
        results = list(pool.map(send, range(count)))
        elapsed = time.perf_counter() - started
    return size * count / elapsed, [h for hs in results for h in hs], seconds


def wait_caught_up(svc: Service, timeout: float = 60.0) -> None:
    """Until the service's index has every block of the chain (``/health`` lag 0)."""
    deadline = time.monotonic() + timeout
    while httpx.get(svc.url + "/health", timeout=10).json()["index"]["lag"] != 0:
        if time.monotonic() > deadline:
            sys.exit(f"bench/service.py: the service's index still lags after {timeout} s")
        time.sleep(0.1)


def wait_indexed(svc: Service, sample: list[str], timeout: float = 120.0) -> None:
    """Until the service verifies every ``sample`` hash as VALID."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=svc.url, timeout=30) as c:
        for h in sample:
            while True:
                verdict = c.post("/v1/verify", json={"sha256": h}).json().get("verdict")
                if verdict == "VALID":
                    break
                if time.monotonic() > deadline:
                    sys.exit(f"bench/service.py: {h} is still {verdict} after {timeout} s")
                time.sleep(0.2)


WRK_LUA = """
local hashes = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"sha256":"' .. hashes[(n %% #hashes) + 1] .. '"}'
  return wrk.format("POST", "/v1/verify", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, \\"p99_us\\": %%d, " ..
    "\\"non2xx\\": %%d, \\"errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def verify_load(
    svc: Service, hashes: list[str], duration: int, connections: int, threads: int, folder: Path
) -> tuple[dict[str, Any], int]:
    """wrk's figures for POST /v1/verify, and the service's peak RSS (bytes) meanwhile."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench/service.py: wrk is missing: apt-get install wrk")
    script = folder / "verify.lua"
    script.write_text(WRK_LUA % ", ".join(f'"{h}"' for h in hashes))
    warm = [wrk, "-t1", "-c2", "-d2s", "-s", str(script), svc.url + "/v1/verify"]
    subprocess.run(warm, check=True, capture_output=True, timeout=60)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, svc.rss_bytes())
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                str(script),
                svc.url + "/v1/verify",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=duration + 60,
        ).stdout
    finally:
        stop.set()
        sampler.join()
    found = re.search(r"^RESULT (\{.*\})$", out, re.MULTILINE)
    if found is None:
        sys.exit(f"bench/service.py: unexpected wrk output:\n{out}")
    result: dict[str, Any] = json.loads(found.group(1))
    return result, peak


# ---------------------------------------------------------------------------- report


def cpu_times() -> list[int]:
    """The machine's CPU time counters (``/proc/stat``: user, nice, system, idle, iowait,
    irq, softirq, steal)."""
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def run_folder() -> tuple[tempfile.TemporaryDirectory[str], bool]:
    """A temporary folder for one run, and whether it sits in a block group of its own.

    On ext4 without a journal (this machine's disk), a new file's inode skips every inode
    of its block group deleted in the last minutes, one buffer lookup each; a run deletes
    thousands of files at its end, so the next run's file creations cost 10-40x more. The
    runs' folders are made under a parent marked ``chattr +T`` (top of a directory
    hierarchy): ext4 then spreads them over block groups, as it does a fresh data folder.
    """
    parent = Path(tempfile.gettempdir()) / "tradeledger-bench"
    parent.mkdir(exist_ok=True)
    try:
        spread = subprocess.run(["chattr", "+T", str(parent)], capture_output=True).returncode == 0
    except OSError:  # no chattr: not an ext2/3/4 tool chain
        spread = False
    return tempfile.TemporaryDirectory(prefix="bench-service-", dir=parent), spread


def measure(args: argparse.Namespace, progress: Progress) -> Report:
    machine = cpu_times()
    folder_of_run, spread = run_folder()
    with folder_of_run as tmp:
        folder = Path(tmp)
        with anvil(folder) as chain:
            progress(f"anvil at {chain.url}")
            settings = Settings(
                data_dir=folder / "data", rpc_url=chain.url, chain="anvil", port=free_port()
            )
            settings.data_dir.mkdir(parents=True)
            token, bench_key = prepare(settings)
            contract = json.loads(settings.deployment_file.read_text())["address"]
            w3 = Web3(Web3.HTTPProvider(chain.url, request_kwargs={"timeout": 30}))
            report = Report(
                {
                    "chain": f"anvil (non-persistent, automine) on {chain.url}",
                    "cpus": os.cpu_count(),
                    "document_size": DOC_SIZE,
                    "singles": args.singles,
                    "clients": args.clients,
                    "batch_size": args.batch_size,
                    "batches": args.batches,
                    "wrk": f"-t{args.wrk_threads} -c{args.connections} -d{args.duration}s",
                    "service_source": str(args.service_source),
                    "loadavg_1min_at_start": round(os.getloadavg()[0], 2),
                    "run_folder_own_block_group": spread,
                }
            )
            with service(settings, args.profile, progress, args.service_source) as svc:
                before = baseline(w3, contract, bench_key, args.baseline)
                progress(f"baseline (before): {before:.1f} registrations/s")
                cpu = svc.cpu_seconds()
                api_rate, single_hashes = singles(svc, token, args.singles, args.clients)
                single_cpu = (svc.cpu_seconds() - cpu) / (args.singles + args.clients)
                progress(f"API single registrations: {api_rate:.1f}/s")
                after = baseline(w3, contract, bench_key, args.baseline)
                progress(f"baseline (after): {after:.1f} registrations/s")
                cpu = svc.cpu_seconds()
                batch_rate, batch_hashes, batch_seconds = batches(
                    svc, token, args.batch_size, args.batches, args.batch_in_flight
                )
                batch_cpu = (svc.cpu_seconds() - cpu) / (args.batch_size * (args.batches + 1))
                each = ", ".join(f"{s:.2f}" for s in batch_seconds)
                progress(f"API batch registration: {batch_rate:.1f} documents/s ({each} s)")
                hashes = single_hashes + batch_hashes
                wait_indexed(svc, [single_hashes[-1], batch_hashes[-1]])
                wrk, peak = verify_load(
                    svc, hashes, args.duration, args.connections, args.wrk_threads, folder
                )
                rss_now = svc.rss_bytes()
                progress(f"verification: {wrk}")
            reference = statistics.mean([before, after])
            report.setup["loadavg_1min_at_end"] = round(os.getloadavg()[0], 2)
            spent = [b - a for a, b in zip(machine, cpu_times(), strict=True)]
            report.setup["cpu_busy_pct"] = round(100 * (1 - (spent[3] + spent[4]) / sum(spent)), 1)
            report.setup["cpu_iowait_pct"] = round(100 * spent[4] / sum(spent), 1)
            report.setup["cpu_steal_pct"] = round(100 * spent[7] / sum(spent), 1)
            report.setup["service_processes_rss_after_mib"] = round(rss_now / MIB, 1)
            report.add(
                Row(
                    "baseline",
                    "bare web3.py loop: register (sign, send_raw, receipt)",
                    round(reference, 1),
                    "registrations/s",
                    note=f"mean of {before:.1f} before and {after:.1f} after the API run",
                )
            )
            ratio = api_rate / reference
            row = report.add(
                Row(
                    "single",
                    f"API POST /v1/documents, 100 KB, {args.clients} clients",
                    round(api_rate, 1),
                    "registrations/s",
                    target=TARGETS["single_vs_baseline"],
                    note=f"target: ratio to the baseline; service CPU {1000 * single_cpu:.1f} ms each",
                ),
                compared=ratio,
            )
            row.ratio = round(ratio, 3)
            report.add(
                Row(
                    "batch",
                    f"API POST /v1/documents/batch, {args.batch_size} x 100 KB",
                    round(batch_rate, 1),
                    "documents/s",
                    target=TARGETS["batch_docs_per_s"],
                    note=f"seconds per batch: {each}; service CPU {1000 * batch_cpu:.2f} ms/doc",
                )
            )
            seconds = wrk["duration_us"] / 1e6
            report.add(
                Row(
                    "verify_rps",
                    f"API POST /v1/verify by hash, {args.connections} connections",
                    round(wrk["requests"] / seconds, 1),
                    "requests/s",
                    target=TARGETS["verify_rps"],
                    note=f"non-2xx {wrk['non2xx']}, socket errors {wrk['errors']}",
                )
            )
            report.add(Row("verify_p50", "  latency p50", round(wrk["p50_us"] / 1000, 2), "ms"))
            report.add(
                Row(
                    "verify_p99",
                    "  latency p99",
                    round(wrk["p99_us"] / 1000, 2),
                    "ms",
                    target=TARGETS["verify_p99_ms"],
                    higher_is_better=False,
                )
            )
            report.add(
                Row(
                    "peak_rss",
                    "service peak RSS during verification",
                    round(peak / MIB, 1),
                    "MiB",
                    target=TARGETS["peak_rss_mib"],
                    higher_is_better=False,
                    note="sum over the service's processes",
                )
            )
            if wrk["non2xx"] or wrk["errors"]:
                report.rows[-4].result = "FAIL"
            return report


def table(report: Report) -> str:
    head = ("figure", "value", "unit", "target", "result", "ratio", "note")
    lines = [head]
    for r in report.rows:
        if r.target is None:
            target = ""
        elif r.key == "single":
            target = f">= {r.target}x baseline"
        else:
            target = f"{'>=' if r.higher_is_better else '<='} {r.target:g}"
        lines.append(
            (
                r.figure,
                f"{r.value:,}",
                r.unit,
                target,
                r.result,
                "" if r.ratio is None else f"{r.ratio:.2f}",
                r.note,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    setup = ", ".join(f"{k}={v}" for k, v in report.setup.items())
    verdict = "all targets met" if report.targets_met else "SOME TARGETS MISSED"
    return "\n".join([f"setup: {setup}", *out, verdict])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure the Trade Document Ledger service (registrations, batches, "
        "verification, memory) beside a bare web3.py loop, on one fresh local anvil.",
        epilog="Exit status 1 if a target of issue 4 is missed.",
    )
    parser.add_argument("--baseline", type=int, default=300, help="transactions per baseline run")
    parser.add_argument("--singles", type=int, default=400, help="single registrations")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients for singles")
    parser.add_argument("--batch-size", type=int, default=500, help="files per batch")
    parser.add_argument("--batches", type=int, default=4, help="number of batches")
    parser.add_argument(
        "--batch-in-flight", type=int, default=1, help="batches sent concurrently (default 1)"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of verification load")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--profile", type=Path, help="run the service under py-spy; raw stacks to this file"
    )
    parser.add_argument(
        "--service-source",
        type=Path,
        default=ROOT,
        help="run the service from this source tree (to compare two versions; default: this one)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if min(args.baseline, args.singles, args.clients, args.batch_size, args.batches) < 1:
        parser.error("counts must be positive")

    progress = Progress(args.quiet)
    report = measure(args, progress)
    return finish(report, TARGETS, args.json, table, progress)


if __name__ == "__main__":
    sys.exit(main())
