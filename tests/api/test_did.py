"""Organisations as did:web (issue 18, item 1): each admitted organisation's DID document
lists its chain keys, bound both ways to the on-chain identity; the JWK of a held key is
checked with pyca/cryptography against a signature by that key."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from eth_keys.datatypes import PublicKey

from ledger.flows import did_of, did_url
from tests.api.conftest import Service

pytestmark = pytest.mark.chain


def _jwk_key(jwk: dict[str, str]) -> ec.EllipticCurvePublicKey:
    def num(v: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)), "big")

    assert jwk["kty"] == "EC" and jwk["crv"] == "secp256k1"
    return ec.EllipticCurvePublicNumbers(num(jwk["x"]), num(jwk["y"]), ec.SECP256K1()).public_key()


def test_did_web_identifiers_follow_the_method_rules() -> None:
    # did:web: the port is percent-encoded, path segments are joined by ":"
    assert did_of("http://127.0.0.1:8000", 4) == "did:web:127.0.0.1%3A8000:orgs:4"
    assert did_of("https://ledger.example.org/kz/", 2) == "did:web:ledger.example.org:kz:orgs:2"
    assert did_url("did:web:ledger.example.org:kz:orgs:2") == (
        "https://ledger.example.org/kz/orgs/2/did.json"
    )
    assert did_url("did:web:127.0.0.1%3A8000:orgs:4") == "http://127.0.0.1:8000/orgs/4/did.json"


def test_an_organisations_did_document_names_its_chain_keys(svc: Service) -> None:
    org = svc.creds["organisations"]["exporter"]
    r = svc.http.get(f"/orgs/{org['org_id']}/did.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/did+ld+json")
    doc = r.json()
    did = did_of(svc.settings.base_url, org["org_id"])
    assert doc["id"] == did
    # the did:web rule, applied by hand, leads back to the URL just fetched
    assert did_url(did).endswith(f"/orgs/{org['org_id']}/did.json")

    # the DID Core data model: every method's id is a DID URL of this DID, and every
    # assertion method refers to a listed method
    assert doc["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert all(m["id"].startswith(f"{did}#") for m in doc["verificationMethod"])
    assert set(doc["assertionMethod"]) <= {m["id"] for m in doc["verificationMethod"]}

    chain_id = svc.rt.registry.chain_id
    by_id = {m["id"]: m for m in doc["verificationMethod"]}
    account = by_id[f"{did}#{org['key']}"]
    assert account["blockchainAccountId"] == f"eip155:{chain_id}:{org['key']}"
    assert account["controller"] == did
    # bound the other way: the contract's record of that key names this organisation
    assert svc.rt.registry.key_info(org["key"]).org_id == org["org_id"]
    # the gateway holds this key: its JWK is the key's public key (its address, and a
    # signature by the key verifies against it)
    jwk = by_id[f"{did}#{org['key']}-jwk"]["publicKeyJwk"]
    public = _jwk_key(jwk)
    raw = public.public_numbers()
    point = raw.x.to_bytes(32, "big") + raw.y.to_bytes(32, "big")
    assert PublicKey(point).to_checksum_address() == org["key"]
    key = svc.rt.account("demo-exporter").key
    signer = ec.derive_private_key(int.from_bytes(key, "big"), ec.SECP256K1())
    signature = signer.sign(b"a statement", ec.ECDSA(hashes.SHA256()))
    public.verify(signature, b"a statement", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"another statement", ec.ECDSA(hashes.SHA256()))
    # a key inside its window asserts
    assert f"{did}#{org['key']}" in doc["assertionMethod"]


def test_a_retired_key_stays_listed_but_asserts_nothing(svc: Service) -> None:
    org = svc.creds["organisations"]["chamber"]
    rt = svc.rt
    old = Account.create()
    now = int(time.time())
    admin = rt.sender("deployer")
    rt.registry.add_key(admin, org["org_id"], old.address, now - 60, now + 3600)
    rt.registry.retire_key(admin, old.address)
    did = did_of(svc.settings.base_url, org["org_id"])

    rt.catch_up(timeout=20)  # the index has both the admission and the retirement
    doc = svc.http.get(f"/orgs/{org['org_id']}/did.json").json()
    methods = {m["id"] for m in doc["verificationMethod"]}
    assert f"{did}#{old.address}" in methods
    # no JWK: the gateway does not hold that key
    assert f"{did}#{old.address}-jwk" not in methods
    assert f"{did}#{old.address}" not in doc["assertionMethod"]
    assert f"{did}#{org['key']}" in doc["assertionMethod"]


def test_an_unknown_organisation_has_no_did_document(svc: Service) -> None:
    r = svc.http.get("/orgs/9999/did.json")
    assert r.status_code == 404, r.text
    assert "no organisation 9999" in r.json()["detail"]
