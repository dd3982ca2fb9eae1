"""An evidence bundle v2 checked with no network: every fact from a proof, none from the bundle.

``check_bundle_offline`` needs the bundle, the trust file the verifier chose and a clock.
The registration's block header is trusted through its checkpoint (``fresh=False``: a
past fact), its receipt proof gives the event (fingerprint, issuer key, type, CID,
reference; for a batch member the anchored root, then the v1 Merkle proof into it);
the status is read from storage proven against the newest checkpoint's block, which must
be younger than the trust file's limit; each attestation from its own receipt proof and
its record in that storage. A bundle field a proof contradicts is ``tampered: <field>``; a
proof that does not hold is ``tampered: proofs.<section>.<part>`` with the reason; a
checkpoint too old (or ahead of the clock) is UNVERIFIABLE, never VALID. The answer says
"as of block N, date": what the consortium signed, not what the chain says today.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_utils import event_abi_to_log_topic

from ledger.chain import BatchMember, load_artifact
from ledger.chain import verify_merkle_proof as verify_batch_proof
from ledger.cid import Cid
from ledger.doctypes import DOCUMENT_TYPES
from ledger.errors import InvalidInput, ProofInvalid, ProofStale
from ledger.flows.answers import (
    STATUS_THEN,
    Tampered,
    Verdict,
    Verification,
    bundle_fingerprint,
    cid_or_none,
    norm,
)
from ledger.flows.bundleproofs import BUNDLE_V2, status_slots
from ledger.index import AttestationView, DocumentView, Issuer, Origin
from ledger.proofs import (
    Anchor,
    Header,
    Log,
    ReceiptProof,
    StorageProof,
    TrustedCheckpoint,
    TrustFile,
    checksummed,
    decode_event,
    ledger_layout,
    read_string,
    verify_anchor,
    verify_event,
    verify_receipt,
    verify_storage,
)
from ledger.types import DocStatus, OrgKind
from ledger.types import Verdict as AttVerdict


class _Broken(Exception):
    """A proof that does not hold, named by the bundle section it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_bundle_offline(bundle: dict[str, Any], trust: TrustFile, now: int) -> Verification:
    """The verdict on a v2 ``bundle`` from its proofs alone, at time ``now`` (Unix seconds)."""
    sha256 = bundle_fingerprint(bundle)
    if bundle.get("version") != BUNDLE_V2 or not isinstance(bundle.get("proofs"), dict):
        return Verification(
            Verdict.UNVERIFIABLE,
            [
                "a version 1 bundle carries no proofs: check it against a node (--rpc) or get "
                "a version 2 bundle (`tradeledger evidence --prove`)"
            ],
            sha256,
        )
    chain, contract = bundle.get("chain_id"), str(bundle.get("contract", ""))
    if chain != trust.chain_id or norm(contract) != "0x" + trust.contract.hex():
        return Verification(
            Verdict.INVALID,
            [
                f"another chain or contract: the bundle names chain {chain}, contract "
                f"{contract}; the trust file is for chain {trust.chain_id}, contract "
                f"0x{trust.contract.hex()}"
            ],
            sha256,
        )
    check = _Offline(bundle, sha256, trust, now)
    try:
        record, attestations, as_of = check.run()
    except ProofStale as exc:
        return Verification(Verdict.UNVERIFIABLE, [f"checkpoint too old to rely on: {exc}"], sha256)
    except _Broken as exc:
        return Verification(
            Verdict.INVALID, [f"tampered: {exc.field}: {exc}"], sha256, tampered=[exc.field]
        )
    except (InvalidInput, KeyError, TypeError, ValueError) as exc:
        return Verification(
            Verdict.INVALID, [f"malformed bundle: {exc}"], sha256, tampered=["proofs"]
        )
    reasons = [str(t) for t in check.tampered] + check.problems
    when = (
        f"as of block {as_of.block_number} ({_date(as_of.timestamp)}, {_age(as_of.age)} before "
        f"this check), signed by {', '.join(as_of.signers)}"
    )
    if not reasons:
        reasons = [
            f"proven offline: registered by {record.issuer.name or record.issuer.key} at "
            f"{_date(record.registered_at or 0)}; {when}: not revoked or superseded"
        ]
    else:
        reasons.append(f"status {when}")
    return Verification(
        Verdict.INVALID if check.tampered or check.problems else Verdict.VALID,
        reasons,
        sha256,
        record,
        attestations,
        as_of_block=as_of.block_number,
        as_of_time=as_of.timestamp,
        tampered=[t.field for t in check.tampered],
    )


@cache
def _events() -> dict[str, Mapping[str, Any]]:
    abi = load_artifact("TradeDocumentLedger")["abi"]
    return {e["name"]: e for e in abi if e.get("type") == "event"}


def _topic(name: str) -> bytes:
    return bytes(event_abi_to_log_topic(dict(_events()[name])))  # type: ignore[arg-type]


@contextmanager
def _section(name: str) -> Iterator[None]:
    try:
        yield
    except ProofInvalid as exc:
        raise _Broken(f"proofs.{name}.{exc.part}", f"{exc.problem}: {exc}") from exc


class _Offline:
    def __init__(self, bundle: dict[str, Any], sha256: str, trust: TrustFile, now: int) -> None:
        self.bundle, self.sha256, self.trust, self.now = bundle, sha256, trust, now
        self.proofs: dict[str, Any] = bundle["proofs"]
        self.contract = trust.contract
        self.tampered: list[Tampered] = []
        self.problems: list[str] = []

    def differs(self, field: str, claimed: Any, actual: Any) -> None:
        if norm(claimed) != norm(actual):
            self.tampered.append(
                Tampered(field, f"the bundle says {claimed!r}, the proofs say {actual!r}")
            )

    def run(self) -> tuple[DocumentView, list[AttestationView], TrustedCheckpoint]:
        fp = bytes.fromhex(self.sha256)
        header, log, logs = self.event("registration", self.proofs["registration"])
        event = self.registration(fp, log, logs)
        claims = self.bundle.get("attestations") or []
        att_proofs = self.proofs.get("attestations") or []
        if len(att_proofs) != len(claims):
            raise _Broken("proofs.attestations", "not one proof per attestation of the bundle")
        att_events = [self.event(f"attestations[{i}]", p) for i, p in enumerate(att_proofs)]
        ids = [str(p.get("attestationId", "")) for p in att_proofs]
        keys = [event["issuer"]] + [
            decode_event(_events()["AttestationRecorded"], e[1])["attester"] for e in att_events
        ]
        as_of, values = self.status(fp, event["root"], keys, ids)
        lay = ledger_layout()
        at = header.timestamp
        issuer = self.issuer(values, event["issuer"])
        self.compare_issuer("issuer", self.bundle.get("issuer"), issuer)
        key_slot = lay.record_slot("_keys", event["issuer"])
        valid_from = lay.member("_keys", "validFrom").read(values, key_slot)
        valid_until = lay.member("_keys", "validUntil").read(values, key_slot)
        if issuer.kind not in ("exporter", "issuing_body") or not valid_from <= at < valid_until:
            self.problems.append(
                f"issuer not authorised at the time: key {issuer.key} was not an exporter's or "
                f"issuing body's key valid at {at}"
            )
        status = self.document_status(values, fp, event)
        self.differs("block_number", self.bundle.get("block_number"), header.number)
        self.differs("block_hash", self.bundle.get("block_hash"), "0x" + header.hash.hex())
        self.differs("registered_at", self.bundle.get("registered_at"), at)
        record = DocumentView(
            self.sha256,
            event["cid"],
            event["doc_type"],
            DOCUMENT_TYPES.get(event["doc_type"], "unknown"),
            event["ref"],
            event["metadata"],
            issuer,
            status,
            at,
            Origin(str(self.bundle.get("tx_hash")), header.number, "0x" + header.hash.hex(), None),
            "0x" + event["root"].hex() if event["root"] else None,
            list(self.bundle["batch"]["proof"]) if event["root"] else None,
        )
        attestations = [
            self.attestation(i, claim, ids[i], att_events[i], values)
            for i, claim in enumerate(claims)
        ]
        return record, attestations, as_of

    # ------------------------------------------------------------ proofs

    def event(self, name: str, proof: Mapping[str, Any]) -> tuple[Header, Log, tuple[Log, ...]]:
        """The trusted header of the proof's block, the event it points at, and all the logs
        of its receipt."""
        with _section(name):
            anchored = verify_anchor(Anchor.from_json(proof["anchor"]), self.trust, self.now, False)
            receipt = ReceiptProof.from_json(proof["receipt"])
            log = verify_event(receipt, anchored.header, self.contract, [])
            logs = verify_receipt(receipt, anchored.header).logs
        return anchored.header, log, logs

    def status(
        self, fp: bytes, root: bytes | None, keys: list[str], ids: list[str]
    ) -> tuple[TrustedCheckpoint, dict[int, int]]:
        proof = self.proofs["status"]
        with _section("status"):
            anchored = verify_anchor(Anchor.from_json(proof["anchor"]), self.trust, self.now)
            storage = StorageProof.from_json(proof["storage"])
            proven = verify_storage(storage, anchored.header, self.contract, [])

            def value(slot: int) -> int:
                if slot not in proven:
                    raise ProofInvalid("storage", "missing_slot", f"no proof of slot {hex(slot)}")
                return proven[slot]

            status_slots(value, fp, root, keys, ids)  # every slot the answer reads is proven
        return anchored.checkpoint, proven

    # ------------------------------------------------------------ the registration

    def registration(self, fp: bytes, log: Log, logs: tuple[Log, ...]) -> dict[str, Any]:
        b = self.bundle
        if log.topics and log.topics[0] == _topic("DocumentRegistered"):
            args = decode_event(_events()["DocumentRegistered"], log)
            if bytes(args["fingerprint"]) != fp:
                raise _Broken(
                    "proofs.registration.event", "the proven event registers another document"
                )
            if b.get("batch") is not None:
                self.tampered.append(
                    Tampered("batch", "the transaction registered the document alone, in no batch")
                )
            cid = str(Cid.from_bytes(bytes(args["cidPrefix"]) + bytes(args["cidDigest"])))
            metadata = None
            for other in logs:
                if other.address == self.contract and other.topics[:2] == (
                    _topic("DocumentMetadataAnchored"),
                    fp,
                ):
                    meta = decode_event(_events()["DocumentMetadataAnchored"], other)
                    metadata = cid_or_none(bytes(meta["metadataCid"]))
            event = {
                "issuer": str(args["issuer"]),
                "doc_type": int(args["docType"]),
                "cid": cid,
                "ref": str(args["consignmentRef"]),
                "metadata": metadata,
                "root": None,
            }
        elif log.topics and log.topics[0] == _topic("BatchAnchored"):
            event = self.batch(fp, decode_event(_events()["BatchAnchored"], log))
        else:
            raise _Broken(
                "proofs.registration.event",
                "the proven event is neither a registration nor a batch anchoring",
            )
        self.differs("doc_type", b.get("doc_type"), event["doc_type"])
        self.differs("cid", b.get("cid"), event["cid"])
        self.differs("consignment_ref", b.get("consignment_ref"), event["ref"])
        self.differs("metadata_cid", b.get("metadata_cid"), event["metadata"])
        return event

    def batch(self, fp: bytes, args: Mapping[str, Any]) -> dict[str, Any]:
        b, claimed = self.bundle, self.bundle.get("batch")
        if not isinstance(claimed, dict):
            raise _Broken("batch", "the proven transaction anchored a batch; the bundle names none")
        root = bytes(args["root"])
        self.differs("batch.root", claimed.get("root"), "0x" + root.hex())
        member = BatchMember(
            fp, int(b["doc_type"]), bytes(Cid.parse(str(b["cid"]))), str(b["consignment_ref"])
        )
        proof = [bytes.fromhex(str(h).removeprefix("0x")) for h in claimed["proof"]]
        if not verify_batch_proof(proof, root, member.leaf()):
            raise _Broken(
                "batch.member",
                "the Merkle proof does not place this fingerprint with the bundle's doc_type, "
                "cid and consignment_ref in the batch the proven transaction anchored",
            )
        return {
            "issuer": str(args["issuer"]),
            "doc_type": member.doc_type,
            "cid": str(Cid.parse(str(b["cid"]))),
            "ref": member.consignment_ref,
            "metadata": None,
            "root": root,
        }

    # ------------------------------------------------------------ status, issuers

    def document_status(self, values: dict[int, int], fp: bytes, event: Mapping[str, Any]) -> str:
        lay = ledger_layout()
        slot = lay.record_slot("_documents", fp)
        issuer = lay.member("_documents", "issuer").read(values, slot)
        doc_type = lay.member("_documents", "docType").read(values, slot)
        state = DocStatus(lay.member("_documents", "status").read(values, slot))
        batch_revoked = False
        if event["root"] is not None:
            batch_slot = lay.record_slot("_batches", event["root"])
            batch_revoked = bool(lay.member("_batches", "revoked").read(values, batch_slot))
        if state == DocStatus.NONE and event["root"] is None:
            raise _Broken("proofs.status.storage", "the proven state holds no record of it")
        if state != DocStatus.NONE and (
            issuer != int(event["issuer"], 16) or doc_type != event["doc_type"]
        ):
            self.problems.append(
                "issuer not authorised: the proven record of this document names another "
                "issuer or type than the registration"
            )
        if batch_revoked and state in (DocStatus.NONE, DocStatus.REGISTERED):
            state = DocStatus.REVOKED
        elif state == DocStatus.NONE:
            state = DocStatus.REGISTERED  # a batch member never recorded on its own
        then = str(self.bundle.get("status_when_issued", "registered"))
        if then not in STATUS_THEN[state]:
            self.tampered.append(
                Tampered(
                    "status_when_issued",
                    f"the bundle says {then!r}, the proofs say {state.name.lower()!r}",
                )
            )
        if state == DocStatus.REVOKED:
            self.problems.append("revoked (proven as of the checkpoint's block)")
        if state == DocStatus.SUPERSEDED:
            self.problems.append("superseded (proven as of the checkpoint's block)")
        return state.name.lower()

    def issuer(self, values: dict[int, int], key: str) -> Issuer:
        lay = ledger_layout()
        key_slot = lay.record_slot("_keys", key)
        org_id = lay.member("_keys", "orgId").read(values, key_slot)
        checksummed = _checksummed(key)
        if org_id == 0:
            return Issuer(checksummed, None, None, None, None)
        base = lay.record_slot("_organisations", org_id)
        name = read_string(base + lay.member("_organisations", "name").slot, values.__getitem__)
        country = lay.member("_organisations", "country").read(values, base)
        kind = lay.member("_organisations", "kind").read(values, base)
        return Issuer(
            checksummed,
            org_id,
            name.decode("utf-8", "replace"),
            country.to_bytes(2, "big").decode("ascii", "replace"),
            OrgKind(kind).name.lower(),
            lay.member("_keys", "validFrom").read(values, key_slot),
            lay.member("_keys", "validUntil").read(values, key_slot),
        )

    def compare_issuer(self, field: str, claimed: Any, actual: Issuer) -> None:
        claimed = claimed if isinstance(claimed, dict) else {}
        for name in ("key", "org_id", "name", "country", "kind"):
            self.differs(f"{field}.{name}", claimed.get(name), getattr(actual, name))

    def attestation(
        self,
        i: int,
        claim: Any,
        att_id: str,
        proven: tuple[Header, Log, tuple[Log, ...]],
        values: dict[int, int],
    ) -> AttestationView:
        field = f"attestations[{i}]"
        header, log, _ = proven
        if (
            not isinstance(claim, dict)
            or not log.topics
            or log.topics[0] != _topic("AttestationRecorded")
        ):
            raise _Broken(f"proofs.{field}.event", "the proven event is not an attestation")
        args = decode_event(_events()["AttestationRecorded"], log)
        if "0x" + bytes(args["id"]).hex() != norm(att_id) or bytes(args["fingerprint"]).hex() != (
            self.sha256
        ):
            raise _Broken(
                f"proofs.{field}.event", "the proven event attests another id or document"
            )
        lay = ledger_layout()
        slot = lay.record_slot("_attestations", att_id)
        revoked = bool(lay.member("_attestations", "revoked").read(values, slot))
        attested_at = lay.member("_attestations", "attestedAt").read(values, slot)
        verdict = AttVerdict(int(args["verdict"])).name.lower()
        attester = self.issuer(values, str(args["attester"]))
        self.differs(f"{field}.attestation_id", claim.get("attestation_id"), att_id)
        self.differs(f"{field}.fingerprint", claim.get("fingerprint"), self.sha256)
        self.differs(f"{field}.verdict", claim.get("verdict"), verdict)
        self.differs(f"{field}.customs_ref", claim.get("customs_ref"), args["customsRef"])
        self.differs(f"{field}.attested_at", claim.get("attested_at"), attested_at)
        self.compare_issuer(f"{field}.attester", claim.get("attester"), attester)
        if claim.get("revoked") and not revoked:
            self.tampered.append(
                Tampered(f"{field}.revoked", "the bundle says revoked, the proofs say not")
            )
        return AttestationView(
            norm(att_id),
            self.sha256,
            verdict,
            str(args["customsRef"]),
            attested_at,
            revoked,
            attester,
            Origin(
                str(claim.get("origin", {}).get("tx_hash")),
                header.number,
                "0x" + header.hash.hex(),
                None,
            ),
        )


def _checksummed(key: str) -> str:
    return checksummed(bytes.fromhex(key.removeprefix("0x")))


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{max(seconds, 0) // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
