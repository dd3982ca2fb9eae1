"""Deployment records: reuse a live deployment, survive a SIGKILL of anvil, notice a reset chain."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from ledger.chain import deployment as deployment_module
from ledger.chain.deployment import deployer_account, ensure_deployed, open_registry, read_record
from ledger.chain.localchain import LocalChain, free_port
from ledger.config import Settings
from ledger.errors import DeploymentError
from ledger.types import DocStatus, OrgKind


def _settings(tmp_path: Path, chain: LocalChain, kind: str = "anvil") -> Settings:
    return Settings(data_dir=tmp_path, rpc_url=chain.url, chain=kind, demo=True)  # type: ignore[arg-type]


@pytest.fixture
def anvil(tmp_path: Path):  # type: ignore[no-untyped-def]
    chain = LocalChain("anvil", free_port(), tmp_path / "chain", persistent=True, state_interval=1)
    chain.start()
    yield chain
    chain.stop()


def test_deploy_then_reuse(tmp_path: Path, anvil: LocalChain) -> None:
    settings = _settings(tmp_path, anvil)
    first, outcome, _ = ensure_deployed(settings)
    assert outcome == "deployed"
    again, outcome, _ = ensure_deployed(settings)
    assert outcome == "reused" and again == first
    record = read_record(settings.deployment_file)
    assert record is not None and record.chain_id == 31337 and record.version == "1.1.0"
    assert open_registry(settings).version() == "1.1.0"


def test_kill_9_keeps_what_is_older_than_the_loss_window(tmp_path: Path, anvil: LocalChain) -> None:
    settings = _settings(tmp_path, anvil)
    deployment, _, _ = ensure_deployed(settings)
    registry = open_registry(settings)
    admin = registry.sender(deployer_account(settings))
    org_id, _ = registry.admit_organisation(admin, "Demo Exporter", "KZ", OrgKind.EXPORTER)
    registry.add_key(admin, org_id, admin.address, 1, 2**40 - 1)
    fingerprint = os.urandom(32)
    registry.register(admin, fingerprint, 861, bytes.fromhex("01551220") + os.urandom(32), "SMGS-1")
    time.sleep(settings.anvil_state_interval + 1.5)  # past the loss window
    anvil.stop(signal.SIGKILL)
    anvil.start()
    again, outcome, _ = ensure_deployed(settings)
    assert outcome == "reused" and again == deployment
    record = open_registry(settings).document(fingerprint)
    assert record is not None and record.status == DocStatus.REGISTERED


def test_reset_local_chain_is_noticed_and_redeployed(tmp_path: Path, anvil: LocalChain) -> None:
    settings = _settings(tmp_path, anvil)
    first, _, _ = ensure_deployed(settings)
    anvil.stop()
    shutil.rmtree(anvil.snapshot_dir)  # a new chain
    anvil.start()
    with pytest.raises(DeploymentError, match="scripts/deploy"):
        open_registry(settings)
    _, outcome, why = ensure_deployed(settings)
    assert outcome == "redeployed" and "reset" in why
    (stale,) = tmp_path.glob("deployment.stale-*.json")
    assert read_record(stale) == first
    assert open_registry(settings).version() == "1.1.0"


def test_reset_remote_chain_is_refused(tmp_path: Path, anvil: LocalChain) -> None:
    ensure_deployed(_settings(tmp_path, anvil))
    anvil.stop()
    shutil.rmtree(anvil.snapshot_dir)  # a new chain
    anvil.start()
    with pytest.raises(DeploymentError, match="TRADELEDGER_RPC_URL"):
        ensure_deployed(_settings(tmp_path, anvil, kind="rpc"))


def test_hardhat_node_restart_is_a_reset(tmp_path: Path) -> None:
    chain = LocalChain("hardhat", free_port(), tmp_path / "chain", persistent=False)
    chain.start()
    try:
        settings = _settings(tmp_path, chain, kind="hardhat")
        assert ensure_deployed(settings)[1] == "deployed"
        assert ensure_deployed(settings)[1] == "reused"
        chain.stop()
        chain.start()
        assert ensure_deployed(settings)[1] == "redeployed"
    finally:
        chain.stop()


def test_an_older_contract_version_is_not_reused(
    tmp_path: Path, anvil: LocalChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment of another contract version (as 1.0.0 is for this package) is never
    spoken to with this ABI: a local chain gets a new deployment, a remote one is refused."""
    settings = _settings(tmp_path, anvil)
    first, _, _ = ensure_deployed(settings)
    monkeypatch.setattr(deployment_module, "CONTRACT_VERSION", "9.9.9")
    with pytest.raises(DeploymentError, match=r"version 1\.1\.0, this package speaks 9\.9\.9"):
        open_registry(settings)
    remote = Settings(data_dir=tmp_path, rpc_url=anvil.url, chain="rpc", demo=True)
    with pytest.raises(DeploymentError, match=r"docs/migration\.md"):
        ensure_deployed(remote)
    monkeypatch.setattr(deployment_module, "CONTRACT_VERSION", "1.1.0")
    assert open_registry(settings).address == first.address
    monkeypatch.setattr(deployment_module, "CONTRACT_VERSION", "9.9.9")
    second, outcome, why = ensure_deployed(settings)
    assert outcome == "redeployed" and "older contract" in why and second.address != first.address
