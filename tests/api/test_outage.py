"""Outages: the chain stops and comes back, the service restarts with work still pending.

Verification must answer UNVERIFIABLE (never INVALID) while the chain is away, writes must
answer 503 with Retry-After, and nothing the service acknowledged may be lost or registered
twice once everything is back.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from ledger.chain.merkle import BatchMember
from ledger.chain.merkle import verify as verify_proof
from ledger.cid import Cid
from ledger.content.hashing import hash_stream
from ledger.db import outbox
from tests.api.conftest import (
    Service,
    admit_signer,
    doc_bytes,
    post_relay,
    signed_request,
    wait_until,
)

pytestmark = pytest.mark.chain


def _health(svc: Service) -> tuple[int, dict[str, Any]]:
    r = svc.http.get("/health")
    body: dict[str, Any] = r.json()
    return r.status_code, body


def _chain_gone(svc: Service) -> None:
    wait_until(lambda: not svc.rt.chain_ok(), 30, "the service to notice the chain is down")


def _chain_back(svc: Service) -> None:
    wait_until(lambda: _health(svc)[0] == 200, 30, "/health to be ok again")


def _registrations_on_chain(svc: Service, sha256: str) -> int:
    event = svc.rt.registry.contract.events.DocumentRegistered()
    logs = event.get_logs(
        argument_filters={"fingerprint": "0x" + sha256},
        from_block=svc.rt.deployment.block_number,
    )
    return len(logs)


def _jobs(svc: Service, sha256: str) -> list[tuple[str, str]]:
    with svc.rt.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.kind, outbox.c.state).where(outbox.c.subject == sha256)
        ).all()
    # "final": done, and its block re-checked as final (ledger.flows.reconcile)
    return [(r.kind, "done" if r.state == "final" else r.state) for r in rows]


def _job_state(svc: Service, sha256: str) -> str | None:
    job = svc.rt.outbox.latest(sha256)
    return None if job is None else job.state


def _assert_503(r: Any) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"].isdigit()
    assert "retry" in r.json()["detail"]


def test_chain_stopped_and_restarted_mid_run(fresh_svc: Callable[..., Service]) -> None:
    svc = fresh_svc(chain_stale_after=1.5, final_after=1.0)
    signer = admit_signer(svc)
    content, rec = svc.registered()
    sha = rec["sha256"]
    svc.indexed(sha)
    # final: read as registered even while the chain is away (before that, it reads pending)
    wait_until(lambda: _job_state(svc, sha) == "final", 30, "the registration to be final")
    bundle = svc.http.get(f"/v1/documents/{sha}/evidence").json()
    unknown = hashlib.sha256(b"never registered").hexdigest()
    relayed = doc_bytes("relayed while down")
    signed = signed_request(svc, signer, relayed)

    svc.chain.stop()
    _chain_gone(svc)
    status, body = _health(svc)
    assert status == 503 and body["status"] == "degraded" and body["chain"]["ok"] is False

    # verification: UNVERIFIABLE, never INVALID, for every way of asking
    answers = [
        svc.http.post("/v1/verify", json={"sha256": sha}),
        svc.http.post("/v1/verify", json={"sha256": unknown}),
        svc.http.post("/v1/verify", json={"bundle": bundle}),
        svc.http.post("/v1/verify/file", files={"file": ("d.pdf", content)}),
        svc.http.post("/v1/verify/file", files={"file": ("d.pdf", b"altered")}),
    ]
    for r in answers:
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["verdict"] == "UNVERIFIABLE", v
        assert "chain unreachable" in v["reasons"][0]
    # reading the index still works
    assert svc.http.get(f"/v1/documents/{sha}").json()["record"]["status"] == "registered"

    # writes: 503 with Retry-After
    exporter, admin = svc.auth("exporter"), svc.auth("admin")
    _assert_503(svc.register())
    _assert_503(
        svc.http.post(
            "/v1/documents/batch",
            files=[("files", ("a.pdf", doc_bytes()))],
            data={"doc_type": "861", "consignment_ref": "B"},
            headers=exporter,
        )
    )
    _assert_503(post_relay(svc, relayed, signed, "exporter"))
    _assert_503(svc.http.post(f"/v1/documents/{sha}/revoke", json={}, headers=exporter))
    _assert_503(
        svc.http.post(
            f"/v1/documents/{sha}/supersede",
            files={"file": ("a.pdf", doc_bytes())},
            data={"doc_type": "861", "consignment_ref": "A"},
            headers=exporter,
        )
    )
    _assert_503(
        svc.http.post(
            f"/v1/documents/{sha}/attestations",
            json={"verdict": "held"},
            headers=svc.auth("customs"),
        )
    )
    _assert_503(
        svc.http.post(
            "/v1/admin/organisations",
            json={"name": "Demo Y", "country": "KZ", "kind": "exporter"},
            headers=admin,
        )
    )
    _assert_503(svc.http.post("/v1/admin/organisations/1/keys", json={}, headers=admin))
    _assert_503(svc.http.post(f"/v1/admin/keys/0x{'12' * 20}/retire", headers=admin))
    # nothing was queued by the refused writes
    assert _health(svc)[1]["pending"] == 0

    svc.chain.start()
    _chain_back(svc)

    # everything works again, and nothing acknowledged was lost
    assert svc.verdict(sha)["verdict"] == "VALID"
    assert svc.verdict(unknown)["verdict"] == "INVALID"
    assert _registrations_on_chain(svc, sha) == 1
    _, new = svc.registered()
    svc.indexed(new["sha256"])
    assert svc.verdict(new["sha256"])["verdict"] == "VALID"
    r = post_relay(svc, relayed, signed, "exporter")
    assert r.status_code == 201, r.text
    r = svc.http.post(
        f"/v1/documents/{sha}/attestations",
        json={"verdict": "cleared"},
        headers=svc.auth("customs"),
    )
    assert r.status_code == 201, r.text
    r = svc.http.post(f"/v1/documents/{sha}/revoke", json={}, headers=exporter)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert svc.verdict(sha)["verdict"] == "INVALID"


def test_worker_skips_a_job_finished_after_it_listed_it(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox worker lists pending jobs, then claims them one by one; a job a request
    thread finished in between is not sent again (it would be a reverted transaction)."""
    _, record = svc.registered()
    sha = record["sha256"]
    job = svc.rt.outbox.latest(sha)
    assert job is not None and job.state in ("done", "final")
    monkeypatch.setattr(svc.rt.outbox, "pending", lambda: [replace(job, state="pending")])
    nonce = svc.rt.w3.eth.get_transaction_count(job.payload["issuer"])
    assert svc.docs.resume_pending() == 0
    assert svc.rt.w3.eth.get_transaction_count(job.payload["issuer"]) == nonce
    assert _registrations_on_chain(svc, sha) == 1
    assert _jobs(svc, sha) == [("register", "done")]


def test_restart_with_pending_work(fresh_svc: Callable[..., Service]) -> None:
    """Acknowledged while the chain went away (202), then the service restarts: the worker
    registers the document exactly once."""
    svc = fresh_svc(chain_stale_after=4.0)
    _, first = svc.registered()
    svc.indexed(first["sha256"])

    # the chain stops between the service's last look at it and this registration's submit
    svc.chain.stop()
    content = doc_bytes("acknowledged while the chain stops")
    sha = hashlib.sha256(content).hexdigest()
    r = svc.register(content, ref="SMGS-PENDING")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["tx_hash"] is None

    # a batch in the same window: acknowledged too
    members = [doc_bytes(f"pending batch {i}") for i in range(3)]
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"{i}.pdf", m)) for i, m in enumerate(members)],
        data={"doc_type": "380", "consignment_ref": "SMGS-PENDING-B"},
        headers=svc.auth("chamber"),
    )
    assert r.status_code == 202, r.text
    batch = r.json()
    assert batch["status"] == "pending"
    assert {d["status"] for d in batch["documents"]} == {"pending"}

    # a write that reads the chain before it queues anything: 503, nothing acknowledged
    _assert_503(svc.http.post("/v1/admin/organisations/1/keys", json={}, headers=svc.auth("admin")))

    got = svc.http.get(f"/v1/documents/{sha}").json()["record"]
    assert got["status"] == "pending" and got["consignment_ref"] == "SMGS-PENDING"
    assert _health(svc)[1]["pending"] == 2
    # the same bytes again are refused as a duplicate of the pending one
    dup = svc.register(content)
    assert dup.status_code == 409, dup.text
    assert dup.json()["record"]["status"] == "pending"

    _chain_gone(svc)
    _assert_503(svc.register())
    v = svc.verdict(sha)
    assert v["verdict"] == "UNVERIFIABLE", v

    # the service stops while the job is pending; the chain returns; the service restarts
    svc.stop()
    assert _jobs_of_closed(svc, sha) == [("register", "pending")]
    svc.chain.start()
    svc.start()

    svc.indexed(sha, timeout=30)
    assert _jobs(svc, sha) == [("register", "done")]
    assert _registrations_on_chain(svc, sha) == 1
    rec = svc.http.get(f"/v1/documents/{sha}").json()["record"]
    assert rec["consignment_ref"] == "SMGS-PENDING" and rec["tx_hash"]
    assert svc.verdict(sha)["verdict"] == "VALID"
    assert svc.verdict(first["sha256"])["verdict"] == "VALID"
    wait_until(lambda: _health(svc)[1]["pending"] == 0, what="the outbox to drain")
    c = svc.http.get(f"/v1/documents/{sha}/content", headers=svc.auth("customs"))
    assert c.status_code == 200 and c.content == content

    # the batch was anchored once, and each member is found with its proof
    assert _jobs(svc, batch["root"]) == [("batch", "done")]
    anchored = svc.rt.registry.contract.events.BatchAnchored().get_logs(
        argument_filters={"root": batch["root"]}, from_block=svc.rt.deployment.block_number
    )
    assert len(anchored) == 1
    root = bytes.fromhex(batch["root"].removeprefix("0x"))
    for member, data in zip(batch["documents"], members, strict=True):
        svc.indexed(member["sha256"])
        got = svc.http.get(f"/v1/documents/{member['sha256']}").json()["record"]
        assert got["merkle_proof"] == member["merkle_proof"] and got["batch_root"] == batch["root"]
        proof = [bytes.fromhex(h.removeprefix("0x")) for h in member["merkle_proof"]]
        leaf = BatchMember(
            bytes.fromhex(member["sha256"]), 380, bytes(Cid.parse(member["cid"])), "SMGS-PENDING-B"
        ).leaf()
        assert verify_proof(proof, root, leaf)
        assert svc.verdict(member["sha256"])["verdict"] == "VALID"
        c = svc.http.get(f"/v1/documents/{member['sha256']}/content", headers=svc.auth("chamber"))
        assert c.content == data

    # a further restart does not register it again
    svc.restart()
    wait_until(lambda: _health(svc)[0] == 200, 30, "/health after the second restart")
    assert _registrations_on_chain(svc, sha) == 1
    assert _jobs(svc, sha) == [("register", "done")]


def _jobs_of_closed(svc: Service, sha256: str) -> list[tuple[str, str]]:
    """The outbox rows of ``sha256`` read straight from the database (the app is stopped)."""
    from ledger.db import make_engine

    engine = make_engine(svc.settings.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.kind, outbox.c.state).where(outbox.c.subject == sha256)
            ).all()
    finally:
        engine.dispose()
    return [(r.kind, r.state) for r in rows]


def test_crash_between_mining_and_recording(fresh_svc: Callable[..., Service]) -> None:
    """The transaction was mined but the service died before recording it: on restart the
    pending job finds the registration on chain instead of registering twice."""
    svc = fresh_svc()
    rt = svc.rt
    content = doc_bytes("mined, not recorded")
    stored = rt.store.put([content])  # type: ignore[attr-defined]
    assert stored.sha256 == hash_stream([content]).sha256
    keystore = "demo-exporter"
    issuer = rt.account(keystore).address
    payload = {
        "fingerprint": stored.sha256,
        "cid": stored.cid,
        "doc_type": 380,
        "consignment_ref": "SMGS-CRASH",
        "metadata_cid": None,
        "signing_key": keystore,
        "issuer": issuer,
    }
    svc.stop()  # the service is down: nothing picks the job up yet
    from ledger.db import make_engine
    from ledger.flows.outbox import Outbox

    engine = make_engine(svc.settings.db_url)
    try:
        Outbox(engine).add("register", stored.sha256, payload)
    finally:
        engine.dispose()
    # ...and the transaction it was about to wait for is mined
    rt.registry.register(
        rt.sender(keystore),
        stored.sha256_bytes,
        380,
        stored.cid_bytes,
        "SMGS-CRASH",
    )

    svc.start()
    wait_until(lambda: _jobs(svc, stored.sha256) == [("register", "done")], 30, "the job to settle")
    assert _registrations_on_chain(svc, stored.sha256) == 1
    svc.indexed(stored.sha256)
    rec = svc.http.get(f"/v1/documents/{stored.sha256}").json()["record"]
    assert rec["issuer"]["key"] == issuer and rec["consignment_ref"] == "SMGS-CRASH"
    assert svc.verdict(stored.sha256)["verdict"] == "VALID"


def test_hung_chain_mid_request(fresh_svc: Callable[..., Service]) -> None:
    """anvil frozen with SIGSTOP (it accepts connections but never answers): a registration
    already past the service's health check is acknowledged as pending (202); verification
    says UNVERIFIABLE at once; after SIGCONT the worker registers the document exactly once."""
    svc = fresh_svc(chain_stale_after=4.0)
    _, first = svc.registered()
    svc.indexed(first["sha256"])
    pid = svc.chain.node_pid  # anvil itself, not its supervisor
    assert pid is not None
    content = doc_bytes("sent to a frozen chain")
    sha = hashlib.sha256(content).hexdigest()
    os.kill(pid, signal.SIGSTOP)
    try:
        r = svc.register(content, ref="SMGS-FROZEN")  # waits out the RPC timeout, then 202
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending"
        _chain_gone(svc)
        started = time.monotonic()
        for asked in (sha, first["sha256"]):
            v = svc.verdict(asked)
            assert v["verdict"] == "UNVERIFIABLE", v
        _assert_503(svc.register())
        assert time.monotonic() - started < 3, "answers must not wait on the frozen chain"
    finally:
        os.kill(pid, signal.SIGCONT)
    _chain_back(svc)
    svc.indexed(sha, timeout=30)
    wait_until(lambda: _jobs(svc, sha) == [("register", "done")], 30, "the job to settle")
    assert _registrations_on_chain(svc, sha) == 1
    assert svc.verdict(sha)["verdict"] == "VALID"
    assert svc.verdict(first["sha256"])["verdict"] == "VALID"


def test_frozen_chain_is_answered_within_two_seconds(fresh_svc: Callable[..., Service]) -> None:
    """Issues 12.11 and 20.5: with anvil frozen (SIGSTOP: it accepts connections and never
    answers), a lookup waited out the 10 s HTTP timeout, and verifying an unknown hash two of
    them, before the 503/UNVERIFIABLE. Asked right after the freeze, while the chain still
    counts as fresh, every answer now comes within the lookup timeout."""
    svc = fresh_svc(chain_stale_after=30.0, lookup_timeout=1.0)
    _, first = svc.registered()
    svc.indexed(first["sha256"])
    org = svc.creds["organisations"]["exporter"]["org_id"]
    pid = svc.chain.node_pid  # anvil itself, not its supervisor
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        assert svc.rt.chain_ok()  # the freeze is not noticed yet: every answer must not wait

        def timed(call: Callable[[], Any]) -> Any:
            started = time.monotonic()
            answer = call()
            took = time.monotonic() - started
            assert took < 2.0, f"{took:.1f} s: {answer.status_code} {answer.text[:300]}"
            return answer

        unknown = hashlib.sha256(b"never registered").hexdigest()
        r = timed(lambda: svc.http.post("/v1/verify", json={"sha256": unknown}))
        assert r.status_code == 200 and r.json()["verdict"] == "UNVERIFIABLE", r.text
        r = timed(lambda: svc.http.get(f"/v1/documents/{unknown}/evidence"))
        assert r.status_code == 503, r.text
        r = timed(
            lambda: svc.http.post(
                f"/v1/admin/organisations/{org}/keys", json={}, headers=svc.auth("admin")
            )
        )
        _assert_503(r)
        r = timed(lambda: svc.http.get("/health"))
        assert r.status_code in (200, 503)
        timed(lambda: svc.http.get("/v1/admin/organisations", headers=svc.auth("admin")))
    finally:
        os.kill(pid, signal.SIGCONT)
    _chain_back(svc)
    assert svc.verdict(first["sha256"])["verdict"] == "VALID"
