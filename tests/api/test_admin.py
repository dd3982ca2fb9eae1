"""The consortium admin's keys: never locked out, and key admissions that never lose a key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account import Account

from ledger.chain.keys import load_key
from tests.api.conftest import Service

pytestmark = pytest.mark.chain


def _admin_keys(svc: Service) -> list[str]:
    r = svc.http.get("/v1/admin/api-keys", headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return [k["key_id"] for k in r.json() if k["role"] == "admin"]


def test_the_last_admin_key_cannot_be_revoked(svc: Service) -> None:
    """Issue 12.9: the admin could revoke the last admin API key, with no way back."""
    admin = svc.auth("admin")
    demo_admin = svc.creds["api_keys"]["admin"].split("_")[1]
    r = svc.http.post(
        "/v1/admin/api-keys", json={"label": "second admin", "role": "admin"}, headers=admin
    )
    assert r.status_code == 201, r.text
    second = r.json()
    assert sorted(_admin_keys(svc)) == sorted([demo_admin, second["key_id"]])
    r = svc.http.delete(f"/v1/admin/api-keys/{second['key_id']}", headers=admin)
    assert r.status_code == 204, r.text
    assert _admin_keys(svc) == [demo_admin]
    r = svc.http.delete(f"/v1/admin/api-keys/{demo_admin}", headers=admin)
    assert r.status_code == 409, r.text
    assert "last admin key" in r.json()["detail"]
    assert _admin_keys(svc) == [demo_admin]  # still works


def test_keys_admitted_at_once_each_keep_their_private_key(svc: Service) -> None:
    """Issue 20.1: two admissions for one organisation in the same second were written to
    the same keystore name, the second over the first: an admitted key without its
    private key."""
    org = svc.creds["organisations"]["chamber"]["org_id"]

    def admit(_: int) -> dict[str, str]:
        r = svc.http.post(f"/v1/admin/organisations/{org}/keys", json={}, headers=svc.auth("admin"))
        assert r.status_code == 201, r.text
        body: dict[str, str] = r.json()
        return body

    with ThreadPoolExecutor(3) as pool:
        admitted = list(pool.map(admit, range(3)))
    assert len({a["signing_key"] for a in admitted}) == 3
    assert len({a["address"] for a in admitted}) == 3
    for a in admitted:
        account = load_key(svc.settings, a["signing_key"])
        assert account is not None and account.address == a["address"]
        assert svc.rt.registry.key_info(a["address"]).org_id == org


def test_an_exporters_own_key_is_admitted_by_address(svc: Service) -> None:
    """The gasless walk (issue 12.12): `tradeledger keygen` makes a key only the exporter
    holds; the admin admits its address, with no keystore on the service."""
    from eth_account import Account

    own = Account.create()
    org = svc.creds["organisations"]["exporter"]["org_id"]
    admin = svc.auth("admin")
    r = svc.http.post(
        f"/v1/admin/organisations/{org}/keys", json={"address": own.address.lower()}, headers=admin
    )
    assert r.status_code == 201, r.text
    assert r.json()["address"] == own.address and r.json()["signing_key"] is None
    assert svc.rt.registry.key_info(own.address).org_id == org
    r = svc.http.post(
        f"/v1/admin/organisations/{org}/keys", json={"address": "0x1234"}, headers=admin
    )
    assert r.status_code == 422 and "40 hexadecimal digits" in r.json()["detail"], r.text


def test_the_auditor_sees_every_admin_action(svc: Service) -> None:
    """Issue 14: every consortium decision is an event the index shows to the auditors."""
    admin = svc.auth("admin")
    r = svc.http.post(
        "/v1/admin/organisations",
        json={"name": "Demo Termez Customs", "country": "UZ", "kind": "customs"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    org_id = r.json()["org_id"]
    own = Account.create()
    r = svc.http.post(
        f"/v1/admin/organisations/{org_id}/keys", json={"address": own.address}, headers=admin
    )
    assert r.status_code == 201, r.text
    r = svc.http.post(f"/v1/admin/keys/{own.address}/retire", headers=admin)
    assert r.status_code == 200, r.text
    svc.rt.catch_up(10)
    r = svc.http.get("/v1/audit/consortium-events", headers=svc.auth("auditor"))
    assert r.status_code == 200, r.text
    found = r.json()["events"]
    names = [e["event"] for e in found]
    assert names[:3] == ["KeyRetired", "KeyAdded", "OrganisationAdmitted"]
    assert found[0]["args"]["key"] == own.address and found[2]["args"]["orgId"] == org_id
    assert "RoleGranted" in names  # the admin's own grant at deployment
    denied = svc.http.get("/v1/audit/consortium-events", headers=svc.auth("exporter"))
    assert denied.status_code == 403
