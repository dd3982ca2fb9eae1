"""Every route of the service, on its happy path, against a real anvil chain."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from ledger.chain.keys import load_key
from tests.api.conftest import Service, doc_bytes, evidence, wait_until

pytestmark = pytest.mark.chain


def test_health_docs_and_openapi(svc: Service) -> None:
    wait_until(lambda: svc.http.get("/health").status_code == 200, what="/health to be ok")
    body = svc.http.get("/health").json()
    assert body["status"] == "ok"
    assert body["chain"]["ok"] is True and body["chain"]["chain_id"] == 31337
    assert body["store"] == {"ok": True, "kind": "embedded"}
    assert body["index"]["lag"] is not None and body["pending"] == 0

    docs = svc.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = svc.http.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/v1/documents",
        "/v1/documents/batch",
        "/v1/documents/relay",
        "/v1/documents/{sha256}",
        "/v1/documents/{sha256}/content",
        "/v1/documents/{sha256}/evidence",
        "/v1/documents/{sha256}/revoke",
        "/v1/documents/{sha256}/supersede",
        "/v1/documents/{sha256}/attestations",
        "/v1/documents/{sha256}/attestations/{attestation_id}/revoke",
        "/v1/verify",
        "/v1/verify/file",
        "/v1/admin/organisations",
        "/v1/admin/organisations/{org_id}/keys",
        "/v1/admin/keys/{address}/retire",
        "/v1/admin/api-keys",
        "/v1/admin/api-keys/{key_id}",
        "/health",
    ):
        assert path in paths, path


def test_register_read_content_and_verify(svc: Service) -> None:
    content = doc_bytes("register")
    r = svc.register(
        content,
        metadata=json.dumps({"country_of_origin": "KZ", "hs_codes": ["1101.00"]}),
        ref="SMGS-4711",
    )
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["sha256"] == hashlib.sha256(content).hexdigest()
    assert rec["cid"].startswith("bafk") and rec["status"] == "registered"
    assert rec["tx_hash"].startswith("0x") and rec["block_number"] > 0
    assert rec["metadata_cid"] and rec["issuer"]["organisation"].startswith("Demo Kazakh")

    svc.indexed(rec["sha256"])
    got = svc.http.get(f"/v1/documents/{rec['sha256']}").json()
    assert got["record"]["consignment_ref"] == "SMGS-4711"
    assert got["record"]["tx_hash"] == rec["tx_hash"]
    assert [h["what"] for h in got["history"]] == ["registered"]

    for who in ("exporter", "customs"):  # the issuer and the corridor's customs: recipients
        c = svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth(who))
        assert c.status_code == 200, (who, c.text)
        assert c.content == content
    for who in ("auditor", "admin"):  # sealed: not recipients (tests/api/test_confidential.py)
        c = svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth(who))
        assert c.status_code == 403, (who, c.text)

    v = svc.verdict(rec["sha256"])
    assert v["verdict"] == "VALID" and v["issuer"]["kind"] == "exporter", v
    # the same by uploading the file
    v = svc.http.post("/v1/verify/file", files={"file": ("x.pdf", content)}).json()
    assert v["verdict"] == "VALID" and v["sha256"] == rec["sha256"]
    # an altered copy is unknown: INVALID
    v = svc.http.post("/v1/verify/file", files={"file": ("x.pdf", content + b" ")}).json()
    assert v["verdict"] == "INVALID" and "unknown" in v["reasons"][0]


def test_verify_file_with_bundle_and_bundle_alone(svc: Service) -> None:
    content, rec = svc.registered()
    svc.indexed(rec["sha256"])
    bundle = evidence(svc, rec["sha256"])
    assert bundle.status_code == 200
    assert bundle.headers["content-disposition"].endswith('.evidence.json"')
    data = bundle.json()

    by_bundle = svc.http.post("/v1/verify", json={"bundle": data}).json()
    assert by_bundle["verdict"] == "VALID"

    ok = svc.http.post(
        "/v1/verify/file",
        files={"file": ("doc.pdf", content), "bundle": ("b.json", json.dumps(data))},
    ).json()
    assert ok["verdict"] == "VALID"
    tampered = svc.http.post(
        "/v1/verify/file",
        files={"file": ("doc.pdf", content + b"!"), "bundle": ("b.json", json.dumps(data))},
    ).json()
    assert tampered["verdict"] == "INVALID" and "tampered" in tampered["reasons"][0]

    forged = {**data, "consignment_ref": "SMGS-FORGED"}
    v = svc.http.post("/v1/verify", json={"bundle": forged}).json()
    assert v["verdict"] == "INVALID" and any("consignment_ref" in r for r in v["reasons"])


def test_attest_and_revoke_attestation(svc: Service) -> None:
    _, rec = svc.registered()
    sha = rec["sha256"]
    svc.indexed(sha)
    r = svc.http.post(
        f"/v1/documents/{sha}/attestations",
        json={"verdict": "cleared", "reference": "DECL-2026-001"},
        headers=svc.auth("customs"),
    )
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["verdict"] == "cleared" and att["reference"] == "DECL-2026-001"
    assert att["revoked"] is False and att["attester"]["kind"] == "customs"

    details = svc.http.get(f"/v1/documents/{sha}").json()
    assert [a["attestation_id"] for a in details["attestations"]] == [att["attestation_id"]]
    assert svc.verdict(sha)["attestations"][0]["verdict"] == "cleared"

    r = svc.http.post(
        f"/v1/documents/{sha}/attestations/{att['attestation_id']}/revoke",
        headers=svc.auth("customs"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["revoked"] is True
    history = [h["what"] for h in svc.http.get(f"/v1/documents/{sha}").json()["history"]]
    assert "attestation_revoked" in history


def test_revoke(svc: Service) -> None:
    _, rec = svc.registered()
    sha = rec["sha256"]
    svc.indexed(sha)
    r = svc.http.post(
        f"/v1/documents/{sha}/revoke",
        json={"reason": "issued_in_error"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"
    v = svc.verdict(sha)
    assert v["verdict"] == "INVALID" and v["reasons"][0].startswith("revoked: issued in error")
    again = svc.http.post(
        f"/v1/documents/{sha}/revoke", json={"reason": "cancelled"}, headers=svc.auth("exporter")
    )
    assert again.status_code == 409, again.text
    # issue 14: customs attest only active documents, in the service and on chain
    attest = svc.http.post(
        f"/v1/documents/{sha}/attestations",
        json={"verdict": "cleared", "reference": "DECL-2026-002"},
        headers=svc.auth("customs"),
    )
    assert attest.status_code == 409, attest.text
    assert "revoked" in attest.json()["detail"]
    assert svc.http.get(f"/v1/documents/{sha}").json()["attestations"] == []


def test_supersede(svc: Service) -> None:
    _, old = svc.registered("chamber")
    svc.indexed(old["sha256"])
    amended = doc_bytes("amended")
    r = svc.http.post(
        f"/v1/documents/{old['sha256']}/supersede",
        files={"file": ("amended.pdf", amended)},
        data={"doc_type": "861", "consignment_ref": "SMGS-0001-A"},
        headers=svc.auth("chamber"),
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["supersedes"] == old["sha256"] and new["status"] == "registered"
    svc.indexed(old["sha256"], "superseded")
    v = svc.verdict(old["sha256"])
    assert v["verdict"] == "INVALID" and new["sha256"] in v["reasons"][0]
    assert svc.verdict(new["sha256"])["verdict"] == "VALID"


def test_admin_routes(svc: Service) -> None:
    admin = svc.auth("admin")
    r = svc.http.post(
        "/v1/admin/organisations",
        json={"name": "Demo Termez Grain Traders", "country": "UZ", "kind": "exporter"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    org_id = r.json()["org_id"]

    r = svc.http.post(f"/v1/admin/organisations/{org_id}/keys", json={}, headers=admin)
    assert r.status_code == 201, r.text
    key = r.json()
    assert load_key(svc.settings, key["signing_key"]) is not None

    wait_until(
        lambda: any(
            o["org_id"] == org_id and o["keys"]
            for o in svc.http.get("/v1/admin/organisations", headers=admin).json()
        ),
        what="the new organisation's key to be indexed",
    )

    r = svc.http.post(
        "/v1/admin/api-keys",
        json={
            "label": "Termez exporter desk",
            "role": "exporter",
            "organisation_id": org_id,
            "signing_key": key["signing_key"],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    api_key = r.json()
    assert api_key["token"].startswith("tdl_")
    listed = svc.http.get("/v1/admin/api-keys", headers=admin).json()
    assert api_key["key_id"] in {k["key_id"] for k in listed}
    assert all(k["token"] is None for k in listed)

    # the new organisation registers with its own key
    _, rec = svc.registered(api_key["token"])
    assert rec["issuer"]["key"] == key["address"]
    svc.indexed(rec["sha256"])
    assert svc.verdict(rec["sha256"])["verdict"] == "VALID"

    # retiring the key: what it signed stays valid, new registrations are refused by the chain
    # (a key's window is [from, until) in whole seconds: retire it a second after it signed)
    time.sleep(1.1)
    r = svc.http.post(f"/v1/admin/keys/{key['address']}/retire", headers=admin)
    assert r.status_code == 200, r.text
    time.sleep(1.1)  # the next block is strictly after the retirement
    assert svc.verdict(rec["sha256"])["verdict"] == "VALID"
    refused = svc.register(who=api_key["token"])
    assert refused.status_code == 403, refused.text

    # revoking the API key: the token stops working
    r = svc.http.delete(f"/v1/admin/api-keys/{api_key['key_id']}", headers=admin)
    assert r.status_code == 204
    after = svc.register(who=api_key["token"])
    assert after.status_code == 401, after.text
    missing = svc.http.delete(f"/v1/admin/api-keys/{api_key['key_id']}x", headers=admin)
    assert missing.status_code == 404


def test_the_head_reported_is_never_below_what_was_indexed(svc: Service) -> None:
    """Issue 12.7: a verify answer showed indexed_block 15 with chain_head 14: the chain
    monitor's head is a cached look, older than what the indexer has reached since."""
    _, rec = svc.registered()
    svc.indexed(rec["sha256"])
    for _ in range(5):
        svc.rt.health.head = svc.rt.health.indexed - 1  # the monitor looked a moment before
        v = svc.verdict(rec["sha256"])
        assert v["chain_head"] >= v["indexed_block"], v
        svc.rt.health.head = svc.rt.health.indexed - 1
        page = svc.http.get(
            "/v1/audit/documents", params={"limit": 1}, headers=svc.auth("auditor")
        ).json()
        assert page["chain_head"] >= page["indexed_block"] and page["lag"] >= 0, page
        svc.rt.health.head = svc.rt.health.indexed - 1
        health = svc.http.get("/health").json()
        assert health["chain"]["head"] >= health["index"]["indexed_block"], health
