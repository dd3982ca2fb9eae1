"""``tradeledger index sync|rebuild|status`` against a deployment on anvil."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from ledger.chain.deployment import deployer_account, ensure_deployed, open_registry
from ledger.chain.localchain import LocalChain
from ledger.config import get_settings
from ledger.types import OrgKind
from tests.index.conftest import RAW

pytestmark = pytest.mark.chain


@pytest.fixture
def settings_env(
    anvil: LocalChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("TRADELEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADELEDGER_RPC_URL", anvil.url)
    monkeypatch.setenv("TRADELEDGER_CHAIN", "anvil")
    monkeypatch.setenv("TRADELEDGER_DEMO", "1")  # the keystore secret in the data folder
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_index_commands(settings_env: None) -> None:
    settings = get_settings()
    ensure_deployed(settings)
    registry = open_registry(settings)
    admin = registry.sender(deployer_account(settings))
    org_id, _ = registry.admit_organisation(admin, "Demo Exporter", "KZ", OrgKind.EXPORTER)
    registry.add_key(admin, org_id, admin.address, 1, 2**40 - 1)
    for i in range(3):
        registry.register(admin, os.urandom(32), 861, RAW + os.urandom(32), f"SMGS-{i}")
    runner = CliRunner()
    result = runner.invoke(app, ["index", "sync"])
    assert result.exit_code == 0, result.output
    assert "indexed 6 events" in result.output  # admin role, admission, key, 3 documents
    result = runner.invoke(app, ["index", "status"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout.strip().splitlines()[-1])
    assert status["lag"] == 0 and status["behind"] is False
    result = runner.invoke(app, ["index", "rebuild", "--max-blocks", "1"])
    assert result.exit_code == 0, result.output
    assert "indexed 6 events" in result.output
