"""`tradeledger admin …` against the real service on anvil (issue 17.1): every admin task
of the API as a command, its errors as messages with a non-zero exit, and the walk of an
exporter with its own key (keygen -> `admin key admit` -> sign-request -> relay -> verify)
is ``tests/cli/test_commands.py::test_keygen_admission_sign_request_relay``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer
from eth_account import Account

from cli.main import app
from ledger.chain.deployment import deployer_account
from ledger.chain.sender import connect
from tests.cli.conftest import Cli, Service

pytestmark = pytest.mark.chain

BAD_TOKEN = "tdl_000000000000_not-a-real-secret"


def _json(text: str) -> Any:
    return json.loads(text)


def _leaves(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command under a (typer) group, as its path of names."""
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _leaves(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def _deployer_nonce(service: Service) -> int:
    """Transactions the service's admin key has signed so far."""
    w3 = connect(service.rpc_url)
    return int(w3.eth.get_transaction_count(deployer_account(service.settings).address))


def _admit_org(cli: Cli, service: Service, name: str, kind: str = "exporter") -> int:
    result = cli(
        "admin",
        "org",
        "admit",
        name,
        "--country",
        "KZ",
        "--kind",
        kind,
        key=service.api_key("admin"),
    )
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip())


def test_admin_help_lists_every_admin_command(cli: Cli) -> None:
    admin = typer.main.get_command(app).commands["admin"]  # type: ignore[attr-defined]
    leaves = _leaves(admin)
    assert {" ".join(leaf) for leaf in leaves} >= {
        "org list",
        "org admit",
        "key admit",
        "key generate",
        "key retire",
        "key list",
        "api-key issue",
        "api-key list",
        "api-key revoke",
        "recover-key",
    }
    shown = cli("admin", "--help").output
    for leaf in leaves:
        assert " ".join(leaf) in shown, leaf
    assert "admin-key" in cli("--help").output  # the old name of recover-key still works


def test_organisations_admit_and_list(cli: Cli, service: Service) -> None:
    admin = service.api_key("admin")
    org_id = _admit_org(cli, service, "Kostanay Flour Mill LLP")

    result = cli("admin", "org", "list", "--json", key=admin)
    assert result.exit_code == 0, result.output
    (org,) = [o for o in _json(result.stdout) if o["org_id"] == org_id]
    assert org == {
        "org_id": org_id,
        "name": "Kostanay Flour Mill LLP",
        "country": "KZ",
        "kind": "exporter",
        "keys": [],
    }
    result = cli("admin", "org", "list", key=admin)
    assert result.exit_code == 0, result.output
    assert "Kostanay Flour Mill LLP" in result.output
    assert "Demo Hairatan Border Customs" in result.output

    result = cli("admin", "org", "admit", "X", "--country", "KZ", "--kind", "smuggler", key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 422" in result.output
    assert "kind must be exporter, issuing_body, customs or auditor" in result.output

    result = cli("admin", "org", "admit", "X", "--country", "kz", "--kind", "customs", key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 422" in result.output and "country" in result.output


def test_wrong_or_missing_key_is_refused(cli: Cli, service: Service) -> None:
    before = _deployer_nonce(service)
    for key in (service.api_key("exporter"), service.api_key("customs")):
        result = cli("admin", "org", "admit", "Y", "--country", "AF", "--kind", "customs", key=key)
        assert result.exit_code == 1, result.output
        assert "HTTP 403" in result.output and "may not administer" in result.output
    result = cli("admin", "api-key", "list", key=BAD_TOKEN)
    assert result.exit_code == 1, result.output
    assert "HTTP 401" in result.output and "unknown or revoked API key" in result.output
    result = cli("admin", "key", "list")
    assert result.exit_code == 1, result.output
    assert "you need an API key" in result.output and "TRADELEDGER_API_KEY" in result.output
    assert _deployer_nonce(service) == before  # nothing signed


def test_an_own_key_admitted_listed_and_retired(cli: Cli, service: Service) -> None:
    admin = service.api_key("admin")
    org_id = _admit_org(cli, service, "Pavlodar Grain LLP")
    own = Account.create().address

    result = cli("admin", "key", "admit", str(org_id), own.lower(), key=admin)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == own  # checksummed
    assert f"admitted for organisation {org_id}" in result.output

    result = cli("admin", "key", "list", "--org", str(org_id), "--json", key=admin)
    assert result.exit_code == 0, result.output
    (row,) = _json(result.stdout)
    assert row["address"] == own and row["org_id"] == org_id
    assert row["organisation"] == "Pavlodar Grain LLP"
    until = row["valid_until"]

    result = cli("admin", "key", "retire", own, "--json", key=admin)
    assert result.exit_code == 0, result.output
    assert _json(result.stdout)["tx_hash"].startswith("0x")
    result = cli("admin", "key", "list", "--org", str(org_id), "--json", key=admin)
    (row,) = _json(result.stdout)
    assert row["valid_until"] < until  # its window ended now
    result = cli("admin", "key", "list", "--org", str(org_id), key=admin)
    assert result.exit_code == 0 and own in result.output
    result = cli("admin", "key", "retire", own, key=admin)
    assert result.exit_code == 1, result.output
    assert f"key {own} is retired already" in result.output

    # a window of one's own choosing, in ISO 8601
    second = Account.create().address
    result = cli(
        "admin",
        "key",
        "admit",
        str(org_id),
        second,
        "--valid-from",
        "2026-01-01",
        "--valid-until",
        "2036-01-01T00:00:00Z",
        "--json",
        key=admin,
    )
    assert result.exit_code == 0, result.output
    answer = _json(result.stdout)
    assert answer["valid_from"] == "2026-01-01T00:00:00Z"
    assert answer["valid_until"] == "2036-01-01T00:00:00Z"


def test_key_admission_errors(cli: Cli, service: Service) -> None:
    admin = service.api_key("admin")
    exporter_org = service.org_id("exporter")
    other_org = _admit_org(cli, service, "Aktobe Oil LLP")
    own = Account.create().address
    assert cli("admin", "key", "admit", str(exporter_org), own, key=admin).exit_code == 0
    before = _deployer_nonce(service)

    # admitted elsewhere: refused, saying where, and nothing signed
    result = cli("admin", "key", "admit", str(other_org), own, key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 409" in result.output
    assert (
        f"key {own} is already admitted for organisation {exporter_org} "
        "(Demo Kazakh Flour Exporter LLP)" in result.output
    )
    assert "tradeledger keygen" in result.output  # what to do instead
    # ... and not twice in the same organisation either
    result = cli("admin", "key", "admit", str(exporter_org), own, key=admin)
    assert result.exit_code == 1, result.output
    assert f"already admitted for organisation {exporter_org} (Demo" in result.output

    result = cli("admin", "key", "admit", str(exporter_org), "0x1234", key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 422" in result.output and "40 hexadecimal digits" in result.output
    result = cli("admin", "key", "admit", str(exporter_org), "0x" + "g" * 40, key=admin)
    assert result.exit_code == 1 and "40 hexadecimal digits" in result.output

    result = cli("admin", "key", "admit", "9999", Account.create().address, key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 404" in result.output and "no organisation has id 9999" in result.output
    result = cli("admin", "key", "generate", "9999", key=admin)
    assert result.exit_code == 1 and "no organisation has id 9999" in result.output
    result = cli("admin", "key", "list", "--org", "9999", key=admin)
    assert result.exit_code == 1 and "no organisation has id 9999" in result.output

    result = cli(
        "admin",
        "key",
        "admit",
        str(exporter_org),
        Account.create().address,
        "--valid-from",
        "next tuesday",
        key=admin,
    )
    assert result.exit_code == 1, result.output
    assert "HTTP 422" in result.output and "not an ISO 8601 time" in result.output

    result = cli("admin", "key", "retire", "0xnope", key=admin)
    assert result.exit_code == 1 and "40 hexadecimal digits" in result.output
    never = Account.create().address
    result = cli("admin", "key", "retire", never, key=admin)
    assert result.exit_code == 1, result.output
    assert f"key {never} was never admitted, so there is nothing to retire" in result.output
    assert "admin key list" in result.output
    assert _deployer_nonce(service) == before  # no refused request was signed


def test_a_service_held_key_bound_to_a_new_api_key(
    cli: Cli, service: Service, tmp_path: Path
) -> None:
    admin = service.api_key("admin")
    org_id = _admit_org(cli, service, "Semey Meat LLP")
    result = cli("admin", "key", "generate", str(org_id), key=admin)
    assert result.exit_code == 0, result.output
    address, keystore = result.stdout.split()
    assert address.startswith("0x") and keystore.startswith(f"org-{org_id}")

    result = cli(
        "admin",
        "api-key",
        "issue",
        "--label",
        "Semey desk",
        "--role",
        "exporter",
        "--org",
        str(org_id),
        "--signing-key",
        keystore,
        key=admin,
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("tdl_") and "shown once" in result.output

    result = cli("admin", "api-key", "list", "--json", key=admin)
    (listed,) = [k for k in _json(result.stdout) if k["label"] == "Semey desk"]
    assert listed == {
        "key_id": token.split("_")[1],
        "label": "Semey desk",
        "role": "exporter",
        "organisation_id": org_id,
        "signing_key": keystore,
        "token": None,
    }
    assert "Semey desk" in cli("admin", "api-key", "list", key=admin).output

    # the new key registers a document, signed with the organisation's new key
    doc = tmp_path / "invoice.txt"
    doc.write_bytes(b"Semey invoice " + os.urandom(32))
    result = cli("register", str(doc), "-t", "380", "-c", "SMGS-ADM-1", key=token)
    assert result.exit_code == 0, result.output
    result = cli("verify", str(doc), "--json")
    assert _json(result.stdout)["issuer"]["key"] == address

    result = cli("admin", "api-key", "revoke", listed["key_id"], key=admin)
    assert result.exit_code == 0, result.output
    result = cli("admin", "api-key", "list", key=token)
    assert result.exit_code == 1 and "unknown or revoked API key" in result.output
    result = cli("admin", "api-key", "revoke", listed["key_id"], key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 404" in result.output and "no API key with id" in result.output


def test_api_key_issue_errors(cli: Cli, service: Service) -> None:
    admin = service.api_key("admin")
    result = cli("admin", "api-key", "issue", "--label", "x", "--role", "pirate", key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 422" in result.output and "role must be exporter" in result.output
    result = cli("admin", "api-key", "issue", "--label", "x", "--role", "exporter", key=admin)
    assert result.exit_code == 1 and "must belong to an organisation" in result.output
    result = cli(
        "admin", "api-key", "issue", "--label", "x", "--role", "customs", "--org", "9999", key=admin
    )
    assert result.exit_code == 1 and "no organisation has id 9999" in result.output
    # a keystore the service holds for another organisation
    result = cli("admin", "key", "generate", str(service.org_id("chamber")), key=admin)
    _, chamber_key = result.stdout.split()
    result = cli(
        "admin",
        "api-key",
        "issue",
        "--label",
        "x",
        "--role",
        "exporter",
        "--org",
        str(service.org_id("exporter")),
        "--signing-key",
        chamber_key,
        key=admin,
    )
    assert result.exit_code == 1, result.output
    assert f"belongs to organisation {service.org_id('chamber')}" in result.output


def test_the_last_admin_key_is_kept(cli: Cli, service: Service) -> None:
    admin = service.api_key("admin")
    result = cli(
        "admin", "api-key", "issue", "--label", "second admin", "--role", "admin", key=admin
    )
    assert result.exit_code == 0, result.output
    second = result.stdout.strip()
    demo_id = admin.split("_")[1]
    listed = _json(cli("admin", "api-key", "list", "--json", key=second).stdout)
    for key in listed:  # every admin key but the demo's
        if key["role"] == "admin" and key["key_id"] != demo_id:
            assert cli("admin", "api-key", "revoke", key["key_id"], key=admin).exit_code == 0
    result = cli("admin", "api-key", "revoke", demo_id, key=admin)
    assert result.exit_code == 1, result.output
    assert "HTTP 409" in result.output and "last admin key" in result.output
    assert cli("admin", "org", "list", key=admin).exit_code == 0  # still works
