"""What users do with documents: register (single, batch, relayed), revoke, supersede, attest.

Every flow checks the caller's role first (``ledger.identity``), stores the bytes before
anything reaches the chain (so the chain never points at content the store lacks), and
writes registrations to the outbox before submitting them (so an acknowledged registration
survives any crash). ``resume_pending`` finishes what an outage interrupted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from io import BytesIO
from typing import Any, BinaryIO

from hexbytes import HexBytes
from sqlalchemy import select

from ledger import records
from ledger.chain import Sender, Sent, is_connection_error
from ledger.db import documents, outbox
from ledger.doctypes import DOCUMENT_TYPES, check_doc_type
from ledger.errors import (
    ChainUnavailable,
    Conflict,
    ContractError,
    Forbidden,
    InvalidInput,
    LedgerError,
    NotFound,
)
from ledger.groupsync import GroupSync
from ledger.hashing import Fingerprint
from ledger.identity import Action, Actor, Role, authorise
from ledger.manifest import Manifest, ManifestEntry
from ledger.merkle import BatchMember
from ledger.outbox import Job
from ledger.records import AttestationView, DocumentView, HistoryEntry, Issuer, Origin
from ledger.relay import RegisterRequest, recover_signer
from ledger.runtime import Runtime
from ledger.types import RevocationReason, Verdict
from ledger.unixfs import Cid

log = logging.getLogger("tradeledger")

MAX_REF_LENGTH = 128


class DocumentExists(Conflict):
    """The fingerprint is already registered (or pending); ``record`` is the existing one."""

    def __init__(self, record: DocumentView) -> None:
        super().__init__(
            f"document {record.sha256} is already registered ({record.status}): verify it, or "
            "supersede it with an amended file"
        )
        self.record = record


class TooLarge(InvalidInput):
    """The upload is larger than ``max_upload_bytes`` (HTTP 413)."""


@dataclass(frozen=True)
class Registration:
    record: DocumentView
    created: bool  # False: acknowledged and durable, but not on chain yet (HTTP 202)


@dataclass(frozen=True)
class Upload:
    """One document of a request: its bytes and what the caller says about it."""

    source: BinaryIO | Iterable[bytes]
    doc_type: int
    consignment_ref: str
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class BatchRegistration:
    root: str
    manifest_cid: str
    records: list[DocumentView]
    created: bool


@dataclass(frozen=True)
class DocumentDetails:
    record: DocumentView
    history: list[HistoryEntry]
    attestations: list[AttestationView]


class LimitedReader:
    """A file-like view of ``source`` that refuses to yield more than ``limit`` bytes."""

    def __init__(self, source: BinaryIO | Iterable[bytes], limit: int) -> None:
        self._read = source.read if hasattr(source, "read") else _chunks_reader(iter(source))
        self.limit = limit
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._read(n)
        self.count += len(data)
        if self.count > self.limit:
            raise TooLarge(
                f"the document is larger than the limit of {self.limit} bytes: split it or ask the "
                "operator to raise TRADELEDGER_MAX_UPLOAD_BYTES"
            )
        return data


def _chunks_reader(chunks: Iterator[bytes]) -> Any:
    buffer = bytearray()

    def read(n: int = -1) -> bytes:
        while n < 0 or len(buffer) < n:
            try:
                buffer.extend(next(chunks))
            except StopIteration:
                break
        size = len(buffer) if n < 0 else min(n, len(buffer))
        out = bytes(buffer[:size])
        del buffer[:size]
        return out

    return read


def check_fingerprint(sha256: str) -> str:
    """A SHA-256 in canonical form (64 lower-case hex digits, no 0x)."""
    value = sha256.strip().lower().removeprefix("0x")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput(
            f"{sha256!r} is not a SHA-256 fingerprint: give 64 hexadecimal digits (what sha256sum prints)"
        )
    return value


def check_consignment_ref(ref: str) -> str:
    ref = ref.strip()
    if not ref or len(ref.encode()) > MAX_REF_LENGTH:
        raise InvalidInput(
            f"consignment_ref must be 1 to {MAX_REF_LENGTH} bytes, e.g. the SMGS consignment note number"
        )
    return ref


def check_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    """Light checks of the WCO/UN-CEFACT style metadata: country codes and HS codes."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidInput(
            'metadata must be a JSON object, e.g. {"exporter": ..., "hs_codes": ["1101.00"]}'
        )
    for name in ("country_of_origin", "country_of_destination"):
        value = metadata.get(name)
        if value is not None and not (
            isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper()
        ):
            raise InvalidInput(
                f"metadata.{name} must be an ISO 3166-1 alpha-2 code such as KZ or AF"
            )
    for code in metadata.get("hs_codes", []) or []:
        digits = str(code).replace(".", "")
        if not (digits.isdigit() and 4 <= len(digits) <= 10):
            raise InvalidInput(f"metadata.hs_codes: {code!r} is not an HS code (e.g. 1101.00)")
    return metadata


class Documents:
    """The document flows over one ``Runtime``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._in_flight: set[str] = set()  # subjects a thread is submitting right now
        self._lock = threading.Lock()
        self._durable = GroupSync(self._sync_writes)

    def _sync_writes(self) -> None:
        """Make the content store's and the outbox's writes so far durable (when both live
        on one file system, the store's flush has done the outbox's work too)."""
        self.rt.store.sync()  # type: ignore[attr-defined]
        self.rt.outbox.sync()

    # ------------------------------------------------------------ reading

    def get(self, sha256: str) -> DocumentDetails:
        sha256 = check_fingerprint(sha256)
        record = self.record(sha256)
        if record is None:
            raise NotFound(
                f"no document has fingerprint {sha256}: check the hash, or register it first"
            )
        atts = records.attestations_of(self.rt.engine, sha256)
        return DocumentDetails(record, records.history(record, atts), atts)

    def record(self, sha256: str) -> DocumentView | None:
        """The indexed record, else the outbox's (done or pending) one."""
        found = records.document(self.rt.engine, sha256)
        if found is not None:
            return found
        job = self.rt.outbox.latest(sha256)
        if job is None:
            return None
        if job.result is not None:
            return _view_from_json(job.result)
        return self._pending_view(job)

    def _pending_view(self, job: Job) -> DocumentView:
        p = job.payload
        if job.kind == "batch":  # a batch job stands for no single document
            raise NotFound(f"{job.subject} is a batch root, not a document fingerprint")
        return DocumentView(
            sha256=p["fingerprint"],
            cid=p["cid"],
            doc_type=p["doc_type"],
            doc_type_name=DOCUMENT_TYPES.get(p["doc_type"], "unknown"),
            consignment_ref=p["consignment_ref"],
            metadata_cid=p.get("metadata_cid"),
            issuer=records.issuer(self.rt.engine, p["issuer"]),
            status="pending",
            registered_at=None,
            origin=None,
            supersedes=p.get("supersedes"),
        )

    def content(self, actor: Actor | None, sha256: str) -> Iterator[bytes]:
        actor = authorise(actor, Action.READ_CONTENT)
        record = self.get(sha256).record
        if actor.role in (Role.EXPORTER, Role.ISSUER) and actor.org_id != record.issuer.org_id:
            raise Forbidden(
                "only the issuing organisation, customs, auditors and the admin may read this content"
            )
        return self.rt.store.get(record.cid)  # type: ignore[attr-defined]

    # ------------------------------------------------------------ registration

    def _store(self, source: BinaryIO | Iterable[bytes], sync: bool = True) -> Fingerprint:
        """Store ``source``; with ``sync=False`` it is durable after the next ``_durable()``."""
        reader = LimitedReader(source, self.rt.settings.max_upload_bytes)
        fingerprint: Fingerprint = self.rt.store.put(reader, sync=sync)  # type: ignore[attr-defined]
        if fingerprint.size == 0:
            raise InvalidInput("the file is empty: upload the document's bytes")
        return fingerprint

    def _store_many(self, sources: Iterable[BinaryIO | Iterable[bytes]]) -> list[Fingerprint]:
        """Store every source in turn (each read to its end before the next is asked for);
        the embedded store does it with the disk syncs of one, unpinned until
        ``_pin_many``. (An IPFS node pins what it adds.)"""
        limit = self.rt.settings.max_upload_bytes
        put_many = getattr(self.rt.store, "put_many", None)
        if put_many is None:
            return [self._store(source) for source in sources]
        fingerprints: list[Fingerprint] = put_many(
            (LimitedReader(source, limit) for source in sources), pin=False
        )
        if any(fp.size == 0 for fp in fingerprints):
            raise InvalidInput("a file of the batch is empty: upload every document's bytes")
        return fingerprints

    def _store_metadata(self, metadata: dict[str, Any] | None, sync: bool = True) -> str | None:
        if metadata is None:
            return None
        body = json.dumps(
            metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        return self._store(BytesIO(body), sync).cid

    def _refuse_duplicate(self, sha256: str) -> None:
        existing = self.record(sha256)
        if existing is not None:
            raise DocumentExists(existing)

    def _refuse_duplicates(self, fingerprints: list[str]) -> None:
        """As ``_refuse_duplicate`` for many, with one query per table."""
        known = set()
        with self.rt.engine.connect() as conn:
            for chunk in range(0, len(fingerprints), 500):
                part = fingerprints[chunk : chunk + 500]
                known |= set(
                    conn.execute(
                        select(documents.c.fingerprint).where(documents.c.fingerprint.in_(part))
                    ).scalars()
                )
                known |= set(
                    conn.execute(
                        select(outbox.c.subject).where(
                            outbox.c.subject.in_(part), outbox.c.state != "failed"
                        )
                    ).scalars()
                )
        if known:
            self._refuse_duplicate(sorted(known)[0])

    def _issuer_key(self, actor: Actor) -> str:
        if actor.signing_key is None:
            raise Forbidden(f"API key {actor.key_id} has no signing key: ask the admin to bind one")
        return str(self.rt.account(actor.signing_key).address)

    def _prepare(self, actor: Actor, upload: Upload) -> dict[str, Any]:
        """Check the caller's fields, store the bytes (and metadata): the job's payload."""
        doc_type = check_doc_type(upload.doc_type)
        ref = check_consignment_ref(upload.consignment_ref)
        metadata = check_metadata(upload.metadata)
        self.rt.require_chain()
        fingerprint = self._store(upload.source, sync=False)  # durable with the job
        self._refuse_duplicate(fingerprint.sha256)
        return {
            "fingerprint": fingerprint.sha256,
            "cid": fingerprint.cid,
            "doc_type": doc_type,
            "consignment_ref": ref,
            "metadata_cid": self._store_metadata(metadata, sync=False),
            "signing_key": actor.signing_key,
            "issuer": self._issuer_key(actor),
        }

    def register(self, actor: Actor | None, upload: Upload) -> Registration:
        actor = authorise(actor, Action.REGISTER)
        payload = self._prepare(actor, upload)
        return self._run_job("register", payload["fingerprint"], payload)

    def supersede(self, actor: Actor | None, old_sha256: str, upload: Upload) -> Registration:
        actor = authorise(actor, Action.SUPERSEDE)
        old = self.get(old_sha256).record
        if actor.org_id != old.issuer.org_id:
            raise Forbidden("only the organisation that issued a document may supersede it")
        if old.status != "registered":
            raise Conflict(
                f"document {old.sha256} is {old.status}: only a registered document can be superseded"
            )
        payload = {**self._prepare(actor, upload), "supersedes": old.sha256}
        registration = self._run_job("supersede", payload["fingerprint"], payload)
        self.rt.sync_index()  # the old document's status changed too
        return registration

    def relay(
        self, actor: Actor | None, upload: Upload, request: RegisterRequest, signature: bytes
    ) -> Registration:
        """Relay an exporter's signed request; the uploaded bytes must be the ones it names."""
        actor = authorise(actor, Action.RELAY)
        if request.deadline < time.time():
            raise InvalidInput(f"the signed request expired at {request.deadline}: sign a new one")
        check_doc_type(request.doc_type)
        check_consignment_ref(request.consignment_ref)
        try:
            signer = recover_signer(
                request, signature, self.rt.registry.chain_id, self.rt.registry.address
            )
        except Exception as exc:  # out-of-range fields, a malformed signature (eth-abi, eth-keys)
            raise InvalidInput(
                f"the signed request cannot be checked ({exc}): send the issuer address, uint16 "
                "doc_type, uint64 nonce, uint40 deadline and a 65-byte signature"
            ) from exc
        if signer.lower() != request.issuer.lower():
            raise InvalidInput(
                f"the signature does not match this request by {request.issuer} (it recovers to "
                f"{signer}): sign with the issuer's key, for this chain and contract, over exactly "
                "the uploaded file and the request's fields"
            )
        self.rt.require_chain()
        fingerprint = self._store(upload.source, sync=False)  # durable with the job
        if fingerprint.sha256_bytes != request.fingerprint or fingerprint.cid_bytes != request.cid:
            raise InvalidInput(
                "the uploaded file is not the one the request was signed for (its SHA-256 or CID "
                "differs): upload exactly the signed document"
            )
        self._refuse_duplicate(fingerprint.sha256)
        payload = {
            "fingerprint": fingerprint.sha256,
            "cid": fingerprint.cid,
            "doc_type": request.doc_type,
            "consignment_ref": request.consignment_ref,
            "metadata_cid": str(Cid.parse(request.metadata_cid)) if request.metadata_cid else None,
            "issuer": request.issuer,
            "nonce": request.nonce,
            "deadline": request.deadline,
            "signature": "0x" + signature.hex(),
            "signing_key": actor.signing_key,
        }
        return self._run_job("relay", fingerprint.sha256, payload)

    def store_batch(
        self, actor: Actor | None, files: Iterable[BinaryIO | Iterable[bytes]]
    ) -> list[Fingerprint]:
        """Store a batch's files, before its fields are known (they may follow the files in
        a streamed upload); ``anchor_batch`` then checks the fields, pins the files and
        anchors them."""
        authorise(actor, Action.REGISTER)
        self.rt.require_chain()
        return self._store_many(files)

    def anchor_batch(
        self,
        actor: Actor | None,
        stored: list[Fingerprint],
        doc_types: list[int],
        consignment_ref: str,
    ) -> BatchRegistration:
        """Anchor stored files under one Merkle root; ``doc_types`` has one code for all the
        files or one per file. Each answer carries its proof."""
        actor = authorise(actor, Action.REGISTER)
        if not stored:
            raise InvalidInput("a batch needs at least one file")
        if len(doc_types) not in (1, len(stored)):
            raise InvalidInput(
                f"give one doc_type for all files or one per file ({len(stored)} files, "
                f"{len(doc_types)} types)"
            )
        types = [check_doc_type(t) for t in doc_types]
        ref = check_consignment_ref(consignment_ref)
        types = types * len(stored) if len(types) == 1 else types
        self._refuse_duplicates([fp.sha256 for fp in stored])
        entries = [
            ManifestEntry(fp.sha256, doc_type, fp.cid, ref)
            for fp, doc_type in zip(stored, types, strict=True)
        ]
        if len({e.fingerprint for e in entries}) != len(entries):
            raise InvalidInput("the same file appears twice in the batch: send each document once")
        pin_many = getattr(self.rt.store, "pin_many", None)
        if pin_many is not None:  # only now: a refused batch leaves nothing pinned
            pin_many([fp.cid for fp in stored])
        manifest = Manifest(tuple(entries))
        root = "0x" + manifest.tree().root.hex()
        manifest_cid = self._store(BytesIO(manifest.to_json())).cid
        payload = {
            "root": root,
            "size": len(entries),
            "manifest_cid": manifest_cid,
            "signing_key": actor.signing_key,
            "issuer": self._issuer_key(actor),
        }
        with self._claim(root):
            job = self.rt.outbox.add("batch", root, payload)
            try:
                self._submit(job)
                created = True
            except ChainUnavailable:
                created = False
        views = self._batch_views(job, manifest, created)
        return BatchRegistration(root, manifest_cid, views, created)

    def _batch_views(self, job: Job, manifest: Manifest, created: bool) -> list[DocumentView]:
        done = self.rt.outbox.latest(job.subject)
        origin = Origin(**done.result["origin"]) if done and done.result else None
        at = done.result["registered_at"] if done and done.result else None
        tree = manifest.tree()
        issuer = records.issuer(self.rt.engine, job.payload["issuer"])
        return [
            DocumentView(
                sha256=e.fingerprint,
                cid=e.cid,
                doc_type=e.doc_type,
                doc_type_name=DOCUMENT_TYPES.get(e.doc_type, "unknown"),
                consignment_ref=e.consignment_ref,
                metadata_cid=e.metadata_cid,
                issuer=issuer,
                status="registered" if created else "pending",
                registered_at=at,
                origin=origin,
                batch_root=job.subject,
                merkle_proof=["0x" + h.hex() for h in tree.proof(i)],
            )
            for i, e in enumerate(manifest.entries)
        ]

    # ------------------------------------------------------------ submitting jobs

    @contextmanager
    def _claim(self, subject: str) -> Iterator[None]:
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

    def _run_job(self, kind: str, subject: str, payload: dict[str, Any]) -> Registration:
        """Write the job to the outbox, make it and the stored content durable with one
        flush shared by concurrent requests, then submit it and wait for the receipt."""
        with self._claim(subject):
            job = self.rt.outbox.add(kind, subject, payload, durable=False)
            self._durable()
            try:
                record = self._submit(job)
            except ChainUnavailable:
                log.warning("job %s stays pending: the chain went away", job.job_id)
                return Registration(self._pending_view(job), created=False)
        assert record is not None  # only batch jobs have no single record
        return Registration(record, created=True)

    def _submit(self, job: Job) -> DocumentView | None:
        """Send ``job``'s transaction (again) and record the outcome in the outbox.

        Returns the document's record, or None for a batch (it stands for no single document).
        A connection error from any chain call becomes ``ChainUnavailable``: the job stays
        pending (the answer is 202) and the outbox worker finishes it.
        """
        try:
            return self._send_job(job)
        except LedgerError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainUnavailable(f"the chain went away: {exc}") from exc
            raise

    def _send_job(self, job: Job) -> DocumentView | None:
        p = job.payload
        # a batch job's payload names a root, not one document's fingerprint and CID
        fingerprint = bytes.fromhex(p["fingerprint"]) if "fingerprint" in p else b""
        cid = bytes(Cid.parse(p["cid"])) if "cid" in p else b""
        metadata = bytes(Cid.parse(p["metadata_cid"])) if p.get("metadata_cid") else b""
        sender = self.rt.sender(p["signing_key"] or "deployer")
        registry = self.rt.registry
        try:
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
            elif job.kind == "batch":
                sent = registry.anchor_batch(
                    sender,
                    bytes.fromhex(p["root"][2:]),
                    p["size"],
                    bytes(Cid.parse(p["manifest_cid"])),
                )
                timestamp, block_hash = self._block_of(sent)
                (log_index,) = registry.log_indexes(sent, "BatchAnchored")
                result = {
                    "registered_at": timestamp,
                    "origin": asdict(
                        Origin(sent.tx_hash.to_0x_hex(), sent.block_number, block_hash, log_index)
                    ),
                }
                self.rt.outbox.done(job.job_id, result)
                return None
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
        self.rt.outbox.done(job.job_id, _view_to_json(record))
        return record

    def _settle_refusal(self, job: Job, exc: ContractError) -> DocumentView:
        """A revert: done if the chain already holds exactly this registration, else failed."""
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
                self.rt.outbox.done(job.job_id, _view_to_json(record))
                return record
        self.rt.outbox.failed(job.job_id, str(exc))
        raise exc

    def _record_from_receipt(self, job: Job, sent: Sent) -> DocumentView:
        (log_index,) = self.rt.registry.log_indexes(sent, "DocumentRegistered")
        timestamp, block_hash = self._block_of(sent)
        return self._view(
            job,
            timestamp,
            Origin(sent.tx_hash.to_0x_hex(), sent.block_number, block_hash, log_index),
        )

    def _block_of(self, sent: Sent) -> tuple[int, str]:
        """The mined block's time and hash, from the receipt when the node includes them."""
        if sent.block_time is not None:
            return sent.block_time, sent.block_hash
        block = self.rt.w3.eth.get_block(sent.block_number)
        return int(block["timestamp"]), block["hash"].to_0x_hex()

    def _record_from_chain(self, job: Job) -> DocumentView:
        """After a crash between mining and recording: find the registration's log on chain."""
        fingerprint = "0x" + job.payload["fingerprint"]
        event = self.rt.registry.contract.events.DocumentRegistered()
        logs = event.get_logs(
            argument_filters={"fingerprint": fingerprint},
            from_block=self.rt.deployment.block_number,
        )
        found = logs[-1]
        block = self.rt.w3.eth.get_block(found["blockNumber"])
        return self._view(
            job,
            int(block["timestamp"]),
            Origin(
                HexBytes(found["transactionHash"]).to_0x_hex(),
                int(found["blockNumber"]),
                HexBytes(found["blockHash"]).to_0x_hex(),
                int(found["logIndex"]),
            ),
        )

    def _view(self, job: Job, registered_at: int, origin: Origin) -> DocumentView:
        return replace(
            self._pending_view(job),
            status="registered",
            registered_at=registered_at,
            origin=origin,
        )

    def resume_pending(self) -> int:
        """Submit every pending job not already being handled; returns how many settled."""
        if not self.rt.chain_ok():
            return 0
        settled = 0
        for job in self.rt.outbox.pending():
            if job.subject in self._in_flight:
                continue  # a request thread is submitting it
            try:
                with self._claim(job.subject):
                    # A request thread may have finished it since the list was read.
                    if not self.rt.outbox.is_pending(job.job_id):
                        continue
                    self._submit(job)
                settled += 1
            except ChainUnavailable:
                return settled
            except LedgerError as exc:
                log.warning("pending job %s failed for good: %s", job.job_id, exc)
        return settled

    # ------------------------------------------------------------ revocation and attestations

    def revoke(self, actor: Actor | None, sha256: str, reason: RevocationReason) -> DocumentView:
        actor = authorise(actor, Action.REVOKE)
        record = self.get(sha256).record
        if actor.role != Role.ADMIN and actor.org_id != record.issuer.org_id:
            raise Forbidden(
                "only the issuing organisation or the consortium admin may revoke a document"
            )
        self.rt.require_chain()
        sender = self._sender_of(actor)
        self._ensure_recorded(sender, record)
        self.rt.registry.revoke(sender, bytes.fromhex(record.sha256), int(reason))
        return self._fresh(record.sha256)

    def attest(
        self, actor: Actor | None, sha256: str, verdict: Verdict, customs_ref: str
    ) -> AttestationView:
        actor = authorise(actor, Action.ATTEST)
        if verdict == Verdict.NONE:
            raise InvalidInput("give a verdict: verified, cleared, held or rejected")
        if len(customs_ref.encode()) > MAX_REF_LENGTH:
            raise InvalidInput(f"reference must be at most {MAX_REF_LENGTH} bytes")
        record = self.get(sha256).record
        self.rt.require_chain()
        sender = self._sender_of(actor)
        self._ensure_recorded(sender, record)
        attestation_id, _ = self.rt.registry.attest(
            sender, bytes.fromhex(record.sha256), verdict, customs_ref
        )
        self.rt.sync_index()
        for att in records.attestations_of(self.rt.engine, record.sha256):
            if att.attestation_id == "0x" + attestation_id.hex():
                return att
        raise NotFound("the attestation was mined but is not indexed yet: fetch the document again")

    def revoke_attestation(
        self, actor: Actor | None, sha256: str, attestation_id: str
    ) -> AttestationView:
        actor = authorise(actor, Action.ATTEST)
        atts = {a.attestation_id: a for a in self.get(sha256).attestations}
        wanted = "0x" + attestation_id.lower().removeprefix("0x")
        if wanted not in atts:
            raise NotFound(f"document {sha256} has no attestation {attestation_id}")
        if atts[wanted].attester.org_id != actor.org_id:
            raise Forbidden("only the customs office that recorded an attestation may revoke it")
        self.rt.require_chain()
        self.rt.registry.revoke_attestation(self._sender_of(actor), bytes.fromhex(wanted[2:]))
        self.rt.sync_index()
        return {a.attestation_id: a for a in records.attestations_of(self.rt.engine, sha256)}[
            wanted
        ]

    def _sender_of(self, actor: Actor) -> Sender:
        return self.rt.sender(actor.signing_key or "deployer")

    def _ensure_recorded(self, sender: Sender, record: DocumentView) -> None:
        """A batch member must be recorded individually before it can change on its own."""
        if record.status == "pending":
            raise Conflict(f"document {record.sha256} is not on chain yet: retry in a few seconds")
        if record.batch_root is None or self.rt.registry.document(bytes.fromhex(record.sha256)):
            return
        member = BatchMember(
            bytes.fromhex(record.sha256),
            record.doc_type,
            bytes(Cid.parse(record.cid)),
            record.consignment_ref,
        )
        proof = [bytes.fromhex(h.removeprefix("0x")) for h in record.merkle_proof or []]
        self.rt.registry.record_batch_member(
            sender, bytes.fromhex(record.batch_root.removeprefix("0x")), member, proof
        )

    def _fresh(self, sha256: str) -> DocumentView:
        self.rt.sync_index()
        record = self.record(sha256)
        assert record is not None
        return record


def _view_to_json(view: DocumentView) -> dict[str, Any]:
    return asdict(view)


def _view_from_json(data: dict[str, Any]) -> DocumentView:
    issuer = Issuer(**data["issuer"])
    origin = Origin(**data["origin"]) if data.get("origin") else None
    return DocumentView(**{**data, "issuer": issuer, "origin": origin})
