"""Acknowledged means kept: blocks the chain loses after a 2xx are repaired, and no answer
claims more than the chain holds meanwhile (issue 13 items 2 and 3, issue 20 item 3).

The chain really loses blocks here: anvil is killed with SIGKILL (by its PID) after running
with a state interval so long that nothing since its start was written, so every block it
mined is gone when it starts again; and ``evm_snapshot``/``evm_revert`` stand for a
reorganisation. Nothing is mocked.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.snapshots import read_identity, read_snapshot, snapshot_dir, write_snapshot
from tests.api.conftest import (
    Service,
    admit_signer,
    doc_bytes,
    evidence,
    post_relay,
    signed_request,
    wait_until,
)

pytestmark = pytest.mark.chain


def _rpc(svc: Service, method: str, *params: Any) -> Any:
    provider: Any = svc.rt.w3.provider
    return provider.make_request(method, list(params)).get("result")


def _registrations_on_chain(svc: Service, sha256: str) -> int:
    event = svc.rt.registry.contract.events.DocumentRegistered()
    logs = event.get_logs(
        argument_filters={"fingerprint": "0x" + sha256},
        from_block=svc.rt.deployment.block_number,
    )
    return len(logs)


def _on_chain(svc: Service, sha256: str) -> bool:
    return svc.rt.registry.document(bytes.fromhex(sha256)) is not None


def _canonical(svc: Service, record: dict[str, Any]) -> bool:
    """Whether the record's transaction is in the canonical chain, in the block it names."""
    origin = record.get("origin") or {}
    tx = origin.get("tx_hash") or record.get("tx_hash")
    if not tx:
        return False
    receipt = _rpc(svc, "eth_getTransactionReceipt", tx)
    if not receipt or int(receipt["status"], 16) != 1:
        return False
    block = svc.rt.w3.eth.get_block(int(receipt["blockNumber"], 16))
    return block["hash"].to_0x_hex() == receipt["blockHash"]


def _false_answers(svc: Service, sha256: str) -> list[str]:
    """Answers about ``sha256`` that claim more than the chain holds right now."""
    false = []
    r = svc.http.get(f"/v1/documents/{sha256}")
    if r.status_code == 200:
        record = r.json()["record"]
        if record["status"] == "registered" and not _canonical(svc, record):
            false.append(f"GET says registered, not on chain: {record}")
    v = svc.http.post("/v1/verify", json={"sha256": sha256}).json()
    if v["verdict"] == "VALID" and not _on_chain(svc, sha256):
        false.append(f"verify says VALID, not on chain: {v}")
    return false


def _stop_dumping(svc: Service) -> None:
    """Restart anvil so that it writes no state until it is stopped: a SIGKILL then loses
    every block mined after this point."""
    svc.chain.stop()
    status = svc.chain.folder / "snapshot.status"
    before = _snapshot_sequence(status)
    svc.chain.state_interval = 3600
    svc.chain.start()
    # the supervisor's first snapshot after a start: later blocks are in none until it stops
    wait_until(lambda: _snapshot_sequence(status) > before, 30, "the first snapshot")
    wait_until(lambda: svc.http.get("/health").status_code == 200, 30, "/health ok")


def _snapshot_sequence(status: Path) -> int:
    return int(json.loads(status.read_text())["sequence"]) if status.exists() else -1


def _crash_and_restart(svc: Service, before_start: Callable[[], None] | None = None) -> None:
    assert svc.chain.process is not None
    svc.chain.stop(signal.SIGKILL)
    wait_until(lambda: not svc.rt.chain_ok(), 30, "the service to notice the chain is down")
    if before_start is not None:
        before_start()
    svc.chain.state_interval = 1
    svc.chain.start()


def test_chain_crash_loses_acknowledged_blocks_and_the_service_repairs_them(
    fresh_svc: Callable[..., Service],
) -> None:
    svc = fresh_svc(chain_stale_after=1.5)
    signer = admit_signer(svc)
    _, kept = svc.registered()
    svc.indexed(kept["sha256"])
    _stop_dumping(svc)

    # acknowledged (201, indexed, VALID), then lost by the chain's crash
    content, lost = svc.registered()
    sha = lost["sha256"]
    svc.indexed(sha)
    assert svc.verdict(sha)["verdict"] == "VALID"
    relayed = doc_bytes("relayed, then lost")
    deadline = int(time.time()) + 3
    r = post_relay(
        svc, relayed, signed_request(svc, signer, relayed, deadline=deadline), "exporter"
    )
    assert r.status_code == 201, r.text
    relayed_sha = hashlib.sha256(relayed).hexdigest()

    def let_the_signature_expire() -> None:
        time.sleep(max(0.0, deadline + 1.5 - time.time()))

    _crash_and_restart(svc, let_the_signature_expire)
    assert not _on_chain(svc, sha), "the chain kept the block: the test lost nothing"

    # until it is back on chain, no answer says registered or VALID; then it is, exactly once
    false: list[str] = []

    def repaired() -> bool:
        false.extend(_false_answers(svc, sha))
        return _on_chain(svc, sha)

    wait_until(repaired, 30, "the lost registration to be sent again")
    assert false == []
    assert _registrations_on_chain(svc, sha) == 1
    svc.indexed(sha)
    assert svc.verdict(sha)["verdict"] == "VALID"
    assert _canonical(svc, svc.http.get(f"/v1/documents/{sha}").json()["record"])
    r = svc.register(content)
    assert r.status_code == 409 and r.json()["record"]["sha256"] == sha
    assert _on_chain(svc, kept["sha256"])

    # the relayed request's deadline passed while the chain was away: a new signature is
    # needed, and it says so instead of dropping it
    def told() -> bool:
        r = svc.http.get(f"/v1/documents/{relayed_sha}")
        return r.status_code == 200 and r.json()["record"]["status"] == "needs_signature"

    wait_until(told, 30, "the expired relayed request to be reported")
    assert not _on_chain(svc, relayed_sha)
    assert svc.http.get("/health").json()["needs_signature"] == 1
    assert svc.verdict(relayed_sha)["verdict"] != "VALID"
    r = post_relay(svc, relayed, signed_request(svc, signer, relayed), "exporter")
    assert r.status_code == 201, r.text
    assert svc.http.get("/health").json()["needs_signature"] == 0
    wait_until(lambda: svc.http.get("/health").json()["pending"] == 0, 30, "nothing pending")


def test_reorganisation_drops_an_acknowledged_block_and_the_service_repairs_it(
    fresh_svc: Callable[..., Service],
) -> None:
    svc = fresh_svc()
    snapshot = _rpc(svc, "evm_snapshot")
    content, record = svc.registered()
    sha = record["sha256"]
    svc.indexed(sha)
    assert _rpc(svc, "evm_revert", snapshot) is True
    for _ in range(3):  # the new branch grows past the old one
        _rpc(svc, "evm_mine")
    assert not _on_chain(svc, sha)

    false: list[str] = []

    def repaired() -> bool:
        false.extend(_false_answers(svc, sha))
        return _on_chain(svc, sha)

    wait_until(repaired, 30, "the registration the reorganisation dropped to be sent again")
    assert false == []
    assert _registrations_on_chain(svc, sha) == 1
    svc.indexed(sha)
    assert svc.verdict(sha)["verdict"] == "VALID"
    assert svc.register(content).status_code == 409


def test_registrations_after_the_chain_lost_the_senders_nonces_do_not_stall(
    fresh_svc: Callable[..., Service],
) -> None:
    """Issue 20 item 3: after the chain lost transactions the sender's cached nonce is ahead
    of the chain's; a new registration must be mined at once, not wait out the receipt
    timeout behind a nonce gap."""
    svc = fresh_svc(receipt_timeout=60.0, chain_stale_after=1.5)
    _stop_dumping(svc)
    for _ in range(3):
        svc.registered()
    _crash_and_restart(svc)
    wait_until(lambda: svc.rt.chain_ok(), 30, "the chain to answer again")
    r = svc.register()
    assert r.status_code == 201, r.text
    wait_until(lambda: svc.http.get("/health").json()["pending"] == 0, 30, "nothing pending")


def test_a_write_is_final_only_once_a_snapshot_of_the_local_chain_holds_it(
    fresh_svc: Callable[..., Service],
) -> None:
    """On the local anvil a kill -9 loses every block after the newest snapshot, however old
    the block is: a job must not become final (and stop being watched) before a snapshot
    holds its block, or its loss would never be repaired."""
    svc = fresh_svc(final_after=0.2, chain_stale_after=1.5)
    _stop_dumping(svc)
    _, doc = svc.registered()
    sha = doc["sha256"]
    svc.indexed(sha)
    time.sleep(3)  # many reconciler rounds, each well past final_after
    watched = {job.subject for job in svc.rt.outbox.unsettled()}
    assert any(sha in subject for subject in watched), (
        "the job is final before any snapshot holds its block"
    )
    _crash_and_restart(svc)
    assert not _on_chain(svc, sha), "the chain kept the block: the test lost nothing"
    wait_until(lambda: _on_chain(svc, sha), 30, "the lost registration to be sent again")
    assert _registrations_on_chain(svc, sha) == 1


def _restore_state_ahead_of_its_blocks(svc: Service, ahead: bytes) -> None:
    """Make the newest snapshot what a racing ``anvil_dumpState`` wrote before the
    supervisor paused mining for it: the blocks of the newest snapshot, with the accounts
    (contract storage) of ``ahead``, a later state."""
    folder = svc.chain.folder
    newest = sorted(snapshot_dir(folder).glob("*.snap"))[-1]
    _, state = read_snapshot(newest)
    mixed = json.loads(state)
    mixed["accounts"] = json.loads(gzip.decompress(ahead))["accounts"]
    identity = read_identity(folder)
    assert identity is not None
    write_snapshot(folder, gzip.compress(json.dumps(mixed).encode()), identity)


def test_a_refusal_already_registered_with_no_log_settles_the_job(
    fresh_svc: Callable[..., Service],
) -> None:
    """A chain restored from a state whose contract storage holds a registration whose block
    (and log) it lacks refuses the re-send as "already registered" by the job's own issuer,
    and no log can be found: the worker must settle the job from the contract's word instead
    of failing on the missing log every round (the outbox never drained)."""
    svc = fresh_svc(chain_stale_after=1.5)
    _stop_dumping(svc)
    _, doc = svc.registered()
    sha = doc["sha256"]
    ahead = bytes.fromhex(_rpc(svc, "anvil_dumpState")[2:])
    _crash_and_restart(svc, lambda: _restore_state_ahead_of_its_blocks(svc, ahead))
    wait_until(lambda: svc.rt.chain_ok(), 30, "the chain to answer again")
    assert _on_chain(svc, sha) and _registrations_on_chain(svc, sha) == 0, "not reproduced"

    wait_until(lambda: svc.http.get("/health").json()["pending"] == 0, 30, "nothing pending")
    record = svc.http.get(f"/v1/documents/{sha}").json()["record"]
    assert record["status"] == "registered" and record["block_number"] is None  # contract's word
    assert _on_chain(svc, sha)


def test_evidence_names_only_final_blocks_and_says_when_it_will_be_ready(
    fresh_svc: Callable[..., Service],
) -> None:
    """Issue 13 item 4: on the local chain a block is final once a written snapshot holds
    it; before that the evidence bundle is refused with 425, a message saying when to ask
    again and Retry-After (a bundle naming a block a kill -9 can still take away is no
    evidence)."""
    svc = fresh_svc()
    _stop_dumping(svc)
    _, doc = svc.registered()
    sha = doc["sha256"]
    svc.indexed(sha)
    r = svc.http.get(f"/v1/documents/{sha}/evidence")
    assert r.status_code == 425, r.text
    assert "not final yet" in r.json()["detail"] and "ask again" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) >= 1
    assert svc.verdict(sha)["verdict"] == "VALID"  # verification does not wait for finality

    svc.chain.stop()  # a last snapshot on the way out: now it holds the block
    svc.chain.state_interval = 1
    svc.chain.start()
    r = evidence(svc, sha)
    assert r.status_code == 200, r.text
    record = svc.http.get(f"/v1/documents/{sha}").json()["record"]
    assert r.json()["block_number"] == record["block_number"]
