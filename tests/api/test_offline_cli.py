"""The offline walk through the real ``tradeledger`` command (issue 15.3): key holders make
checkpoint keys and sign a checkpoint on their own node, the consortium exports its trust
file, a v2 bundle is made; then the chain and the service are stopped and
``tradeledger verify --bundle X --offline --trust T FILE`` runs in a network namespace with
only a loopback that is down (``unshare -rn``): VALID "as of block N", INVALID for a
tampered bundle or another file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.chain import Rpc
from ledger.flows.bundleproofs import prove_bundle
from ledger.proofs import Checkpoint
from tests.api.conftest import Service, close_service
from tests.api.test_bundle_tampering import _attest, _bundle

pytestmark = pytest.mark.chain

TRADELEDGER = Path(sys.executable).with_name("tradeledger")


def _no_network() -> list[str]:
    """A prefix that runs a command with no network at all, if this machine allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True)
    return [unshare, "-rn"] if probe.returncode == 0 else []


def test_offline_walk_with_everything_stopped(
    fresh_svc: Callable[..., Service], tmp_path: Path
) -> None:
    svc = fresh_svc()
    content, doc = svc.registered("chamber", doc_type=861, ref="SMGS-WALK-1")
    _attest(svc, doc["sha256"], "cleared", "HRT-WALK-1")
    svc.indexed(doc["sha256"])
    url, contract = svc.settings.rpc_url, svc.rt.registry.address
    env = {
        **os.environ,
        "TRADELEDGER_DATA_DIR": str(tmp_path / "holder"),
        "TRADELEDGER_KEYSTORE_SECRET": "tests-only-checkpoint-holder",
        "TRADELEDGER_RPC_URL": url,
    }

    def run(*args: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*(prefix or []), str(TRADELEDGER), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    addresses = []
    for name in ("cp-kz", "cp-af", "cp-uz"):
        out = run("keygen", name)
        assert out.returncode == 0, out.stderr
        addresses.append(out.stdout.strip())
    trust, cp = tmp_path / "corridor.trust.json", tmp_path / "head.checkpoint.json"
    out = run("trust", "export", "-o", str(trust), "-t", "2", "--contract", contract,
              "-s", f"{addresses[0]}=Kazakh Customs", "-s", f"{addresses[1]}=Hairatan Customs",
              "-s", f"{addresses[2]}=Termez Customs")  # fmt: skip
    assert out.returncode == 0, out.stderr
    for name in ("cp-kz", "cp-uz"):
        out = run("checkpoint", "sign", "--key", name, "--contract", contract, "-o", str(cp))
        assert out.returncode == 0, out.stderr
    checkpoint = Checkpoint.from_json(json.loads(cp.read_text()))
    assert len(checkpoint.signatures) == 2
    bundle = prove_bundle(Rpc(url), _bundle(svc, doc["sha256"], 1), [checkpoint])
    bundle_path, file = tmp_path / "doc.evidence.json", tmp_path / "doc.pdf"
    bundle_path.write_text(json.dumps(bundle))
    file.write_bytes(content)
    tampered = tmp_path / "tampered.evidence.json"
    tampered.write_text(json.dumps({**bundle, "consignment_ref": "SMGS-FORGED"}))

    close_service(svc)  # the chain and the service are gone, their ports closed
    with pytest.raises(Exception):  # noqa: B017 - any connection error: nothing answers
        Rpc(url).call("eth_blockNumber", [])

    cut = _no_network()
    out = run("verify", "--bundle", str(bundle_path), "--offline", "--trust", str(trust),
              str(file), "--json", prefix=cut)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    answer = json.loads(out.stdout)
    assert answer["verdict"] == "VALID"
    assert answer["as_of"]["block"] == checkpoint.block_number
    assert answer["issuer"]["organisation"] == bundle["issuer"]["name"]
    assert "Kazakh Customs" in answer["reasons"][0] and "Termez Customs" in answer["reasons"][0]

    out = run("verify", "--bundle", str(tampered), "--offline", "--trust", str(trust),
              str(file), "--json", prefix=cut)  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    assert json.loads(out.stdout)["tampered"] == ["consignment_ref"]

    other = tmp_path / "other.pdf"
    other.write_bytes(content + b"!")
    out = run("verify", "--bundle", str(bundle_path), "--offline", "--trust", str(trust),
              str(other), prefix=cut)  # fmt: skip
    assert out.returncode == 1
