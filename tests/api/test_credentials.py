"""Registrations as Verifiable Credentials 2.0 (issue 18, items 2 and 3): a credential issued
by the organisation's did:web, secured as VC-JOSE-COSE (ES256K), verified here with jwcrypto
(a JOSE library this project did not write) against the key its DID document lists; its
revocation shows through the organisation's signed status list."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS, InvalidJWSSignature

from ledger.flows import decode_bits, did_of
from ledger.flows.credentials import sign_jwt
from tests.api.conftest import Service

pytestmark = pytest.mark.chain


def _verify(svc: Service, token: str) -> dict[str, Any]:
    """What an outside verifier does: resolve the issuer's DID document, take the key the
    header's ``kid`` names, check the JWS. Returns the payload."""
    jws = JWS()
    jws.deserialize(token)
    kid = jws.jose_header["kid"]
    assert jws.jose_header["typ"] == "vc+jwt" and jws.jose_header["alg"] == "ES256K"
    did = kid.split("#")[0]
    org_id = int(did.rsplit(":", 1)[1])
    doc = svc.http.get(f"/orgs/{org_id}/did.json").json()
    assert doc["id"] == did
    (method,) = [m for m in doc["verificationMethod"] if m["id"] == kid]
    jws.allowed_algs = ["ES256K"]
    jws.verify(JWK(**method["publicKeyJwk"]))
    payload: dict[str, Any] = json.loads(jws.payload)
    return payload


def test_a_registration_as_a_credential_that_an_outside_verifier_accepts(svc: Service) -> None:
    _, rec = svc.registered("exporter", doc_type=380, ref="SMGS-VC-1")
    svc.indexed(rec["sha256"])
    r = svc.http.get(f"/v1/documents/{rec['sha256']}/credential")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vc+jwt")
    token = r.text

    vc = _verify(svc, token)
    org = svc.creds["organisations"]["exporter"]
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vc["type"] == ["VerifiableCredential", "TradeDocumentCredential"]
    assert vc["issuer"] == did_of(svc.settings.base_url, org["org_id"])
    subject = vc["credentialSubject"]
    assert subject["sha256"] == rec["sha256"] and subject["cid"] == rec["cid"]
    assert subject["documentType"]["code"] == "380"
    assert subject["consignmentReference"] == "SMGS-VC-1"
    anchor = subject["anchor"]
    assert anchor["transaction"] == rec["tx_hash"] and anchor["block"] == rec["block_number"]
    assert anchor["contract"] == svc.rt.registry.address
    assert anchor["chainId"] == svc.rt.registry.chain_id
    assert anchor["issuerKey"] == org["key"]
    assert vc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    # the same document asked again keeps its status bit
    again = _verify(svc, svc.http.get(f"/v1/documents/{rec['sha256']}/credential").text)
    assert again["credentialStatus"] == vc["credentialStatus"]

    # tampered: a subject field changed under the same signature is refused
    head, _, sig = token.split(".")
    forged = dict(vc, credentialSubject=dict(subject, consignmentReference="SMGS-FORGED"))
    body2 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidJWSSignature):
        _verify(svc, f"{head}.{body2}.{sig}")
    # signed by another organisation's key but naming the exporter's key: refused
    chamber = svc.rt.account("demo-chamber")
    with pytest.raises(InvalidJWSSignature):
        _verify(svc, sign_jwt(vc, bytes(chamber.key), json.loads(_header(token))["kid"]))


def _header(token: str) -> str:
    part = token.split(".")[0]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def test_revocation_on_chain_shows_through_the_status_list(svc: Service) -> None:
    _, rec = svc.registered("exporter", doc_type=380, ref="SMGS-VC-2")
    svc.indexed(rec["sha256"])
    vc = _verify(svc, svc.http.get(f"/v1/documents/{rec['sha256']}/credential").text)
    entry = vc["credentialStatus"]
    index = int(entry["statusListIndex"])
    list_url = entry["statusListCredential"]
    path = list_url.removeprefix(svc.settings.base_url)

    def bit() -> int:
        r = svc.http.get(path)
        assert r.status_code == 200, r.text
        status = _verify(svc, r.text)
        assert status["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert status["issuer"] == vc["issuer"] and "validUntil" in status
        bits = decode_bits(status["credentialSubject"]["encodedList"])
        assert len(bits) * 8 >= 131_072
        return (bits[index // 8] >> (7 - index % 8)) & 1

    assert bit() == 0
    r = svc.http.post(
        f"/v1/documents/{rec['sha256']}/revoke",
        json={"reason": "cancelled"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 200, r.text
    svc.indexed(rec["sha256"], status="revoked")
    assert bit() == 1


def test_no_credential_for_an_unknown_document(svc: Service) -> None:
    r = svc.http.get(f"/v1/documents/{'ab' * 32}/credential")
    assert r.status_code == 404, r.text
    r = svc.http.get("/v1/documents/not-a-hash/credential")
    assert r.status_code == 422, r.text
