"""`tradeledger content get --key`: a recipient decrypts a confidential document on its own
machine with its own X25519 key (issue 16); the service never sees that key."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, Service

pytestmark = pytest.mark.chain


def test_recipient_decrypts_client_side_with_its_own_key(
    cli: Cli, service: Service, tmp_path: Path
) -> None:
    admin, exporter = service.api_key("admin"), service.api_key("exporter")
    customs_key, customs = service.api_key("customs"), service.org_id("customs")

    # the customs office makes its key pair on its own machine; the admin admits the public key
    made = cli("admin", "enc-key", "create", "customs-enc")
    assert made.exit_code == 0, made.output
    public = made.output.strip().splitlines()[-1]
    assert len(public) == 64
    added = cli("admin", "enc-key", "add", str(customs), public, key=admin)
    assert added.exit_code == 0, added.output
    listed = cli("admin", "enc-key", "list", str(customs), "--json", key=admin)
    assert public in listed.output

    doc = tmp_path / "invoice.txt"
    doc.write_bytes(b"Invoice, price 312 USD/t\n" + os.urandom(64))
    sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    reg = cli(
        "register",
        str(doc),
        "-t",
        "380",
        "-c",
        "SMGS-SEAL-1",
        "--recipients",
        str(customs),
        key=exporter,
    )
    assert reg.exit_code == 0, reg.output

    out = tmp_path / "got.txt"
    got = cli("content", "get", sha, "--key", "customs-enc", "-o", str(out), key=customs_key)
    assert got.exit_code == 0, got.output
    assert out.read_bytes() == doc.read_bytes()

    # a key the document was not wrapped for: refused, no file written
    assert cli("admin", "enc-key", "create", "other-enc").exit_code == 0
    wrong = tmp_path / "wrong.txt"
    refused = cli("content", "get", sha, "--key", "other-enc", "-o", str(wrong), key=customs_key)
    assert refused.exit_code != 0 and "not wrapped for" in refused.output
    assert not wrong.exists()

    # a key of the wrong type is refused by the service with what to fix
    bad = cli("admin", "enc-key", "add", str(customs), "0x" + "ab" * 20, key=admin)
    assert bad.exit_code != 0 and "X25519" in bad.output
