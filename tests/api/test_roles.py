"""Roles by actions: who may do what, enforced by the service (401 without a valid key, 403
for a role that may not), and the organisation rules on top of the roles."""

from __future__ import annotations

import pytest
from httpx import Response

from tests.api.conftest import Service, Signer, doc_bytes, post_relay, signed_request

pytestmark = pytest.mark.chain

CALLERS = ("exporter", "chamber", "customs", "auditor", "admin", None, "bad")
ALLOWED = {
    "register": {"exporter", "chamber"},
    "relay": {"exporter", "chamber"},
    "revoke": {"exporter", "chamber", "admin"},
    "supersede": {"exporter", "chamber"},
    "attest": {"customs"},
    # a sealed document: its issuer's organisation and the corridor's customs are recipients;
    # the auditor's and admin's roles may read content, their organisations are not recipients
    "read content": {"exporter", "chamber", "customs"},
    "admin": {"admin"},
}
SUCCESS = {
    "register": 201,
    "relay": 201,
    "revoke": 200,
    "supersede": 201,
    "attest": 201,
    "read content": 200,
    "admin": 200,
}


def _target(svc: Service, who: str | None) -> tuple[bytes, str]:
    """A fresh document issued by the caller's organisation (by the exporter for the others)."""
    issuer = who if who in ("exporter", "chamber") else "exporter"
    content, rec = svc.registered(issuer)
    return content, rec["sha256"]


def _act(svc: Service, signer: Signer, who: str | None, action: str) -> Response:
    h = svc.auth(who)
    if action == "register":
        return svc.register(who=who)
    if action == "relay":
        content = doc_bytes("relay")
        return post_relay(svc, content, signed_request(svc, signer, content), who)
    if action == "admin":
        return svc.http.get("/v1/admin/api-keys", headers=h)
    content, sha = _target(svc, who)
    if action == "revoke":
        return svc.http.post(f"/v1/documents/{sha}/revoke", json={"reason": "cancelled"}, headers=h)
    if action == "supersede":
        return svc.http.post(
            f"/v1/documents/{sha}/supersede",
            files={"file": ("amended.pdf", doc_bytes("amended"))},
            data={"doc_type": "861", "consignment_ref": "SMGS-A"},
            headers=h,
        )
    if action == "attest":
        return svc.http.post(
            f"/v1/documents/{sha}/attestations", json={"verdict": "verified"}, headers=h
        )
    assert action == "read content"
    r = svc.http.get(f"/v1/documents/{sha}/content", headers=h)
    if r.status_code == 200:
        assert r.content == content
    return r


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("who", CALLERS, ids=lambda w: w or "no-key")
def test_role_matrix(svc: Service, signer: Signer, who: str | None, action: str) -> None:
    r = _act(svc, signer, who, action)
    if who in ALLOWED[action]:
        assert r.status_code == SUCCESS[action], r.text
        return
    expected = 401 if who in (None, "bad") else 403
    assert r.status_code == expected, r.text
    detail = r.json()["detail"]
    if expected == 401:
        assert "API key" in detail and r.headers["www-authenticate"] == "Bearer"
    elif action == "read content":
        assert "not one of its recipients" in detail
    else:
        assert f"role {'issuer' if who == 'chamber' else who} may not" in detail
        assert "roles that may:" in detail


def test_malformed_key_is_401(svc: Service) -> None:
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("d.pdf", doc_bytes())},
        data={"doc_type": "861", "consignment_ref": "X"},
        headers={"Authorization": "Bearer not-a-key"},
    )
    assert r.status_code == 401 and "tdl_<id>_<secret>" in r.json()["detail"]


def test_organisation_rules_on_top_of_roles(svc: Service) -> None:
    """A role that may revoke, supersede or read content may do so only for its own documents."""
    _, rec = svc.registered("exporter")
    sha = rec["sha256"]
    chamber = svc.auth("chamber")
    r = svc.http.post(f"/v1/documents/{sha}/revoke", json={}, headers=chamber)
    assert r.status_code == 403 and "issuing organisation" in r.json()["detail"]
    r = svc.http.post(
        f"/v1/documents/{sha}/supersede",
        files={"file": ("a.pdf", doc_bytes())},
        data={"doc_type": "861", "consignment_ref": "X"},
        headers=chamber,
    )
    assert r.status_code == 403 and "organisation that issued" in r.json()["detail"]
    r = svc.http.get(f"/v1/documents/{sha}/content", headers=chamber)
    assert r.status_code == 403

    # an attestation may be revoked only by the customs office that recorded it
    att = svc.http.post(
        f"/v1/documents/{sha}/attestations", json={"verdict": "held"}, headers=svc.auth("customs")
    ).json()
    for who in ("exporter", "admin"):
        r = svc.http.post(
            f"/v1/documents/{sha}/attestations/{att['attestation_id']}/revoke",
            headers=svc.auth(who),
        )
        assert r.status_code == 403, r.text
