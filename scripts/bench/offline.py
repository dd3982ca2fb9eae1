#!/usr/bin/env python3
"""Offline verification: the size of v2 evidence bundles and the time to check one offline.

    .venv/bin/python scripts/bench/offline.py [--runs 20] [--json] [--quiet]

Starts its own anvil (free 127.0.0.1 port, stopped by PID at the end) and the service
in-process (demo organisations), registers a document alone (with metadata and one
attestation) and a batch of three, signs a checkpoint with 2 of 3 consortium keys, and
makes v2 bundles of the single document and of a batch member. Then prints:

* the bundles' sizes (compact JSON, bytes), target <= 16 KB for a single registration;
* the proof check itself (``check_bundle_offline``, in-process, median of ``--runs``),
  target <= 20 ms;
* ``tradeledger verify --bundle X --offline --trust T FILE`` wall time including Python's
  start-up (median of ``--runs`` runs, the chain already stopped), beside ``python -c pass``
  measured in the same run; target <= 0.5 s.

Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from report import Progress, finish  # noqa: E402

from api.app import create_app  # noqa: E402
from ledger.chain import Rpc  # noqa: E402
from ledger.chain.deployment import ensure_deployed  # noqa: E402
from ledger.chain.localchain import LocalChain, free_port  # noqa: E402
from ledger.config import Settings  # noqa: E402
from ledger.flows.bundleproofs import prove_bundle  # noqa: E402
from ledger.flows.demo import ensure_demo  # noqa: E402
from ledger.flows.offline import check_bundle_offline  # noqa: E402
from ledger.flows.verify import Verdict  # noqa: E402
from ledger.proofs import Signer, TrustFile, statement_at  # noqa: E402

TARGETS = {"single_bundle_bytes": 16 * 1024, "check_ms": 20.0, "cli_wall_s": 0.5}
TRADELEDGER = Path(sys.executable).with_name("tradeledger")


@dataclass
class Report:
    single_bundle_bytes: int
    batch_member_bundle_bytes: int
    v1_single_bundle_bytes: int
    check_ms: float
    cli_wall_s: float
    python_pass_s: float
    runs: int

    @property
    def targets_met(self) -> bool:
        return (
            self.single_bundle_bytes <= TARGETS["single_bundle_bytes"]
            and self.check_ms <= TARGETS["check_ms"]
            and self.cli_wall_s <= TARGETS["cli_wall_s"]
        )


def table(r: Report) -> str:
    return "\n".join(
        [
            "offline verification (evidence bundle v2)",
            f"  bundle, single registration   {r.single_bundle_bytes:>8} bytes  "
            f"(target <= {TARGETS['single_bundle_bytes']}; v1: {r.v1_single_bundle_bytes})",
            f"  bundle, batch member          {r.batch_member_bundle_bytes:>8} bytes",
            f"  proof check, in-process       {r.check_ms:>8.2f} ms     "
            f"(target <= {TARGETS['check_ms']:.0f}; median of {r.runs})",
            f"  tradeledger verify --offline  {r.cli_wall_s:>8.3f} s      "
            f"(target <= {TARGETS['cli_wall_s']}; median of {r.runs})",
            f"  python -c pass, same run      {r.python_pass_s:>8.3f} s",
        ]
    )


def _bundle(client: TestClient, sha: str, attestations: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client.get(f"/v1/documents/{sha}/evidence")
        if r.status_code == 200 and len(r.json()["attestations"]) == attestations:
            body: dict[str, Any] = r.json()
            return body
        time.sleep(0.2)
    sys.exit(f"bench/offline.py: no evidence of {sha} with {attestations} attestations")


def _wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    progress = Progress(args.quiet)
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as folder:
        tmp = Path(folder)
        port = free_port()
        chain = LocalChain("anvil", port, tmp / "chain", persistent=False)
        chain.start()
        try:
            settings = Settings(
                data_dir=tmp / "data",
                rpc_url=f"http://127.0.0.1:{port}",
                chain="anvil",
                ipfs_rpc_url=None,
                database_url=None,
                keystore_secret="bench-only-keystore-secret",  # type: ignore[arg-type]
                index_poll_interval=0.2,
            )
            ensure_deployed(settings)
            progress(f"anvil on port {port}, ledger deployed; registering")
            with TestClient(create_app(settings)) as client:
                creds = ensure_demo(client.app.state.runtime)  # type: ignore[attr-defined]

                def auth(who: str) -> dict[str, str]:
                    return {"Authorization": f"Bearer {creds['api_keys'][who]}"}

                content = (
                    b"%PDF-1.7 bench offline certificate of origin " + str(time.time()).encode()
                )
                r = client.post(
                    "/v1/documents",
                    files={"file": ("c.pdf", content)},
                    data={"doc_type": "861", "consignment_ref": "SMGS-BENCH-1",
                          "metadata": '{"exporter": "Kostanay Flour LLP", "hs": "1101.00"}'},
                    headers=auth("chamber"),
                )  # fmt: skip
                assert r.status_code == 201, r.text
                single = r.json()["sha256"]
                r = client.post(
                    f"/v1/documents/{single}/attestations",
                    json={"verdict": "cleared", "reference": "HRT-BENCH-1"},
                    headers=auth("customs"),
                )
                assert r.status_code == 201, r.text
                r = client.post(
                    "/v1/documents/batch",
                    files=[("files", (f"m{i}.pdf", content + bytes([i]))) for i in range(3)],
                    data={"doc_type": ["720", "380", "851"], "consignment_ref": "SMGS-BENCH-B"},
                    headers=auth("exporter"),
                )
                assert r.status_code == 201, r.text
                member = r.json()["documents"][1]["sha256"]
                v1_single, v1_member = _bundle(client, single, 1), _bundle(client, member, 0)
                registry = client.app.state.runtime.registry  # type: ignore[attr-defined]
                keys = [Account.create() for _ in range(3)]
                trust = TrustFile(
                    registry.chain_id,
                    bytes.fromhex(registry.address[2:]),
                    tuple(Signer(bytes.fromhex(k.address[2:]), f"Member {i}") for i, k in enumerate(keys)),
                    threshold=2,
                    max_age=7 * 86400,
                )  # fmt: skip
                rpc = Rpc(settings.rpc_url)
                checkpoint = statement_at(rpc, registry.address, "latest")
                for key in keys[:2]:
                    checkpoint = checkpoint.sign(bytes(key.key))
                bundle = prove_bundle(rpc, v1_single, [checkpoint])
                batch_bundle = prove_bundle(rpc, v1_member, [checkpoint])
        finally:
            chain.stop()
        progress("chain and service stopped; checking offline")
        now = checkpoint.timestamp + 60
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = check_bundle_offline(json.loads(json.dumps(bundle)), trust, now)
            times.append(time.perf_counter() - started)
            assert result.verdict == Verdict.VALID, result.reasons
        paths = {name: tmp / name for name in ("b.json", "t.json", "c.pdf")}
        paths["b.json"].write_text(json.dumps(bundle))
        trust.save(paths["t.json"])
        paths["c.pdf"].write_bytes(content)
        command = [str(TRADELEDGER), "verify", "--bundle", str(paths["b.json"]), "--offline",
                   "--trust", str(paths["t.json"]), str(paths["c.pdf"])]  # fmt: skip
        check = subprocess.run(command, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        cli = _wall(command, args.runs)
        python = _wall([sys.executable, "-c", "pass"], args.runs)

    def size(b: dict[str, Any]) -> int:
        return len(json.dumps(b, separators=(",", ":")).encode())

    report = Report(
        size(bundle),
        size(batch_bundle),
        size(v1_single),
        round(statistics.median(times) * 1000, 2),
        round(cli, 3),
        round(python, 3),
        args.runs,
    )
    return finish(report, TARGETS, args.json, table, progress)


if __name__ == "__main__":
    sys.exit(main())
