"""The user commands end to end: the real service on anvil, driven through `tradeledger`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from ledger.chain.localchain import free_port
from ledger.config import get_settings
from ledger.content.hashing import hash_file
from tests.cli.conftest import Cli, Service


def _doc(path: Path, text: str = "") -> Path:
    """A document with unique bytes (a fresh fingerprint every run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(f"{text or path.name}\n".encode() + os.urandom(64))
    return path


def _json(output: str) -> Any:
    return json.loads(output)


def test_register_a_folder_then_verify_and_tamper(
    cli: Cli, service: Service, tmp_path: Path
) -> None:
    folder = tmp_path / "shipment"
    files = [_doc(folder / name) for name in ("c-origin.txt", "a-invoice.txt", "b-packing.txt")]
    _doc(folder / ".hidden")  # skipped
    exporter = service.api_key("exporter")

    result = cli(
        "register",
        str(folder),
        "--type",
        "861",
        "--consignment",
        "SMGS-CLI-1",
        "--json",
        key=exporter,
    )
    assert result.exit_code == 0, result.output
    rows = _json(result.stdout)
    assert isinstance(rows, list)
    assert [Path(r["file"]).name for r in rows] == [
        "a-invoice.txt",
        "b-packing.txt",
        "c-origin.txt",
    ]
    for row in rows:
        assert row["status"] == "registered" and not row["failed"]
        assert row["sha256"] == hash_file(row["file"]).sha256
        assert row["tx"].startswith("0x")

    result = cli("verify", str(files[0]))
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "Demo Kazakh Flour Exporter LLP" in result.output

    tampered = tmp_path / "tampered.txt"
    data = bytearray(files[0].read_bytes())
    data[3] ^= 1
    tampered.write_bytes(bytes(data))
    result = cli("verify", str(tampered))
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output and "unknown" in result.output

    # Registering the same folder again: each file "already registered", not a failure.
    result = cli("register", str(folder), "-t", "861", "-c", "SMGS-CLI-1", key=exporter)
    assert result.exit_code == 0, result.output
    assert result.output.count("already registered") == 3
    assert "Traceback" not in result.output


def test_attest_then_revoke(cli: Cli, service: Service, tmp_path: Path) -> None:
    doc = _doc(tmp_path / "certificate.txt")
    result = cli(
        "register", str(doc), "-t", "861", "-c", "SMGS-CLI-2", key=service.api_key("exporter")
    )
    assert result.exit_code == 0, result.output
    sha = hash_file(doc).sha256

    result = cli(
        "attest",
        sha,
        "--verdict",
        "cleared",
        "--reference",
        "AF-HRT-118",
        key=service.api_key("customs"),
    )
    assert result.exit_code == 0, result.output
    assert "cleared" in result.output and "Demo Hairatan Border Customs" in result.output

    result = cli("verify", "--sha256", sha, "--json")
    assert result.exit_code == 0, result.output
    verification = _json(result.stdout)
    assert isinstance(verification, dict)
    (att,) = verification["attestations"]
    assert att["verdict"] == "cleared" and att["reference"] == "AF-HRT-118"

    result = cli("revoke", str(doc), "--reason", "cancelled", key=service.api_key("exporter"))
    assert result.exit_code == 0, result.output
    assert "revoked" in result.output

    result = cli("verify", str(doc))
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output and "revoked: cancelled" in result.output
    assert "AF-HRT-118" in result.output  # the attestation is still shown


def test_evidence_bundle_rechecked_on_chain_without_the_service(
    cli: Cli, service: Service, tmp_path: Path
) -> None:
    doc = _doc(tmp_path / "phyto.txt")
    result = cli(
        "register", str(doc), "-t", "851", "-c", "SMGS-CLI-3", key=service.api_key("exporter")
    )
    assert result.exit_code == 0, result.output
    bundle_file = tmp_path / "phyto.evidence.json"
    deadline = time.monotonic() + 30
    result = cli("evidence", str(doc), "-o", str(bundle_file))
    while "not final yet" in result.output and time.monotonic() < deadline:
        time.sleep(0.2)  # the CLI says when to ask again: its block is not in a snapshot yet
        result = cli("evidence", str(doc), "-o", str(bundle_file))
    assert result.exit_code == 0, result.output
    bundle = json.loads(bundle_file.read_text())
    assert bundle["sha256"] == hash_file(doc).sha256

    dead_service = f"http://127.0.0.1:{free_port()}"  # the service plays no part
    result = cli(
        "verify", "--bundle", str(bundle_file), "--rpc", service.rpc_url, str(doc), api=dead_service
    )
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "the chain confirms the bundle" in result.output
    assert "pass --contract" in result.output  # the bundle named the contract: said so

    # A forged issuer: INVALID naming the field; the issuer shown is the chain's.
    pinned = ["--rpc", service.rpc_url, "--contract", bundle["contract"]]
    forged_issuer = tmp_path / "forged-issuer.evidence.json"
    forged_issuer.write_text(
        json.dumps({**bundle, "issuer": {**bundle["issuer"], "name": "Forged Chamber LLP"}})
    )
    result = cli("verify", "--bundle", str(forged_issuer), *pinned, str(doc))
    assert result.exit_code == 1, result.output
    assert "tampered: issuer.name" in result.output
    assert f"Issuer       {bundle['issuer']['name']}" in result.output, result.output
    assert "Issuer       Forged" not in result.output
    result = cli("verify", "--bundle", str(bundle_file), *pinned, str(doc))
    assert result.exit_code == 0 and "pass --contract" not in result.output, result.output
    other_ledger = ["--rpc", service.rpc_url, "--contract", "0x" + "44" * 20]
    result = cli("verify", "--bundle", str(bundle_file), *other_ledger, str(doc))
    assert result.exit_code == 1 and "another chain or contract" in result.output, result.output

    # The bundle names another file than the one presented.
    other = _doc(tmp_path / "other.txt")
    result = cli("verify", "--bundle", str(bundle_file), "--rpc", service.rpc_url, str(other))
    assert result.exit_code == 1, result.output
    assert "differs from the bundle's" in result.output

    # One character of the CID changed (inside the digest, not the padding bits).
    cid = bundle["cid"]
    i = len(cid) - 10
    bundle["cid"] = cid[:i] + ("a" if cid[i] != "a" else "b") + cid[i + 1 :]
    forged = tmp_path / "forged.evidence.json"
    forged.write_text(json.dumps(bundle))
    result = cli("verify", "--bundle", str(forged), "--rpc", service.rpc_url)
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.output and "tampered" in result.output

    # A chain node that does not answer gives no verdict, never INVALID.
    result = cli("verify", "--bundle", str(bundle_file), "--rpc", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 2, result.output
    assert "UNVERIFIABLE" in result.output

    # The same checks through the service.
    result = cli("verify", "--bundle", str(bundle_file), str(doc))
    assert result.exit_code == 0, result.output
    result = cli("verify", "--bundle", str(forged))
    assert result.exit_code == 1, result.output


def test_keygen_admission_sign_request_relay(cli: Cli, service: Service, tmp_path: Path) -> None:
    result = cli("keygen", "kz-exporter-laptop")
    assert result.exit_code == 0, result.output
    address = result.stdout.strip()
    assert address.startswith("0x") and len(address) == 42
    keystore = tmp_path / "client" / "keys" / "kz-exporter-laptop.json"
    assert json.loads(keystore.read_text())["address"].lower() == address[2:].lower()
    assert "private" not in result.output.lower()
    assert f"tradeledger admin key admit ORG_ID {address}" in result.output  # what the admin runs
    result = cli("keygen", "kz-exporter-laptop")
    assert result.exit_code == 1 and "already exists" in result.output

    # The consortium admin admits the address for the demo exporter organisation.
    org = str(service.org_id("exporter"))
    result = cli("admin", "key", "admit", org, address, key=service.api_key("admin"))
    assert result.exit_code == 0, result.output

    doc = _doc(tmp_path / "consignment-note.txt")
    signed = tmp_path / "signed.json"
    result = cli(
        "sign-request",
        str(doc),
        "--key",
        "kz-exporter-laptop",
        "-t",
        "720",
        "-c",
        "SMGS-CLI-4",
        "-o",
        str(signed),
    )
    assert result.exit_code == 0, result.output
    request = json.loads(signed.read_text())
    assert set(request) >= {
        "issuer",
        "doc_type",
        "consignment_ref",
        "metadata_cid",
        "nonce",
        "deadline",
        "signature",
    }
    assert request["issuer"] == address and request["nonce"] == 0 and request["doc_type"] == 720

    # The wrong file is refused before anything is sent.
    result = cli(
        "relay",
        str(_doc(tmp_path / "x.txt")),
        "--request",
        str(signed),
        key=service.api_key("exporter"),
    )
    assert result.exit_code == 1 and "is not the document" in result.output

    result = cli(
        "relay", str(doc), "--request", str(signed), "--json", key=service.api_key("exporter")
    )
    assert result.exit_code == 0, result.output
    (row,) = _json(result.stdout)
    assert row["status"] == "registered" and row["sha256"] == hash_file(doc).sha256

    result = cli("verify", str(doc), "--json")
    assert result.exit_code == 0, result.output
    verification = _json(result.stdout)
    assert isinstance(verification, dict)
    assert verification["issuer"]["key"] == address
    assert verification["issuer"]["organisation"] == "Demo Kazakh Flour Exporter LLP"

    # A second request reads the key's next nonce from the chain.
    doc2 = _doc(tmp_path / "second.txt")
    result = cli(
        "sign-request", str(doc2), "-k", "kz-exporter-laptop", "-t", "720", "-c", "SMGS-CLI-4"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["nonce"] == 1


def test_supersede(cli: Cli, service: Service, tmp_path: Path) -> None:
    old, new = _doc(tmp_path / "invoice.txt"), _doc(tmp_path / "invoice-v2.txt")
    exporter = service.api_key("exporter")
    assert cli("register", str(old), "-t", "380", "-c", "SMGS-CLI-5", key=exporter).exit_code == 0
    result = cli("supersede", str(old), str(new), "-t", "380", "-c", "SMGS-CLI-5", key=exporter)
    assert result.exit_code == 0, result.output
    assert f"supersedes {hash_file(old).sha256}" in result.output
    # The service does not sync its index after a supersession (see the report): the old
    # document reads as registered until the indexer's next poll (0.5 s).
    deadline = time.monotonic() + 5
    while (result := cli("verify", str(old))).exit_code == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert result.exit_code == 1 and "superseded by the amended document" in result.output
    assert cli("verify", str(new)).exit_code == 0


def test_errors_are_messages_not_tracebacks(cli: Cli, service: Service, tmp_path: Path) -> None:
    doc = _doc(tmp_path / "doc.txt")
    sha = hash_file(doc).sha256

    result = cli("verify", "--sha256", sha, api=f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 2
    assert "cannot reach the ledger service" in result.output and "scripts/run" in result.output

    result = cli("register", str(doc), "-t", "861", "-c", "SMGS-CLI-6")
    assert result.exit_code == 1
    assert "you need an API key" in result.output and "TRADELEDGER_API_KEY" in result.output

    result = cli(
        "register", str(doc), "-t", "999", "-c", "SMGS-CLI-6", key=service.api_key("exporter")
    )
    assert result.exit_code == 1 and "unknown document type 999" in result.output

    result = cli("attest", sha, "--verdict", "cleared", key=service.api_key("exporter"))
    assert result.exit_code == 1
    assert "role exporter may not record customs attestations" in result.output

    result = cli("evidence", sha)
    assert result.exit_code == 1 and "is not registered on chain" in result.output

    result = cli("verify", "--sha256", "not-a-hash")
    assert result.exit_code == 2 and "not a SHA-256 fingerprint" in result.output

    result = cli("revoke", "no-such-file", "--reason", "cancelled", key=service.api_key("exporter"))
    assert result.exit_code == 2 and "neither a SHA-256" in result.output

    result = cli(
        "register",
        str(doc),
        "-t",
        "861",
        "-c",
        "X",
        "--metadata",
        "[1]",
        key=service.api_key("exporter"),
    )
    assert result.exit_code == 2 and "JSON object" in result.output


def test_register_batch(cli: Cli, service: Service, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    for name in ("1.txt", "2.txt", "3.txt"):
        _doc(folder / name)
    result = cli(
        "register",
        str(folder),
        "-t",
        "271",
        "-c",
        "SMGS-CLI-7",
        "--batch",
        "--json",
        key=service.api_key("exporter"),
    )
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    rows = _json(result.stdout)
    assert isinstance(rows, list) and len(rows) == 3
    assert all(r["status"] == "registered" and r["tx"] for r in rows)
    assert len({r["tx"] for r in rows}) == 1  # one transaction anchors them all
    result = cli("verify", str(folder / "2.txt"))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["admin-key"], ["admin", "recover-key"]])
def test_admin_key_recovers_access_from_the_data_folder(
    service: Service, command: list[str]
) -> None:
    """Issue 12.9: a way back when no admin API key is left, for whoever holds the data
    folder: `tradeledger admin-key` (or `admin recover-key`) issues one straight into the
    service database."""
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [*command, "--label", "recovered"],
            env={
                "TRADELEDGER_DATA_DIR": str(service.settings.data_dir),
                "TRADELEDGER_DATABASE_URL": None,
            },
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tdl_")
    r = httpx.get(f"{service.url}/v1/admin/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "recovered" in [k["label"] for k in r.json()]


def test_serve_refuses_to_start_without_a_secret_outside_the_data_folder(
    service: Service,
) -> None:
    """Issue 12.10: the keystore secret was generated next to the keystores, so a copy of
    the data folder was a copy of the private keys. Outside demo mode, no secret: no start."""
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["serve"],
            env={
                "TRADELEDGER_DATA_DIR": str(service.settings.data_dir),  # holds a demo secret
                "TRADELEDGER_RPC_URL": service.rpc_url,
                "TRADELEDGER_PORT": str(free_port()),
                "TRADELEDGER_KEYSTORE_SECRET": None,
                "TRADELEDGER_KEYSTORE_SECRET_FILE": None,
                "TRADELEDGER_DEMO": None,
            },
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "TRADELEDGER_KEYSTORE_SECRET" in result.output
    assert "outside the data folder" in result.output
