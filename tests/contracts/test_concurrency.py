"""Many threads sending through the library at once: nonces never collide, nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger.chain.sender import Sent
from ledger.types import DocStatus, Verdict
from tests.contracts.conftest import World, fingerprint, random_cid, same_address

pytestmark = pytest.mark.chain

THREADS = 8
PER_THREAD = 10


def test_one_shared_sender_many_threads(world: World) -> None:
    r = world.registry
    sender = world.sender("exporter")  # one Sender object shared by every thread
    fingerprints = [[fingerprint() for _ in range(PER_THREAD)] for _ in range(THREADS)]

    def work(batch: list[bytes]) -> list[Sent]:
        return [r.register(sender, fp, 861, random_cid(), "SMGS-C") for fp in batch]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, fingerprints))  # re-raises any thread's error

    sent = [s for batch in results for s in batch]
    assert len(sent) == THREADS * PER_THREAD
    assert all(s.receipt["status"] == 1 for s in sent)
    assert len({s.tx_hash for s in sent}) == THREADS * PER_THREAD
    nonces = sorted(int(world.w3.eth.get_transaction(s.tx_hash)["nonce"]) for s in sent)
    assert nonces == list(range(nonces[0], nonces[0] + THREADS * PER_THREAD))  # no gap, no reuse
    for batch in fingerprints:
        for fp in batch:
            doc = r.document(fp)
            assert doc is not None and doc.status == DocStatus.REGISTERED
            assert same_address(doc.issuer, world.accounts["exporter"].address)
    assert world.w3.eth.get_transaction_count(world.accounts["exporter"].address) == nonces[-1] + 1


def test_several_senders_concurrently(world: World) -> None:
    r = world.registry
    fp_customs = fingerprint()
    r.register(world.sender("issuer"), fp_customs, 861, random_cid(), "SMGS-A")
    registrants = ["exporter", "exporter2", "issuer"]
    jobs: list[tuple[str, int]] = [
        (role, t) for role in [*registrants, "customs"] for t in range(2)
    ]
    registered: dict[tuple[str, int], list[bytes]] = {}

    def work(job: tuple[str, int]) -> int:
        role, _ = job
        if role == "customs":
            for i in range(PER_THREAD):
                r.attest(world.sender(role), fp_customs, Verdict.VERIFIED, f"REF-{job[1]}-{i}")
            return PER_THREAD
        fps = [fingerprint() for _ in range(PER_THREAD)]
        registered[job] = fps
        for fp in fps:
            r.register(world.sender(role), fp, 861, random_cid(), "SMGS-M")
        return len(fps)

    with ThreadPoolExecutor(len(jobs)) as pool:
        done = list(pool.map(work, jobs))
    assert sum(done) == len(jobs) * PER_THREAD
    for (role, _), fps in registered.items():
        for fp in fps:
            doc = r.document(fp)
            assert doc is not None and same_address(doc.issuer, world.accounts[role].address)
    assert len(registered) == 2 * len(registrants)
