"""What users do with documents: register (single, batch, relayed), supersede, revoke, attest.

Each flow reads top to bottom: check who calls (``ledger.flows.identity``) and what they
send (``intake``), store the bytes before anything reaches the chain (``uploads``; the chain
never points at content the store lacks), refuse a duplicate, then hand the transaction to
``jobs``, which writes it to the outbox first, so an acknowledged registration survives any
crash. Reading answers from the index, else from the outbox (``views``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from io import BytesIO
from typing import Any, BinaryIO

from sqlalchemy import select

from ledger.chain import (
    BatchMember,
    Manifest,
    ManifestEntry,
    RegisterRequest,
    Sender,
    recover_signer,
)
from ledger.cid import Cid
from ledger.content import Fingerprint
from ledger.db import documents, outbox, outbox_members
from ledger.doctypes import check_doc_type
from ledger.errors import (
    ChainUnavailable,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from ledger.flows import views
from ledger.flows.confidential import Confidential
from ledger.flows.gateway import refuse_other
from ledger.flows.identity import Action, Actor, Role, authorise
from ledger.flows.intake import (
    Upload,
    check_consignment_ref,
    check_customs_ref,
    check_fingerprint,
    check_metadata,
)
from ledger.flows.jobs import Jobs
from ledger.flows.outbox import EXPIRED, FAILED
from ledger.flows.reconcile import Reconciler, unconfirmed, view_of
from ledger.flows.runtime import Runtime
from ledger.flows.uploads import Uploads
from ledger.index import AttestationView, DocumentView, HistoryEntry, records
from ledger.types import RevocationReason, Verdict

GONE = (FAILED, EXPIRED)  # job states that do not make a fingerprint a duplicate


class DocumentExists(Conflict):
    """The fingerprint is already registered (or pending); ``record`` is the existing one."""

    def __init__(self, record: DocumentView) -> None:
        super().__init__(
            f"document {record.sha256} is already registered ({record.status}): verify it, or "
            "supersede it with an amended file"
        )
        self.record = record


@dataclass(frozen=True)
class Registration:
    record: DocumentView
    created: bool  # False: acknowledged and durable, but not on chain yet (HTTP 202)


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


class Documents:
    """The document flows over one ``Runtime``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.jobs = Jobs(rt)
        self.reconciler = Reconciler(rt)
        self.uploads = Uploads(rt.store, rt.settings.max_upload_bytes)
        self.confidential = Confidential(rt, self.uploads)

    def resume_pending(self) -> int:
        """The outbox worker's step: re-check acknowledged work against the canonical chain
        (reopening what it lost), then finish what an outage or a lost block left pending."""
        self.reconciler.step()
        return self.jobs.resume_pending()

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
        """The indexed record, else the outbox's (done or pending) one. A job being sent
        (again: the chain lost its block) or expired unsent wins over the index, which may
        still hold the lost block for a moment."""
        found = records.document(self.rt.engine, sha256)
        job = self.rt.outbox.latest(sha256)
        if job is not None and (found is None or unconfirmed(self.rt, job)):
            return view_of(self.rt, job)
        if found is not None:
            if found.batch_root is not None:
                batch = self.rt.outbox.latest(found.batch_root)
                if batch is not None and unconfirmed(self.rt, batch):
                    return replace(found, status="pending", registered_at=None, origin=None)
            return found
        member = self.rt.outbox.batch_of(sha256)
        if member is None:
            return None
        batch, position = member
        if unconfirmed(self.rt, batch):
            batch = replace(batch, result=None)  # shown pending until re-checked
        manifest = Manifest.from_json(b"".join(self.rt.store.get(batch.payload["manifest_cid"])))  # type: ignore[attr-defined]
        return views.batch_member(self.rt.engine, batch, manifest, position)

    def content(self, actor: Actor | None, sha256: str) -> Iterator[bytes]:
        """The plain content: decrypted for a recipient organisation (403 for others); a
        document stored in the clear (batch members, relayed) as before."""
        actor = authorise(actor, Action.READ_CONTENT)
        record = self.get(sha256).record
        if self.confidential.envelope(record.sha256) is not None:
            return self.confidential.open_content(actor, record.sha256, record.cid)
        if actor.role in (Role.EXPORTER, Role.ISSUER) and actor.org_id != record.issuer.org_id:
            raise Forbidden(
                "only the issuing organisation, customs, auditors and the admin may read this content"
            )
        return self.rt.store.get(record.cid)  # type: ignore[attr-defined]

    def add_recipients(self, actor: Actor | None, sha256: str, org_ids: list[int]) -> list[int]:
        """The issuing organisation wraps a sealed document's key for more organisations."""
        actor = authorise(actor, Action.REGISTER)
        record = self.get(sha256).record
        if actor.org_id != record.issuer.org_id:
            raise Forbidden("only the issuing organisation may add recipients to a document")
        return self.confidential.add_recipients(actor, record.sha256, org_ids)

    def metadata(self, actor: Actor | None, sha256: str) -> dict[str, Any]:
        """The metadata the issuer sent, decrypted for a recipient organisation."""
        actor = authorise(actor, Action.READ_CONTENT)
        record = self.get(sha256).record
        if record.metadata_cid is None:
            raise NotFound(f"document {record.sha256} was registered without metadata")
        found = self.confidential.envelope(record.sha256)
        if found is None:
            raise NotFound(
                f"document {record.sha256} was not stored sealed: its metadata is at "
                f"{record.metadata_cid} on the content store"
            )
        if actor.role == Role.AUDITOR and actor.org_id not in found[1]:
            disclosed = self.confidential.disclosed(record.sha256)
            if not disclosed:
                raise Forbidden(
                    "the issuer disclosed no metadata of this confidential document to "
                    "auditors, and your organisation is not one of its recipients"
                )
            return {**disclosed, "disclosed_to_auditors": True}
        return self.confidential.open_metadata(actor, record.sha256, record.metadata_cid)

    def envelope(self, actor: Actor | None, sha256: str) -> dict[str, Any]:
        """The envelope of a sealed document (its key wrapped per recipient, with the
        recipients' organisation ids and the CID of the sealed object)."""
        authorise(actor, Action.READ_CONTENT)
        record = self.get(sha256).record
        found = self.confidential.envelope(record.sha256)
        if found is None:
            raise NotFound(
                f"document {record.sha256} was stored in the clear (a batch member or a relayed "
                "document): read its content instead"
            )
        env, recipients = found
        return {**env.to_json(), "cid": record.cid, "recipients": recipients}

    def sealed(self, actor: Actor | None, sha256: str) -> Iterator[bytes]:
        """The stored sealed object, for a recipient that decrypts with its own key."""
        cid = self.envelope(actor, sha256)["cid"]
        chunks: Iterator[bytes] = self.rt.store.get(cid)  # type: ignore[attr-defined]
        return chunks

    # ------------------------------------------------------------ registration

    def register(self, actor: Actor | None, upload: Upload) -> Registration:
        actor = authorise(actor, Action.REGISTER)
        payload = self._prepare(actor, upload)
        return Registration(*self.jobs.run("register", payload["fingerprint"], payload))

    def supersede(self, actor: Actor | None, old_sha256: str, upload: Upload) -> Registration:
        actor = authorise(actor, Action.SUPERSEDE)
        old = self.get(old_sha256).record
        if actor.org_id != old.issuer.org_id:
            raise Forbidden("only the organisation that issued a document may supersede it")
        if old.status != "registered":
            raise Conflict(
                f"document {old.sha256} is {old.status}: only a registered document can be superseded"
            )
        self.rt.require_chain()
        self._ensure_recorded(self._sender_of(actor), old)  # a batch member: recorded alone first
        payload = {**self._prepare(actor, upload), "supersedes": old.sha256}
        registration = Registration(*self.jobs.run("supersede", payload["fingerprint"], payload))
        self._catch_up()  # the old document's status changed too
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
        self._check_signature(request, signature)
        self.rt.require_chain()
        issuer_org = self.rt.registry.key_info(request.issuer).org_id
        refuse_other(self.rt.settings.organisation, issuer_org, "relay signed requests")
        fingerprint = self.uploads.put(upload.source, sync=False)  # durable with the job
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
        return Registration(*self.jobs.run("relay", fingerprint.sha256, payload))

    def store_batch(
        self, actor: Actor | None, files: Iterable[BinaryIO | Iterable[bytes]]
    ) -> list[Fingerprint]:
        """Store a batch's files, before its fields are known (they may follow the files in
        a streamed upload); ``anchor_batch`` then checks the fields, pins the files and
        anchors them."""
        authorise(actor, Action.REGISTER)
        self.rt.require_chain()
        return self.uploads.put_many(files)

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
        self.uploads.pin_many([fp.cid for fp in stored])
        manifest = Manifest(tuple(entries))
        root = "0x" + manifest.tree().root.hex()
        manifest_cid = self.uploads.put(BytesIO(manifest.to_json())).cid
        payload = {
            "root": root,
            "size": len(entries),
            "manifest_cid": manifest_cid,
            "signing_key": actor.signing_key,
            "issuer": self._issuer_key(actor),
        }
        with self.jobs.claim(root):
            job = self.rt.outbox.add(
                "batch", root, payload, members=[e.fingerprint for e in entries]
            )
            with suppress(ChainUnavailable):  # durable and pending: the outbox worker anchors it
                self.jobs.submit(job)
        done = self.rt.outbox.latest(job.subject)
        result = done.result if done else None
        members = views.batch_members(self.rt.engine, job, manifest, result)
        return BatchRegistration(root, manifest_cid, members, result is not None)

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

    def revoke_batch(
        self, actor: Actor | None, root: str, reason: RevocationReason
    ) -> records.BatchView:
        """Revoke every member of a batch in one transaction (issue 14)."""
        actor = authorise(actor, Action.REVOKE)
        value = root.strip().lower().removeprefix("0x")
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise InvalidInput(
                f"{root!r} is not a batch root: give the 64 hexadecimal digits of the root "
                "that the batch registration answered"
            )
        root = "0x" + value
        self._catch_up()
        batch = records.batch(self.rt.engine, root)
        if batch is None:
            raise NotFound(f"no batch is anchored under root {root}: check the root")
        if actor.role != Role.ADMIN and actor.org_id != batch.org_id:
            raise Forbidden(
                "only the issuing organisation or the consortium admin may revoke a batch"
            )
        self.rt.require_chain()
        self.rt.registry.revoke_batch(self._sender_of(actor), bytes.fromhex(root[2:]), int(reason))
        self._catch_up()
        done = records.batch(self.rt.engine, root)
        assert done is not None
        return done

    def attest(
        self, actor: Actor | None, sha256: str, verdict: Verdict, customs_ref: str
    ) -> AttestationView:
        actor = authorise(actor, Action.ATTEST)
        if verdict == Verdict.NONE:
            raise InvalidInput("give a verdict: verified, cleared, held or rejected")
        check_customs_ref(customs_ref)
        record = self.get(sha256).record
        if record.status in ("revoked", "superseded"):
            raise Conflict(
                f"document {record.sha256} is {record.status}: customs attest only active "
                "documents (verify the document that replaced it, if any)"
            )
        self.rt.require_chain()
        sender = self._sender_of(actor)
        self._ensure_recorded(sender, record)
        attestation_id, _ = self.rt.registry.attest(
            sender, bytes.fromhex(record.sha256), verdict, customs_ref
        )
        self._catch_up()
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
        self._catch_up()
        return {a.attestation_id: a for a in records.attestations_of(self.rt.engine, sha256)}[
            wanted
        ]

    # ------------------------------------------------------------ helpers

    def _prepare(self, actor: Actor, upload: Upload) -> dict[str, Any]:
        """Check the caller's fields, store the bytes (and metadata): the job's payload."""
        doc_type = check_doc_type(upload.doc_type)
        ref = check_consignment_ref(upload.consignment_ref)
        metadata = check_metadata(upload.metadata)
        self.rt.require_chain()
        sealed = self.confidential.seal(
            actor, upload.source, metadata, list(upload.recipients), upload.disclose
        )
        fingerprint = sealed.fingerprint
        self._refuse_duplicate(fingerprint.sha256)
        self.confidential.record(sealed)
        return {
            "fingerprint": fingerprint.sha256,
            "cid": fingerprint.cid,
            "doc_type": doc_type,
            "consignment_ref": ref,
            "metadata_cid": sealed.metadata_cid,
            "signing_key": actor.signing_key,
            "issuer": self._issuer_key(actor),
        }

    def _check_signature(self, request: RegisterRequest, signature: bytes) -> None:
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

    def _refuse_duplicate(self, sha256: str) -> None:
        """409 when the document is on chain or pending in the outbox (not when a relayed
        request of it expired unsent: a new one may be relayed)."""
        existing = self.record(sha256)
        if existing is None:
            return
        if existing.status != views.NEEDS_SIGNATURE:
            raise DocumentExists(existing)
        self.rt.outbox.retire_expired(sha256)

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
                            outbox.c.subject.in_(part), outbox.c.state.notin_(GONE)
                        )
                    ).scalars()
                )
                known |= set(
                    conn.execute(
                        select(outbox_members.c.fingerprint)
                        .join(outbox, outbox.c.job_id == outbox_members.c.job_id)
                        .where(outbox_members.c.fingerprint.in_(part), outbox.c.state.notin_(GONE))
                    ).scalars()
                )
        if known:
            self._refuse_duplicate(sorted(known)[0])

    def _issuer_key(self, actor: Actor) -> str:
        if actor.signing_key is None:
            raise Forbidden(f"API key {actor.key_id} has no signing key: ask the admin to bind one")
        return str(self.rt.account(actor.signing_key).address)

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

    def _catch_up(self) -> None:
        """After a change on chain: let the index show it (if the chain lets it, in time)."""
        with suppress(Unavailable):
            self.rt.catch_up(self.rt.settings.rpc_timeout)

    def _fresh(self, sha256: str) -> DocumentView:
        self._catch_up()
        record = self.record(sha256)
        assert record is not None
        return record
