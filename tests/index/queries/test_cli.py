"""``tradeledger audit documents|attestations|history|stats|check`` and ``index check``
against a deployment on anvil, reading the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from ledger.chain.deployment import deployer_account, ensure_deployed, open_registry
from ledger.chain.localchain import LocalChain
from ledger.config import get_settings
from ledger.db import make_engine
from ledger.types import OrgKind, Verdict
from tests.conftest import fund
from tests.databases import Databases
from tests.index.conftest import RAW

pytestmark = pytest.mark.chain


@dataclass
class Deployed:
    fps: list[str]
    attestation: str
    exporter_org: int
    db_url: str


@pytest.fixture
def deployed(
    anvil: LocalChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, databases: Databases
) -> Iterator[Deployed]:
    db_url = databases.url()
    monkeypatch.setenv("TRADELEDGER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADELEDGER_RPC_URL", anvil.url)
    monkeypatch.setenv("TRADELEDGER_CHAIN", "anvil")
    monkeypatch.setenv("TRADELEDGER_DEMO", "1")  # the keystore secret in the data folder
    monkeypatch.setenv("TRADELEDGER_DATABASE_URL", db_url)
    get_settings.cache_clear()
    settings = get_settings()
    ensure_deployed(settings)
    registry = open_registry(settings)
    admin = registry.sender(deployer_account(settings))
    org_id, _ = registry.admit_organisation(admin, "Demo Exporter", "KZ", OrgKind.EXPORTER)
    registry.add_key(admin, org_id, admin.address, 1, 2**40 - 1)
    customs = Account.create()
    fund(registry.w3, customs.address)
    customs_org, _ = registry.admit_organisation(admin, "Demo Customs", "AF", OrgKind.CUSTOMS)
    registry.add_key(admin, customs_org, customs.address, 1, 2**40 - 1)
    fps = []
    for i in range(3):
        fp = os.urandom(32)
        registry.register(admin, fp, 861 if i else 380, RAW + os.urandom(32), f"SMGS-{i % 2}")
        fps.append(fp.hex())
    att, _ = registry.attest(
        registry.sender(customs), bytes.fromhex(fps[0]), Verdict.CLEARED, "HRT-9"
    )
    yield Deployed(fps, "0x" + att.hex(), org_id, db_url)
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_audit_commands(deployed: Deployed, tmp_path: Path) -> None:
    d = deployed
    assert run("index", "sync")[0] == 0
    code, out = run("audit", "documents", "--consignment", "SMGS-1", "--format", "json")
    assert code == 0, out
    assert {i["sha256"] for i in json.loads(out)["items"]} == {d.fps[1]}
    code, out = run("audit", "documents", "--doc-type", "861", "--format", "csv")
    assert code == 0, out
    assert {r["sha256"] for r in csv.DictReader(io.StringIO(out))} == set(d.fps[1:])
    code, out = run("audit", "documents", "--org-id", str(d.exporter_org), "--limit", "2")
    assert code == 0, out
    assert (
        "more: --cursor" in CliRunner().invoke(app, ["audit", "documents", "--limit", "2"]).output
    )
    assert sum(fp in out for fp in d.fps) == 2  # a table of the two newest
    code, out = run(
        "audit", "documents", "--verdict", "cleared", "--from", "2000-01-01", "--format", "json"
    )
    assert [i["sha256"] for i in json.loads(out)["items"]] == [d.fps[0]]
    code, out = run("audit", "documents", "--status", "lost")
    assert code == 1
    code, out = run("audit", "attestations", "--sha256", "0x" + d.fps[0], "--format", "json")
    assert code == 0, out
    assert [a["attestation_id"] for a in json.loads(out)["items"]] == [d.attestation]
    code, out = run("audit", "attestations")
    assert code == 0 and "HRT-9" in out
    code, out = run("audit", "history", d.fps[0], "--format", "json")
    assert code == 0, out
    story = json.loads(out)
    assert [e["event"] for e in story["events"]] == ["DocumentRegistered", "AttestationRecorded"]
    code, out = run("audit", "history", d.fps[0])
    assert code == 0 and "AttestationRecorded" in out
    assert run("audit", "history", "00" * 32)[0] == 1
    code, out = run("audit", "stats", "--format", "json")
    assert code == 0, out
    stats = json.loads(out)
    assert sum(x["registrations"] for x in stats["days"]) == 3
    assert {t["doc_type"]: t["documents"] for t in stats["doc_types"]} == {380: 1, 861: 2}
    code, out = run("audit", "stats")
    assert code == 0 and "Certificate of origin" in out


def test_check_commands(deployed: Deployed, tmp_path: Path) -> None:
    d = deployed
    assert run("index", "sync")[0] == 0
    code, out = run("index", "check", "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] and report["documents_checked"] == 3 and report["attestations_checked"] == 1
    export = tmp_path / "docs.csv"
    assert run("audit", "documents", "--format", "csv", "-o", str(export))[0] == 0
    code, out = run("audit", "check", str(export))
    assert code == 0, out
    as_json = tmp_path / "docs.json"
    assert run("audit", "documents", "--format", "json", "-o", str(as_json))[0] == 0
    assert run("audit", "check", str(as_json))[0] == 0
    # the same export with one status changed, and the index with one CID changed
    export.write_text(export.read_text().replace(",registered,", ",revoked,", 1))
    code, out = run("audit", "check", str(export), "--format", "json")
    assert code == 1
    (diff,) = json.loads(out)["differences"]
    assert (diff["field"], diff["index_value"], diff["chain_value"]) == (
        "status",
        "revoked",
        "registered",
    )
    engine = make_engine(d.db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE documents SET cid = :cid WHERE fingerprint = :fp"),
            {"cid": "bafkreiforged", "fp": d.fps[2]},
        )
    engine.dispose()
    code, out = run("index", "check")
    assert code == 1
    assert d.fps[2] in out and "bafkreiforged" in out
