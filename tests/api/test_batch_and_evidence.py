"""Batch registration (one Merkle root, a proof per document) and evidence bundles checked
against the chain without the service."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from ledger.chain.merkle import BatchMember
from ledger.chain.merkle import verify as verify_proof
from ledger.chain.sender import connect
from ledger.cid import Cid
from ledger.flows.verify import Verdict, check_bundle_on_chain
from tests.api.conftest import Service, doc_bytes, evidence

pytestmark = pytest.mark.chain


def _member(rec: dict[str, Any]) -> BatchMember:
    return BatchMember(
        bytes.fromhex(rec["sha256"]),
        rec["doc_type"],
        bytes(Cid.parse(rec["cid"])),
        rec["consignment_ref"],
    )


def _bundle(svc: Service, sha256: str) -> dict[str, Any]:
    r = evidence(svc, sha256)
    assert r.status_code == 200, r.text
    bundle: dict[str, Any] = r.json()
    return bundle


def test_batch_registration(svc: Service) -> None:
    contents = [doc_bytes(f"batch-{i}") for i in range(4)]
    types = ["861", "380", "720", "851"]
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"doc-{i}.pdf", c)) for i, c in enumerate(contents)],
        data={"doc_type": types, "consignment_ref": "SMGS-BATCH-42"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["status"] == "anchored" and batch["manifest_cid"].startswith("baf")
    root = bytes.fromhex(batch["root"].removeprefix("0x"))
    records = batch["documents"]
    assert [d["sha256"] for d in records] == [hashlib.sha256(c).hexdigest() for c in contents]
    assert [d["doc_type"] for d in records] == [int(t) for t in types]
    for rec in records:
        assert rec["batch_root"] == batch["root"] and rec["status"] == "registered"
        proof = [bytes.fromhex(h.removeprefix("0x")) for h in rec["merkle_proof"]]
        assert verify_proof(proof, root, _member(rec).leaf()), rec["sha256"]
        assert svc.rt.registry.verify_batch_member(root, _member(rec), proof)

    for rec in records:
        svc.indexed(rec["sha256"])
        got = svc.http.get(f"/v1/documents/{rec['sha256']}").json()["record"]
        assert got["batch_root"] == batch["root"]
        assert got["merkle_proof"] == rec["merkle_proof"]
        assert got["tx_hash"] == records[0]["tx_hash"]
        assert svc.verdict(rec["sha256"])["verdict"] == "VALID"
    c = svc.http.get(f"/v1/documents/{records[2]['sha256']}/content", headers=svc.auth("customs"))
    assert c.content == contents[2]

    # the whole batch again: each member is a duplicate
    again = svc.http.post(
        "/v1/documents/batch",
        files=[("files", ("doc-0.pdf", contents[0]))],
        data={"doc_type": "861", "consignment_ref": "SMGS-BATCH-42"},
        headers=svc.auth("exporter"),
    )
    assert again.status_code == 409 and again.json()["record"]["sha256"] == records[0]["sha256"]

    # evidence of a batch member checks out on chain, with its proof
    w3 = connect(svc.settings.rpc_url)
    bundle = _bundle(svc, records[1]["sha256"])
    assert bundle["batch"] == {"root": batch["root"], "proof": records[1]["merkle_proof"]}
    assert check_bundle_on_chain(bundle, w3).verdict == Verdict.VALID

    # revoke one member: the service records it on its own first, then revokes it
    revoked = records[1]["sha256"]
    assert svc.rt.registry.document(bytes.fromhex(revoked)) is None
    r = svc.http.post(
        f"/v1/documents/{revoked}/revoke",
        json={"reason": "fraud_suspected"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "revoked"
    assert svc.rt.registry.document(bytes.fromhex(revoked)) is not None
    v = svc.verdict(revoked)
    assert v["verdict"] == "INVALID" and "fraud suspected" in v["reasons"][0]
    for other in (records[0], records[2], records[3]):
        assert svc.verdict(other["sha256"])["verdict"] == "VALID", other["sha256"]
    # the old bundle now fails on chain too; another member's bundle still passes
    after = check_bundle_on_chain(bundle, w3)
    assert after.verdict == Verdict.INVALID and "revoked" in after.reasons[0]
    assert check_bundle_on_chain(_bundle(svc, records[3]["sha256"]), w3).verdict == Verdict.VALID

    # a member's proof cannot be moved to another document
    forged = {**_bundle(svc, records[3]["sha256"]), "sha256": records[0]["sha256"]}
    assert check_bundle_on_chain(forged, w3).verdict == Verdict.INVALID


def test_evidence_bundle_on_chain(svc: Service) -> None:
    _, rec = svc.registered()
    _, other = svc.registered()
    svc.indexed(rec["sha256"])
    svc.indexed(other["sha256"])
    bundle = _bundle(svc, rec["sha256"])
    assert bundle["tx_hash"] == rec["tx_hash"] and bundle["chain_id"] == 31337
    assert bundle["contract"] == svc.rt.registry.address and bundle["batch"] is None

    w3 = connect(svc.settings.rpc_url)  # anyone's connection: no service, no index
    result = check_bundle_on_chain(bundle, w3)
    assert result.verdict == Verdict.VALID, result.reasons

    tamperings: list[dict[str, Any]] = [
        {"sha256": other["sha256"]},
        {"cid": other["cid"]},
        {"block_hash": "0x" + "11" * 32},
        {"tx_hash": other["tx_hash"], "block_number": other["block_number"]},
        {"log_index": 7},
    ]
    for change in tamperings:
        tampered = {**bundle, **change}
        result = check_bundle_on_chain(tampered, w3)
        assert result.verdict == Verdict.INVALID, (change, result.reasons)
        assert result.reasons and result.reasons[0].startswith("tampered"), result.reasons

    # the service says the same about the tampered bundles
    for change in tamperings[1:]:
        v = svc.http.post("/v1/verify", json={"bundle": {**bundle, **change}}).json()
        assert v["verdict"] != "VALID", change

    # after a revocation the bundle no longer passes
    r = svc.http.post(f"/v1/documents/{rec['sha256']}/revoke", json={}, headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    result = check_bundle_on_chain(bundle, w3)
    assert result.verdict == Verdict.INVALID and "revoked" in result.reasons[0]


def test_batch_members_are_readable_and_actionable_at_once(
    fresh_svc: Callable[..., Service],
) -> None:
    """Issue 12.6: what a batch's 201 acknowledged was 404 (GET, revoke, attest, supersede,
    content) until the next index poll. The index here polls every minute: every action
    must work from the acknowledgement alone."""
    svc = fresh_svc(index_poll_interval=60.0)
    svc.rt.catch_up(10)  # the demo organisations are indexed; from here on the index waits
    contents = [doc_bytes(f"at-once-{i}") for i in range(4)]
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"d{i}.pdf", c)) for i, c in enumerate(contents)],
        data={"doc_type": "861", "consignment_ref": "SMGS-AT-ONCE"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    members = [d["sha256"] for d in r.json()["documents"]]
    assert records_in_index(svc, members) == 0  # nothing indexed yet: the test means it
    for sha in members:
        got = svc.http.get(f"/v1/documents/{sha}")
        assert got.status_code == 200, got.text
        assert got.json()["record"]["status"] == "registered"
        assert got.json()["record"]["batch_root"] == r.json()["root"]
    exporter = svc.auth("exporter")
    content = svc.http.get(f"/v1/documents/{members[0]}/content", headers=exporter)
    assert content.status_code == 200 and content.content == contents[0]
    attested = svc.http.post(
        f"/v1/documents/{members[1]}/attestations",
        json={"verdict": "cleared"},
        headers=svc.auth("customs"),
    )
    assert attested.status_code == 201, attested.text
    revoked = svc.http.post(
        f"/v1/documents/{members[2]}/revoke", json={"reason": "cancelled"}, headers=exporter
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    superseded = svc.http.post(
        f"/v1/documents/{members[3]}/supersede",
        files={"file": ("amended.pdf", doc_bytes("amended"))},
        data={"doc_type": "861", "consignment_ref": "SMGS-AT-ONCE"},
        headers=exporter,
    )
    assert superseded.status_code == 201, superseded.text
    # and the same file registered again is refused as a duplicate before any indexing
    again = svc.register(contents[0])
    assert again.status_code == 409, again.text


def records_in_index(svc: Service, fingerprints: list[str]) -> int:
    from sqlalchemy import func, select

    from ledger.db import documents

    with svc.rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(documents.c.fingerprint.in_(fingerprints))
            ).scalar_one()
        )


def test_revoke_a_whole_batch(svc: Service) -> None:
    """Issue 14: one transaction revokes every member; no other organisation may."""
    contents = [doc_bytes(f"revoked-batch-{i}") for i in range(3)]
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"doc-{i}.pdf", c)) for i, c in enumerate(contents)],
        data={"doc_type": ["380", "720", "720"], "consignment_ref": "SMGS-BATCH-43"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    batch = r.json()
    shas = [d["sha256"] for d in batch["documents"]]
    for sha in shas:
        svc.indexed(sha)
    url = f"/v1/documents/batches/{batch['root']}/revoke"
    refused = svc.http.post(url, json={"reason": "cancelled"}, headers=svc.auth("chamber"))
    assert refused.status_code == 403, refused.text
    bad = svc.http.post(
        "/v1/documents/batches/0x1234/revoke", json={}, headers=svc.auth("exporter")
    )
    assert bad.status_code == 422 and "batch root" in bad.json()["detail"]
    unknown = svc.http.post(
        f"/v1/documents/batches/0x{'ab' * 32}/revoke", json={}, headers=svc.auth("exporter")
    )
    assert unknown.status_code == 404, unknown.text
    done = svc.http.post(url, json={"reason": "cancelled"}, headers=svc.auth("exporter"))
    assert done.status_code == 200, done.text
    assert done.json()["members"] == {sha: "revoked" for sha in shas}
    for sha in shas:
        v = svc.verdict(sha)
        assert v["verdict"] == "INVALID" and v["reasons"][0].startswith("revoked: cancelled")
    again = svc.http.post(url, json={"reason": "cancelled"}, headers=svc.auth("exporter"))
    assert again.status_code == 409 and "BatchIsRevoked" in again.text
