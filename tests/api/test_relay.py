"""Gasless registration: an exporter signs an EIP-712 request with its own key, the service
relays it and pays the gas; replays and stale nonces are refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.api.conftest import Service, Signer, doc_bytes, post_relay, signed_request

pytestmark = pytest.mark.chain


def test_relayed_registration(svc: Service, signer: Signer) -> None:
    content = doc_bytes("relayed")
    nonce = svc.rt.registry.key_info(signer.account.address).nonce
    signed = signed_request(svc, signer, content, ref="SMGS-RELAYED-7")
    r = post_relay(svc, content, signed, "chamber")  # any registering role may relay
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["sha256"] == hashlib.sha256(content).hexdigest()
    assert rec["status"] == "registered" and rec["consignment_ref"] == "SMGS-RELAYED-7"
    # the document is the signer's, not the relayer's
    assert rec["issuer"]["key"] == signer.account.address
    assert svc.rt.registry.key_info(signer.account.address).nonce == nonce + 1
    onchain = svc.rt.registry.document(bytes.fromhex(rec["sha256"]))
    assert onchain is not None and onchain.issuer == signer.account.address

    svc.indexed(rec["sha256"])
    details = svc.http.get(f"/v1/documents/{rec['sha256']}").json()
    assert details["record"]["issuer"]["organisation_id"] == signer.org_id
    v = svc.verdict(rec["sha256"])
    assert v["verdict"] == "VALID" and v["issuer"]["organisation"] == "Demo Relayed Exporter LLP"

    # a replay of the same signed request is the same document again: 409 with the record
    again = post_relay(svc, content, signed, "exporter")
    assert again.status_code == 409, again.text
    assert again.json()["record"]["tx_hash"] == rec["tx_hash"]


def test_stale_nonce_is_refused(svc: Service, signer: Signer) -> None:
    first = doc_bytes("first")
    second = doc_bytes("second")
    stale = signed_request(svc, signer, second)  # signed with the nonce the first will use
    assert post_relay(svc, first, signed_request(svc, signer, first), "exporter").status_code == 201
    r = post_relay(svc, second, stale, "exporter")
    assert 400 <= r.status_code < 500, r.text
    assert "nonce" in r.json()["detail"].lower()
    assert svc.http.get(f"/v1/documents/{hashlib.sha256(second).hexdigest()}").status_code == 404
    # signed afresh, it goes through
    fresh = post_relay(svc, second, signed_request(svc, signer, second), "exporter")
    assert fresh.status_code == 201, fresh.text
    assert json.loads(stale)["nonce"] + 2 == svc.rt.registry.key_info(signer.account.address).nonce
