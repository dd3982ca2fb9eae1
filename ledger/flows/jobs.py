"""Submitting acknowledged work to the chain: outbox first, then the transaction, then the record.

``Jobs.run`` writes a job to the outbox, makes it and the content it points at durable with
one flush shared by concurrent requests, sends its transaction and waits for the receipt.
If the chain goes away in between, the job stays pending (the caller answers 202) and
``resume_pending``, run by the outbox worker, finishes it later. A revert that says the
chain already holds exactly this registration settles the job from the chain, so
resubmitting never registers twice. A relayed request whose signed deadline passed
before it reached the chain is marked ``expired``: its caller is told to sign a new one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from hexbytes import HexBytes

from ledger.chain import RegisterRequest, Sent, is_connection_error
from ledger.cid import Cid
from ledger.errors import ChainUnavailable, Conflict, ContractError, InvalidInput, LedgerError
from ledger.flows import views
from ledger.flows.outbox import Job
from ledger.flows.runtime import Runtime
from ledger.groupsync import GroupSync
from ledger.index import DocumentView, Origin

log = logging.getLogger("tradeledger")


class Jobs:
    """Runs outbox jobs (register, supersede, relay, batch) against one ``Runtime``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._in_flight: set[str] = set()  # subjects a thread is submitting right now
        self._lock = threading.Lock()
        self.durable = GroupSync(self._sync_writes)

    def _sync_writes(self) -> None:
        """Make the content store's and the outbox's writes so far durable (when both live
        on one file system, the store's flush has done the outbox's work too)."""
        self.rt.store.sync()  # type: ignore[attr-defined]
        self.rt.outbox.sync()

    @contextmanager
    def claim(self, subject: str) -> Iterator[None]:
        """Mark ``subject`` as being submitted by this thread, so the outbox worker leaves its
        job alone (claimed before the job is written, so the worker can never race us)."""
        with self._lock:
            if subject in self._in_flight:
                raise Conflict(f"{subject} is being registered right now: retry in a few seconds")
            self._in_flight.add(subject)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(subject)

    def run(self, kind: str, subject: str, payload: dict[str, Any]) -> tuple[DocumentView, bool]:
        """Write the job to the outbox, make it and the stored content durable with one
        flush shared by concurrent requests, then submit it and wait for the receipt.

        Returns the record and whether it is on chain (False: durable but pending, 202)."""
        with self.claim(subject):
            job = self.rt.outbox.add(kind, subject, payload, durable=False)
            self.durable()
            try:
                record = self.submit(job)
            except ChainUnavailable:
                log.warning("job %s stays pending: the chain went away", job.job_id)
                return views.pending(self.rt.engine, job), False
        assert record is not None  # only batch jobs have no single record
        return record, True

    def submit(self, job: Job) -> DocumentView | None:
        """Send ``job``'s transaction (again) and record the outcome in the outbox.

        Returns the document's record, or None for a batch (it stands for no single document).
        A connection error from any chain call becomes ``ChainUnavailable``: the job stays
        pending (the answer is 202) and the outbox worker finishes it.
        """
        try:
            return self._send(job)
        except LedgerError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainUnavailable(f"the chain went away: {exc}") from exc
            raise

    def resume_pending(self) -> int:
        """Submit every pending job not already being handled; returns how many settled."""
        if not self.rt.chain_ok():
            return 0
        settled = 0
        for job in self.rt.outbox.pending():
            if job.subject in self._in_flight:
                continue  # a request thread is submitting it
            try:
                with self.claim(job.subject):
                    # A request thread may have finished it since the list was read.
                    if not self.rt.outbox.is_pending(job.job_id):
                        continue
                    if _expired(job):
                        self._expire(job)
                        continue
                    self.submit(job)
                settled += 1
            except ChainUnavailable:
                return settled
            except LedgerError as exc:
                log.warning("pending job %s failed for good: %s", job.job_id, exc)
        return settled

    # ------------------------------------------------------------ one transaction per job

    def _send(self, job: Job) -> DocumentView | None:
        p = job.payload
        sender = self.rt.sender(p["signing_key"] or "deployer")
        registry = self.rt.registry
        try:
            if job.kind == "batch":
                sent = registry.anchor_batch(
                    sender,
                    bytes.fromhex(p["root"][2:]),
                    p["size"],
                    bytes(Cid.parse(p["manifest_cid"])),
                )
                self.rt.outbox.done(job.job_id, self._batch_result(sent))
                return None
            fingerprint = bytes.fromhex(p["fingerprint"])
            cid = bytes(Cid.parse(p["cid"]))
            metadata = bytes(Cid.parse(p["metadata_cid"])) if p.get("metadata_cid") else b""
            if job.kind == "register":
                sent = registry.register(
                    sender, fingerprint, p["doc_type"], cid, p["consignment_ref"], metadata
                )
            elif job.kind == "supersede":
                sent = registry.supersede(
                    sender,
                    bytes.fromhex(p["supersedes"]),
                    fingerprint,
                    p["doc_type"],
                    cid,
                    p["consignment_ref"],
                    metadata,
                )
            elif job.kind == "relay":
                request = RegisterRequest(
                    p["issuer"],
                    fingerprint,
                    p["doc_type"],
                    cid,
                    p["consignment_ref"],
                    metadata,
                    p["nonce"],
                    p["deadline"],
                )
                sent = registry.register_with_signature(
                    sender, request, bytes.fromhex(p["signature"][2:])
                )
            else:
                raise InvalidInput(f"unknown outbox job kind {job.kind}")
        except ContractError as exc:
            return self._settle_refusal(job, exc)
        record = self._record_from_receipt(job, sent)
        self.rt.outbox.done(job.job_id, views.to_json(record))
        return record

    def _batch_result(self, sent: Sent) -> dict[str, Any]:
        timestamp, block_hash = self._block_of(sent)
        (log_index,) = self.rt.registry.log_indexes(sent, "BatchAnchored")
        origin = Origin(sent.tx_hash.to_0x_hex(), sent.block_number, block_hash, log_index)
        return {"registered_at": timestamp, "origin": asdict(origin)}

    def _expire(self, job: Job) -> None:
        deadline = job.payload["deadline"]
        log.warning(
            "relayed job %s expired at %s before it reached the chain", job.job_id, deadline
        )
        self.rt.outbox.expired(
            job.job_id,
            f"the signed request expired at {deadline} before the chain took it: the issuer "
            "must sign a new request and relay it again",
        )

    def _settle_refusal(self, job: Job, exc: ContractError) -> DocumentView:
        """A revert: done if the chain already holds exactly this registration (whatever the
        contract refused first, e.g. a relayed request's used nonce), expired if a relayed
        request's deadline passed, else failed."""
        if job.kind != "batch" and exc.name != "DocumentAlreadyRegistered":
            on_chain = self.rt.registry.document(bytes.fromhex(job.payload["fingerprint"]))
            if on_chain is not None and on_chain.issuer.lower() == job.payload["issuer"].lower():
                record = self._record_from_chain(job)
                self.rt.outbox.done(job.job_id, views.to_json(record))
                return record
        if exc.name == "RequestExpired" and job.kind == "relay":
            self._expire(job)
            raise exc
        if exc.name == "InvalidBatch" and job.kind == "batch":
            batch = self.rt.registry.batch(bytes.fromhex(job.subject[2:]))
            if batch is not None and batch.issuer.lower() == job.payload["issuer"].lower():
                self.rt.outbox.done(
                    job.job_id, {"registered_at": batch.anchored_at, "origin": None}
                )
                raise Conflict(f"batch {job.subject} was already anchored") from exc
        if exc.name == "DocumentAlreadyRegistered":
            issuer = str(exc.params.get("issuer", ""))
            if issuer.lower() == job.payload["issuer"].lower():
                record = self._record_from_chain(job)
                self.rt.outbox.done(job.job_id, views.to_json(record))
                return record
        self.rt.outbox.failed(job.job_id, str(exc))
        raise exc

    def _record_from_receipt(self, job: Job, sent: Sent) -> DocumentView:
        (log_index,) = self.rt.registry.log_indexes(sent, "DocumentRegistered")
        timestamp, block_hash = self._block_of(sent)
        origin = Origin(sent.tx_hash.to_0x_hex(), sent.block_number, block_hash, log_index)
        return views.registered(self.rt.engine, job, timestamp, origin)

    def _block_of(self, sent: Sent) -> tuple[int, str]:
        """The mined block's time and hash, from the receipt when the node includes them."""
        if sent.block_time is not None:
            return sent.block_time, sent.block_hash
        block = self.rt.w3.eth.get_block(sent.block_number)
        return int(block["timestamp"]), block["hash"].to_0x_hex()

    def _record_from_chain(self, job: Job) -> DocumentView:
        """After a crash between mining and recording: find the registration's log on chain.
        A node may answer "already registered" before its log can be found (a restarted
        chain still mining what it restored): the job is then settled without an origin,
        and the reconciler asks the contract again until it is final (or lost)."""
        fingerprint = "0x" + job.payload["fingerprint"]
        event = self.rt.registry.contract.events.DocumentRegistered()
        logs = event.get_logs(
            argument_filters={"fingerprint": fingerprint},
            from_block=self.rt.deployment.block_number,
        )
        if not logs:
            record = self.rt.registry.document(bytes.fromhex(job.payload["fingerprint"]))
            at = record.registered_at if record is not None else int(time.time())
            return views.registered(self.rt.engine, job, at, None)
        found = logs[-1]
        block = self.rt.w3.eth.get_block(found["blockNumber"])
        origin = Origin(
            HexBytes(found["transactionHash"]).to_0x_hex(),
            int(found["blockNumber"]),
            HexBytes(found["blockHash"]).to_0x_hex(),
            int(found["logIndex"]),
        )
        return views.registered(self.rt.engine, job, int(block["timestamp"]), origin)


def _expired(job: Job) -> bool:
    """Whether ``job`` is a relayed request whose signed deadline has passed."""
    return job.kind == "relay" and int(job.payload["deadline"]) < time.time()
