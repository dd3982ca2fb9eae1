"""Keeping acknowledged work on the canonical chain until it is final.

A job is ``done`` when its transaction was mined, but a block can still be lost: a local
chain killed before it wrote its state, a reorganisation of a real network, a chain reset.
``Reconciler.step`` (run by the outbox worker before it sends pending jobs) looks at every
done job that is not final yet against the canonical chain: the block it recorded must
still carry the recorded hash. If it does not, the transaction's receipt is asked for (a
reorganisation may have mined it in another block: the job then records that block); if
the chain has no receipt, the job is pending again and is sent again, and every sender
re-reads its nonce. A job whose block is buried under ``index_confirmations`` blocks and
has stayed canonical for ``final_after`` seconds and whose block is final
(``ledger.flows.finality``: on the local anvil, inside the newest written snapshot) is
``final`` and no longer watched.
Re-sending never registers twice: the contract refuses a second registration of the same
fingerprint, and that refusal settles the job from the chain (``Jobs``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from ledger.flows import finality, views
from ledger.flows.outbox import DONE, EXPIRED, PENDING, Job
from ledger.flows.runtime import Runtime
from ledger.index import DocumentView

log = logging.getLogger("tradeledger")


class Reconciler:
    """Checks done jobs against the canonical chain; reopens the ones it lost."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def step(self) -> int:
        """One look at every unsettled job; returns how many were reopened (lost)."""
        if not self.rt.chain_ok():
            return 0
        epoch = self.rt.health.epoch
        lost = self._check()
        if lost >= 0:  # every job looked at: what is done again counts as registered
            self.rt.health.reconciled = max(self.rt.health.reconciled, epoch)
        return max(lost, 0)

    def _check(self) -> int:
        """Reopen the lost jobs; how many (-1: the contract is gone, nothing reopened)."""
        jobs = self.rt.outbox.unsettled()
        if not jobs:
            return 0
        provider: Any = self.rt.w3.provider
        head = int(provider.make_request("eth_blockNumber", [])["result"], 16)
        origins = {job.job_id: _origin(job) for job in jobs}
        wanted = {o["block_number"] for o in origins.values() if o and o["block_number"] <= head}
        canonical = self._hashes(wanted)
        final_block = finality.final_block(self.rt, head)
        durable = finality.local_durable(self.rt)
        now = time.time()
        final: list[int] = []
        lost: list[tuple[Job, str]] = []
        for job in jobs:
            origin = origins[job.job_id]
            aged = now - job.updated_at >= self.rt.settings.final_after
            if origin is None:  # settled from a refusal without a block: ask the chain
                if not self._present(job):
                    lost.append((job, "the chain no longer holds it"))
                elif aged and (durable is None or durable >= head):
                    final.append(job.job_id)
                continue
            number = origin["block_number"]
            if canonical.get(number) == str(origin["block_hash"]).lower():
                if aged and number <= final_block:
                    final.append(job.job_id)
                continue
            moved = self._moved(job, origin["tx_hash"])
            if not moved:
                lost.append(
                    (job, f"the chain lost block {number} (transaction {origin['tx_hash']})")
                )
        self.rt.outbox.finalise(final)
        if lost and not self._contract_present():
            log.error(
                "%d acknowledged jobs are not on chain and the contract is gone (a reset "
                "chain?): redeploy; nothing is sent again",
                len(lost),
            )
            return -1
        for job, reason in lost:
            log.warning("job %s: %s; sending it again", job.job_id, reason)
            self.rt.outbox.reopen(job.job_id, f"{reason}: sending it again")
        if lost:
            self.rt.registry.resync_senders()
        return len(lost)

    def _hashes(self, numbers: Iterable[int]) -> dict[int, str]:
        """The canonical hashes of blocks ``numbers`` (absent ones left out)."""
        nums = sorted(set(numbers))
        found: dict[int, str] = {}
        provider: Any = self.rt.w3.provider
        for i in range(0, len(nums), 500):
            chunk = nums[i : i + 500]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]
            replies = provider.make_batch_request(calls)
            if not isinstance(replies, list):
                raise RuntimeError(f"eth_getBlockByNumber batch failed: {replies}")
            for n, reply in zip(chunk, replies, strict=True):
                header = reply.get("result")
                if header:
                    found[n] = str(header["hash"]).lower()
        return found

    def _moved(self, job: Job, tx_hash: str) -> bool:
        """Whether ``tx_hash`` is mined in another canonical block (then the job says so)."""
        provider: Any = self.rt.w3.provider
        receipt = provider.make_request("eth_getTransactionReceipt", [tx_hash]).get("result")
        if not receipt or int(receipt["status"], 16) != 1:
            return False
        number = int(receipt["blockNumber"], 16)
        if self._hashes([number]).get(number) != str(receipt["blockHash"]).lower():
            return False
        result = dict(job.result or {})
        result["origin"] = {
            **result["origin"],
            "block_number": number,
            "block_hash": str(receipt["blockHash"]).lower(),
        }
        self.rt.outbox.done(job.job_id, result)  # watched again from now
        return True

    def _present(self, job: Job) -> bool:
        if job.kind == "batch":
            return self.rt.registry.batch(bytes.fromhex(job.subject[2:])) is not None
        return self.rt.registry.document(bytes.fromhex(job.payload["fingerprint"])) is not None

    def _contract_present(self) -> bool:
        code = self.rt.w3.eth.get_code(self.rt.registry.address)
        return len(code) > 0


def _origin(job: Job) -> dict[str, Any] | None:
    origin = (job.result or {}).get("origin")
    return origin if isinstance(origin, dict) and origin.get("block_hash") else None


def unconfirmed(rt: Runtime, job: Job) -> bool:
    """Whether ``job``'s write may be missing from the canonical chain: not sent yet, sent
    again, expired unsent, or mined but not final and either the chain was disrupted since
    it was last re-checked or its block is not canonical now (asked of the chain: one call,
    only in the seconds before a job is final; no answer counts as not confirmed)."""
    if job.state in (PENDING, EXPIRED):
        return True
    if job.state != DONE:
        return False
    if rt.chain_suspect():
        return True
    origin = _origin(job)
    try:
        if origin is None:  # settled from the contract's word: does it still say so?
            if job.kind == "batch":
                return rt.registry.batch(bytes.fromhex(job.subject[2:])) is None
            return rt.registry.document(bytes.fromhex(job.payload["fingerprint"])) is None
        block = rt.w3.eth.get_block(int(origin["block_number"]))
    except Exception:
        return True
    return block["hash"].to_0x_hex().lower() != str(origin["block_hash"]).lower()


def view_of(rt: Runtime, job: Job) -> DocumentView:
    """The record of a (non-batch) job as far as the canonical chain is known to hold it."""
    if job.state == DONE and unconfirmed(rt, job):
        return views.pending(rt.engine, job)
    return views.of_job(rt.engine, job)
