"""scripts/bench/proofs.py on a small fresh anvil: it produces one registration's proof
material, checks it offline in Python, Node and Chromium, and reports sizes and times.

Sizes are checked here (they depend on the proofs, not on the machine); the times are
only required to be measured: the targets are the script's to report, not a timed test's.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ledger.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "bench" / "proofs.py"


def test_the_benchmark_measures_one_registrations_proofs() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--documents", "60", "--per-block", "30", "--runs", "5",
         "--json", "--quiet"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert (done.returncode == 0) == report["targets_met"]
    sizes = report["sizes"]
    assert 4_000 < sizes["material"] <= 16 * 1024
    assert sizes["header"] < 1_000 and report["header_rlp_bytes"] > 500
    assert sizes["linked_headers"] >= 2
    for key in ("python_ms", "python_reference_ms", "node_ms", "node_reference_ms", "browser_ms"):
        assert report[key] > 0, key
