"""Bad input gets a clear 4xx whose message says what to fix, never a 500."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from eth_account import Account

from ledger.content.hashing import hash_bytes
from tests.api.conftest import (
    MAX_UPLOAD,
    Service,
    Signer,
    doc_bytes,
    post_relay,
    signed_request,
)

pytestmark = pytest.mark.chain


def _problem(r: object, status: int, *words: str) -> str:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    detail: str = r.json()["detail"]  # type: ignore[attr-defined]
    for word in words:
        assert word in detail, detail
    return detail


def test_empty_file(svc: Service) -> None:
    _problem(svc.register(b""), 422, "empty")
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", ("a.pdf", doc_bytes())), ("files", ("b.pdf", b""))],
        data={"doc_type": "861", "consignment_ref": "SMGS-B"},
        headers=svc.auth("exporter"),
    )
    _problem(r, 422, "empty")


def test_file_over_the_limit(svc: Service) -> None:
    # just over the limit: refused while streaming
    _problem(svc.register(b"x" * (MAX_UPLOAD + 1)), 413, "limit", str(MAX_UPLOAD))
    # far over the limit: refused from Content-Length before reading the body
    _problem(svc.register(b"y" * (MAX_UPLOAD + 200_000)), 413, "limit", str(MAX_UPLOAD))
    # verification only hashes the file (nothing is stored), but a clearly oversized body
    # is refused from its Content-Length all the same
    r = svc.http.post("/v1/verify/file", files={"file": ("big.pdf", b"z" * (MAX_UPLOAD + 200_000))})
    _problem(r, 413, "limit")
    # exactly at the limit is fine
    assert svc.register(b"w" * (MAX_UPLOAD - 64) + doc_bytes()[:64]).status_code == 201


def test_unknown_document_type(svc: Service) -> None:
    detail = _problem(svc.register(doc_type=999), 422, "unknown document type 999", "UN/EDIFACT")
    assert "861 certificate of origin" in detail and "380 commercial invoice" in detail
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("d.pdf", doc_bytes())},
        data={"doc_type": "invoice", "consignment_ref": "X"},
        headers=svc.auth("exporter"),
    )
    _problem(r, 422, "doc_type")


def test_missing_fields(svc: Service) -> None:
    r = svc.http.post("/v1/documents", data={"doc_type": "861"}, headers=svc.auth("exporter"))
    _problem(r, 422, "file", "consignment_ref")
    _problem(svc.register(ref="   "), 422, "consignment_ref")
    _problem(svc.register(metadata="{not json"), 422, "metadata is not valid JSON")
    _problem(svc.register(metadata='{"country_of_origin": "Kazakhstan"}'), 422, "ISO 3166")
    _problem(svc.register(metadata='{"hs_codes": ["flour"]}'), 422, "HS code")


@pytest.mark.parametrize("bad", ["abc", "0x1234", "g" * 64, "a" * 63, "a" * 65])
def test_malformed_hash(svc: Service, bad: str) -> None:
    for r in (
        svc.http.get(f"/v1/documents/{bad}"),
        svc.http.get(f"/v1/documents/{bad}/evidence"),
        svc.http.get(f"/v1/documents/{bad}/content", headers=svc.auth("customs")),
        svc.http.post("/v1/verify", json={"sha256": bad}),
        svc.http.post(f"/v1/documents/{bad}/revoke", json={}, headers=svc.auth("admin")),
        svc.http.post(
            f"/v1/documents/{bad}/attestations",
            json={"verdict": "verified"},
            headers=svc.auth("customs"),
        ),
    ):
        _problem(r, 422, "64 hexadecimal digits")


def test_unknown_document(svc: Service) -> None:
    sha = hashlib.sha256(doc_bytes("never registered")).hexdigest()
    for r in (
        svc.http.get(f"/v1/documents/{sha}"),
        svc.http.get(f"/v1/documents/{sha}/content", headers=svc.auth("auditor")),
        svc.http.post(f"/v1/documents/{sha}/revoke", json={}, headers=svc.auth("admin")),
        svc.http.post(
            f"/v1/documents/{sha}/attestations",
            json={"verdict": "verified"},
            headers=svc.auth("customs"),
        ),
        svc.http.post(
            f"/v1/documents/{sha}/supersede",
            files={"file": ("a.pdf", doc_bytes())},
            data={"doc_type": "861", "consignment_ref": "X"},
            headers=svc.auth("exporter"),
        ),
    ):
        _problem(r, 404, sha)
    # evidence of an unknown document: nothing to give, said plainly
    r = svc.http.get(f"/v1/documents/{sha}/evidence")
    assert 400 <= r.status_code < 500 and sha in r.json()["detail"], r.text
    # verification of an unknown fingerprint is an answer, not an error
    assert svc.verdict(sha)["verdict"] == "INVALID"


def test_duplicate_is_409_with_the_existing_record(svc: Service) -> None:
    content, rec = svc.registered()
    r = svc.register(content, who="chamber", ref="SMGS-OTHER")
    detail = _problem(r, 409, "already registered", "supersede")
    assert rec["sha256"] in detail
    existing = r.json()["record"]
    assert existing["sha256"] == rec["sha256"] and existing["tx_hash"] == rec["tx_hash"]
    assert existing["consignment_ref"] == rec["consignment_ref"]
    assert existing["issuer"]["kind"] == "exporter"


def test_bad_attestation_revocation_and_admin_input(svc: Service) -> None:
    _, rec = svc.registered()
    sha = rec["sha256"]
    customs = svc.auth("customs")
    _problem(
        svc.http.post(f"/v1/documents/{sha}/attestations", json={"verdict": "ok"}, headers=customs),
        422,
        "verified, cleared, held or rejected",
    )
    _problem(
        svc.http.post(
            f"/v1/documents/{sha}/attestations",
            json={"verdict": "held", "reference": "R" * 200},
            headers=customs,
        ),
        422,
        "reference",
    )
    _problem(
        svc.http.post(f"/v1/documents/{sha}/attestations/0x{'ab' * 32}/revoke", headers=customs),
        404,
        "no attestation",
    )
    _problem(
        svc.http.post(
            f"/v1/documents/{sha}/revoke", json={"reason": "bored"}, headers=svc.auth("exporter")
        ),
        422,
        "issued_in_error",
    )
    admin = svc.auth("admin")
    _problem(
        svc.http.post(
            "/v1/admin/organisations",
            json={"name": "Demo X", "country": "KZ", "kind": "bank"},
            headers=admin,
        ),
        422,
        "exporter, issuing_body, customs or auditor",
    )
    _problem(
        svc.http.post(
            "/v1/admin/organisations",
            json={"name": "Demo X", "country": "Kazakhstan", "kind": "exporter"},
            headers=admin,
        ),
        422,
        "country",
    )
    _problem(
        svc.http.post(
            "/v1/admin/organisations",
            json={"name": "Demo X", "country": "k1", "kind": "exporter"},
            headers=admin,
        ),
        422,
        "country",
    )
    _problem(svc.http.post("/v1/admin/organisations/9999/keys", json={}, headers=admin), 404)
    for org_id in ("0", "-1", str(2**32)):
        _problem(
            svc.http.post(f"/v1/admin/organisations/{org_id}/keys", json={}, headers=admin),
            422,
            "org_id",
        )
    for window in ({"valid_until": 2**41}, {"valid_from": -5}):
        _problem(
            svc.http.post("/v1/admin/organisations/1/keys", json=window, headers=admin),
            422,
            next(iter(window)),
        )
    _problem(
        svc.http.post(
            "/v1/admin/api-keys",
            json={
                "label": "x",
                "role": "customs",
                "organisation_id": 3,
                "signing_key": "demo-exporter",
            },
            headers=admin,
        ),
        422,
        "belongs to organisation 1, not 3",
    )
    _problem(
        svc.http.post("/v1/admin/api-keys", json={"label": "x", "role": "boss"}, headers=admin),
        422,
        "role must be",
    )
    _problem(
        svc.http.post("/v1/admin/api-keys", json={"label": "x", "role": "customs"}, headers=admin),
        422,
        "organisation",
    )
    _problem(
        svc.http.post(
            "/v1/admin/api-keys",
            json={"label": "x", "role": "customs", "organisation_id": 999},
            headers=admin,
        ),
        404,
        "999",
    )
    _problem(
        svc.http.post(
            "/v1/admin/organisations/1/keys",
            json={"valid_from": 100, "valid_until": 50},
            headers=admin,
        ),
        422,
        "validity window",
    )
    _problem(
        svc.http.post(
            "/v1/admin/api-keys",
            json={"label": "x", "role": "customs", "organisation_id": 3, "signing_key": "nope"},
            headers=admin,
        ),
        403,
        "signing key",
    )
    _problem(
        svc.http.post(f"/v1/admin/keys/0x{'12' * 20}/retire", headers=admin),
        403,
        "never admitted",
    )
    _problem(
        svc.http.post("/v1/admin/keys/not-an-address/retire", headers=admin),
        422,
        "40 hexadecimal digits",
    )


def test_verify_bad_requests(svc: Service) -> None:
    _problem(svc.http.post("/v1/verify", json={}), 422, "sha256", "bundle")
    _problem(svc.http.post("/v1/verify", json={"bundle": {"hello": 1}}), 422, "evidence bundle")
    r = svc.http.post(
        "/v1/verify/file",
        files={"file": ("d.pdf", doc_bytes()), "bundle": ("b.json", b"{nope")},
    )
    _problem(r, 422, "not JSON")
    _problem(svc.http.post("/v1/verify/file"), 422, "file")


def test_relay_bad_and_expired_signatures(svc: Service, signer: Signer) -> None:
    content = doc_bytes("relay-bad")
    # signed by someone else than the issuer the request names
    forged = signed_request(svc, signer, content, sign_with=Account.create())
    _problem(post_relay(svc, content, forged, "exporter"), 422, "does not match", "issuer's key")
    # expired
    expired = signed_request(svc, signer, content, deadline=int(time.time()) - 10)
    _problem(post_relay(svc, content, expired, "exporter"), 422, "expired", "sign a new one")
    # signed for another file
    other = signed_request(svc, signer, doc_bytes("other"))
    _problem(post_relay(svc, content, other, "exporter"), 422, "does not match", "uploaded file")
    # not a signed request at all
    _problem(post_relay(svc, content, '{"issuer": "x"}', "exporter"), 422, "signed_request")
    _problem(post_relay(svc, content, "not json", "exporter"), 422, "signed_request")
    bad_hex = signed_request(svc, signer, content).replace('"0x', '"0xzz')
    _problem(post_relay(svc, content, bad_hex, "exporter"), 422, "signed_request")
    # fields out of their on-chain ranges, or a signature of the wrong length
    good = json.loads(signed_request(svc, signer, content))
    for change, words in (
        ({"doc_type": 99999}, ("unknown document type 99999",)),
        ({"consignment_ref": ""}, ("consignment_ref",)),
        ({"issuer": "0x12"}, ("cannot be checked", "issuer address")),
        ({"nonce": -1}, ("cannot be checked", "uint64 nonce")),
        ({"deadline": 2**41}, ("cannot be checked", "uint40 deadline")),
        ({"signature": "0x1234"}, ("cannot be checked", "65-byte signature")),
        ({"metadata_cid": "nonsense"}, ("not a CID",)),
    ):
        r = post_relay(svc, content, json.dumps({**good, **change}), "exporter")
        _problem(r, 422, *words)
    # none of these reached the chain: the document is still unknown
    assert svc.http.get(f"/v1/documents/{hashlib.sha256(content).hexdigest()}").status_code == 404


def test_streamed_batch_bad_input_and_field_order(svc: Service) -> None:
    def batch(files: list[tuple[str, bytes]], **data: object) -> object:
        return svc.http.post(
            "/v1/documents/batch",
            files=[("files", f) for f in files],
            data=data,
            headers=svc.auth("exporter"),
        )

    one = [("a.pdf", doc_bytes())]
    _problem(
        batch(one, doc_type="invoice", consignment_ref="SMGS-B"), 422, "doc_type", "whole number"
    )
    _problem(batch(one, doc_type="861"), 422, "consignment_ref")
    r = svc.http.post(  # multipart, but no part named "files"
        "/v1/documents/batch",
        files=[("attachment", ("n.txt", b"note"))],
        data={"doc_type": "861", "consignment_ref": "SMGS-B"},
        headers=svc.auth("exporter"),
    )
    _problem(r, 422, "at least one file")
    refused = [("r.pdf", doc_bytes("refused batch"))]
    _problem(batch(refused, doc_type="999", consignment_ref="SMGS-B"), 422, "unknown document type")
    # stored while it uploaded, but a refused batch pins nothing (gc may take it)
    assert hash_bytes(refused[0][1]).cid not in {str(c) for c in svc.rt.store.pinned()}
    two = [("a.pdf", doc_bytes()), ("b.pdf", doc_bytes())]
    _problem(batch(two, doc_type=["861"] * 3, consignment_ref="SMGS-B"), 422, "one per file")
    over = [("a.pdf", doc_bytes()), ("big.pdf", b"x" * (MAX_UPLOAD + 1))]
    _problem(batch(over, doc_type="861", consignment_ref="SMGS-B"), 413, "limit")
    r = svc.http.post("/v1/documents/batch", json={"files": []}, headers=svc.auth("exporter"))
    _problem(r, 422, "multipart/form-data")
    r = svc.http.post(
        "/v1/documents/batch",
        content=b"--xyz\r\nnot a part\r\n",
        headers={**svc.auth("exporter"), "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code == 422, r.text
    # customs may not register: refused before anything is stored
    _problem(
        svc.http.post(
            "/v1/documents/batch",
            files=[("files", ("c.pdf", doc_bytes()))],
            data={"doc_type": "861", "consignment_ref": "SMGS-B"},
            headers=svc.auth("customs"),
        ),
        403,
    )
    # fields after the files (as the exporter page sends consignment_ref): accepted
    boundary = "b0undary"
    content = doc_bytes("fields-last")
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.pdf"\r\n\r\n'.encode()
        + content
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="doc_type"\r\n\r\n380'
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="consignment_ref"\r\n\r\nSMGS-LAST'
        f"\r\n--{boundary}--\r\n".encode()
    )
    r = svc.http.post(
        "/v1/documents/batch",
        content=body,
        headers={
            **svc.auth("exporter"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 201, r.text
    (doc,) = r.json()["documents"]
    assert doc["sha256"] == hashlib.sha256(content).hexdigest() and doc["doc_type"] == 380
    assert doc["consignment_ref"] == "SMGS-LAST"


def test_malformed_requests_are_422_with_a_json_body(svc: Service) -> None:
    """Issue 12.1: these answered 500 (the 422 handler put bytes and ValueError objects into
    its JSON). Each is now a 422 whose body is JSON and says where the problem is."""
    admin, exporter = svc.auth("admin"), svc.auth("exporter")
    form = {"content-type": "application/x-www-form-urlencoded"}
    cases = [
        # curl -d '{"sha256":null}' …/v1/verify: curl's default form content type
        svc.http.post("/v1/verify", content=b'{"sha256":null}', headers=form),
        svc.http.post(
            "/v1/admin/organisations",
            content=b"{}",
            headers={**admin, "content-type": "text/plain"},
        ),
        # -F file=notafile: a form field where a file belongs
        svc.http.post(
            "/v1/documents",
            data={"file": "notafile", "doc_type": "380", "consignment_ref": "X"},
            files={"other": ("x", b"x")},
            headers=exporter,
        ),
        svc.http.post(
            "/v1/verify", content=b"\xff\xfe{", headers={"content-type": "application/json"}
        ),
        svc.http.post("/v1/verify", content=b"\x89PNG\r\n", headers=form),
    ]
    for r in cases:
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["error"] == "InvalidInput" and body["detail"], body
        for problem in body.get("problems") or []:
            assert set(problem) == {"loc", "msg", "type"}, problem


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/audit/documents?org_id={}", "org_id"),
        ("/v1/audit/documents?attester_org_id={}", "attester_org_id"),
        ("/v1/audit/documents?doc_type={}", "doc_type"),
        ("/v1/audit/documents.json?org_id={}", "org_id"),
        ("/v1/audit/attestations?attester_org_id={}", "attester_org_id"),
        ("/v1/audit/documents?limit={}", "limit"),
    ],
)
def test_integers_beyond_their_bounds_are_422(svc: Service, path: str, name: str) -> None:
    """Issue 20.2: org_id=2**63 reached SQLite and answered 500 (OverflowError)."""
    auditor = svc.auth("auditor")
    for value in (2**63, 2**64, -(2**63) - 1, -1):
        r = svc.http.get(path.format(value), headers=auditor)
        _problem(r, 422, name)


def test_every_integer_of_the_schema_has_bounds(svc: Service) -> None:
    """Issue 20.2: every integer parameter and field of every route says its range."""
    schema = svc.http.get("/openapi.json").json()
    unbounded = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            keys = set(node)
            low = {"minimum", "exclusiveMinimum"} & keys
            high = {"maximum", "exclusiveMaximum"} & keys
            if node.get("type") == "integer" and not (low and high):
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            walk(operation.get("parameters", []), f"{method.upper()} {path} parameters")
            walk(operation.get("requestBody", {}), f"{method.upper()} {path} body")
    inputs = {
        name: model
        for name, model in schema["components"]["schemas"].items()
        if name.endswith(("In", "Request")) or name.startswith("Body_")
    }
    walk(inputs, "components")
    assert not unbounded, "\n".join(unbounded)


def test_openapi_documents_the_error_answers(svc: Service) -> None:
    """Every documented error status carries the body the service really sends."""
    schema = svc.http.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    seen = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorOut"), (method, path, status, ref)
                    seen.add(status)
    assert {"401", "403", "404", "409", "413", "422", "503"} <= seen
    # the real 401 body matches it
    r = svc.http.get("/v1/audit/documents")
    assert r.status_code == 401 and set(r.json()) >= {"detail", "error"}
