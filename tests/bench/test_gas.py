"""scripts/bench/gas.py on a fresh anvil: the gas targets of issue 2 hold, peers are measured.

Gas is deterministic, so these are exact checks of the contract, not timing checks.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any
from urllib.parse import urlparse

import pytest

from ledger.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "bench" / "gas.py"


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """The script's JSON report; it starts and stops its own anvil."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", "--quiet"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert (done.returncode == 0) == result["targets_met"]
    return result


def _gas(report: dict[str, Any], key: str) -> float:
    (row,) = [r for r in report["rows"] if r["key"] == key]
    return float(row["gas"])


@pytest.mark.chain
def test_targets_hold(report: dict[str, Any]) -> None:
    assert _gas(report, "register") <= 53_000
    assert _gas(report, "batch_per_doc") <= 60
    assert _gas(report, "relayed_steady") <= 80_000
    assert _gas(report, "attest") <= 55_000
    assert report["targets_met"]
    assert all(r["result"] == "PASS" for r in report["rows"] if r["target"] is not None)


@pytest.mark.chain
def test_register_is_close_to_its_floor(report: dict[str, Any]) -> None:
    (row,) = [r for r in report["rows"] if r["key"] == "register"]
    assert row["samples"] >= 10
    # What the contract adds beyond calldata, one new slot and the log: key check, dispatch.
    assert 0 < row["gas"] - row["floor"] < 6_000


@pytest.mark.chain
def test_peer_figures_are_present(report: dict[str, Any]) -> None:
    peers = {r["key"]: r for r in report["rows"] if r["peer"]}
    for key in (
        "ds_deploy",
        "ds_issue",
        "ds_batch_per_doc",
        "ds_revoke",
        "eas_deploy",
        "eas_attest",
        "eas_revoke",
    ):
        assert peers[key]["gas"] > 0, key
    for key in ("ds_issue", "ds_batch_per_doc", "eas_attest", "eas_revoke"):
        assert peers[key]["ratio"] is not None and peers[key]["ratio"] > 0, key
    # An EAS attestation holding the same hash, CID and reference costs several registrations.
    assert peers["eas_attest"]["gas"] > 2 * _gas(report, "register")


@pytest.mark.chain
def test_the_script_stopped_its_anvil(report: dict[str, Any]) -> None:
    url = urlparse(report["chain"]["rpc"])
    assert url.hostname == "127.0.0.1"
    with socket.socket() as s, pytest.raises(OSError):
        s.settimeout(1.0)
        s.connect((url.hostname, url.port))
