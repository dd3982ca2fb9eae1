"""An evidence bundle checked against the chain: every fact from the chain, none from the bundle.

``check_bundle`` reads what the chain says about the bundle's registration and compares the
bundle with it, field by field. The registration's type, reference, CID and issuer key come
from the event log of the bundle's transaction (its receipt), or, for a batch member, from
the Merkle proof against the root that the transaction anchored; the block number, hash and
time from the receipt's block; the issuer's organisation from ``getKey`` and
``getOrganisation``; each attestation from the event log of its own transaction and its
revocation from ``getAttestation``; the status from ``getDocument`` now. A field of the
bundle that disagrees is a ``Tampered`` reason naming the field (``tampered: issuer.name:
...``); the answer carries the chain's facts only, so a caller never prints a bundle's claim.
A bundle of another chain or contract than the trusted one is "another chain or contract".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from eth_typing import HexStr
from web3 import Web3
from web3.exceptions import TransactionNotFound

from ledger.chain import BatchMember, Registry
from ledger.chain import verify_merkle_proof as verify_proof
from ledger.cid import Cid
from ledger.doctypes import DOCUMENT_TYPES
from ledger.errors import InvalidInput
from ledger.flows.answers import STATUS_THEN as _STATUS_THEN
from ledger.flows.answers import Tampered
from ledger.flows.answers import cid_or_none as _cid_or_none
from ledger.flows.answers import norm as _norm
from ledger.index import AttestationView, DocumentView, Issuer, Origin
from ledger.types import DocStatus, OrgKind, Verdict


@dataclass(frozen=True)
class BundleCheck:
    """What the chain says, and where the bundle disagrees."""

    tampered: list[Tampered]
    problems: list[str]  # other reasons for INVALID: revoked, superseded, issuer not authorised
    record: DocumentView | None
    attestations: list[AttestationView]


class OtherDeployment(InvalidInput):
    """The bundle names another chain or contract than the one trusted."""


def check_bundle(
    bundle: dict[str, Any], sha256: str, w3: Web3, trusted: tuple[int, str] | None = None
) -> BundleCheck:
    """Compare ``bundle`` (of the document ``sha256``) with the chain behind ``w3``.

    ``trusted`` is the (chain id, contract address) of the ledger to trust; without it the
    bundle's contract is used, after checking that the endpoint is on the bundle's chain.
    Raises ``OtherDeployment`` for a bundle of another chain or contract, ``InvalidInput``
    for a malformed one; chain errors propagate (the caller answers UNVERIFIABLE).
    """
    chain_id = int(w3.eth.chain_id)
    claimed_chain, claimed_contract = _int(bundle, "chain_id"), _text(bundle, "contract")
    if trusted is not None and (
        claimed_chain != trusted[0] or claimed_contract.lower() != trusted[1].lower()
    ):
        raise OtherDeployment(
            f"another chain or contract: the bundle names chain {claimed_chain}, contract "
            f"{claimed_contract}; this ledger is chain {trusted[0]}, contract {trusted[1]}"
        )
    if claimed_chain != chain_id:
        raise OtherDeployment(
            f"another chain or contract: the bundle names chain {claimed_chain}, the endpoint "
            f"is on chain {chain_id}"
        )
    if not Web3.is_address(claimed_contract) or not w3.eth.get_code(
        Web3.to_checksum_address(claimed_contract)
    ):
        raise OtherDeployment(
            f"another chain or contract: no contract at {claimed_contract} on chain {chain_id}"
        )
    registry = Registry(w3, claimed_contract, chain_id=chain_id)
    return _Check(bundle, sha256, w3, registry).run()


class _Check:
    def __init__(self, bundle: dict[str, Any], sha256: str, w3: Web3, registry: Registry) -> None:
        self.bundle, self.sha256, self.w3, self.registry = bundle, sha256, w3, registry
        self.tampered: list[Tampered] = []
        self.problems: list[str] = []

    def differs(self, field: str, claimed: Any, actual: Any) -> None:
        if _norm(claimed) != _norm(actual):
            self.tampered.append(
                Tampered(field, f"the bundle says {claimed!r}, the chain says {actual!r}")
            )

    def run(self) -> BundleCheck:
        record = self.document()
        attestations = self.attestations(self.bundle.get("attestations"))
        return BundleCheck(self.tampered, self.problems, record, attestations)

    def document(self) -> DocumentView | None:
        """The registration as the chain has it (None when the bundle's transaction is not it)."""
        b, fp = self.bundle, bytes.fromhex(self.sha256)
        tx = b.get("tx_hash")
        if not _is_hash(tx):
            raise InvalidInput(f"the bundle's tx_hash must be 0x and 64 hex digits, not {tx!r}")
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexStr(tx))
        except TransactionNotFound:
            self.tampered.append(Tampered("tx_hash", "no such transaction on this chain"))
            return None
        block = self.w3.eth.get_block(receipt["blockNumber"])
        if block["hash"] != receipt["blockHash"]:  # the node's receipt is of a lost block
            raise RuntimeError("the registration's block is not in the canonical chain now")
        at = int(block["timestamp"])
        origin = self.registration(receipt, fp)
        if origin is None:
            return None
        key, doc_type, cid, ref, metadata, log_index, batch_root = origin
        self.differs("block_number", b.get("block_number"), int(receipt["blockNumber"]))
        self.differs("block_hash", b.get("block_hash"), block["hash"].to_0x_hex())
        self.differs("log_index", b.get("log_index"), log_index)
        self.differs("registered_at", b.get("registered_at"), at)

        issuer = self.issuer(key)
        self.compare_issuer("issuer", b.get("issuer"), issuer)
        if issuer.kind not in ("exporter", "issuing_body") or not self.registry.key_valid_at(
            key, at
        ):
            self.problems.append(
                f"issuer not authorised at the time: key {key} was not an exporter's or "
                f"issuing body's key valid at {at}"
            )
        status = self.status(self.registry.document(fp), key, doc_type, batch_root)
        return DocumentView(
            self.sha256,
            cid,
            doc_type,
            DOCUMENT_TYPES.get(doc_type, "unknown"),
            ref,
            metadata,
            issuer,
            status,
            at,
            Origin(
                receipt["transactionHash"].to_0x_hex(),
                int(receipt["blockNumber"]),
                block["hash"].to_0x_hex(),
                log_index,
            ),
            batch_root,
            list(b["batch"]["proof"]) if batch_root else None,
        )

    # ------------------------------------------------------------ the registration

    def registration(
        self, receipt: Any, fp: bytes
    ) -> tuple[str, int, str, str, str | None, int, str | None] | None:
        """(issuer key, type, CID, reference, metadata CID, log index, batch root) from the log."""
        b = self.bundle
        singles = [
            e
            for e in self.registry.events(receipt, "DocumentRegistered")
            if bytes(e["args"]["fingerprint"]) == fp
        ]
        batches = self.registry.events(receipt, "BatchAnchored")
        claimed_batch = b.get("batch")
        if singles:
            if claimed_batch is not None:
                self.tampered.append(
                    Tampered("batch", "the transaction registered the document alone, in no batch")
                )
            (event,) = singles[:1]
            args = event["args"]
            cid = str(Cid.from_bytes(bytes(args["cidPrefix"]) + bytes(args["cidDigest"])))
            metadata = None
            for m in self.registry.events(receipt, "DocumentMetadataAnchored"):
                if bytes(m["args"]["fingerprint"]) == fp:
                    metadata = _cid_or_none(bytes(m["args"]["metadataCid"]))
            self.differs("doc_type", b.get("doc_type"), int(args["docType"]))
            self.differs("cid", b.get("cid"), cid)
            self.differs("consignment_ref", b.get("consignment_ref"), args["consignmentRef"])
            self.differs("metadata_cid", b.get("metadata_cid"), metadata)
            return (
                str(args["issuer"]),
                int(args["docType"]),
                cid,
                str(args["consignmentRef"]),
                metadata,
                int(event["logIndex"]),
                None,
            )
        if not batches:
            self.tampered.append(
                Tampered("tx_hash", "the transaction registered neither this document nor a batch")
            )
            return None
        if not isinstance(claimed_batch, dict):
            self.tampered.append(
                Tampered("batch", "the transaction anchored a batch; the bundle names none")
            )
            return None
        event = batches[0]
        root = bytes(event["args"]["root"])
        self.differs("batch.root", claimed_batch.get("root"), "0x" + root.hex())
        try:
            member = BatchMember(
                fp,
                _int(b, "doc_type"),
                bytes(Cid.parse(_text(b, "cid"))),
                _text(b, "consignment_ref"),
            )
            proof = [bytes.fromhex(str(h).removeprefix("0x")) for h in claimed_batch["proof"]]
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            raise InvalidInput(f"malformed batch proof, type, CID or reference: {exc}") from exc
        if not verify_proof(proof, root, member.leaf()):
            self.tampered.append(
                Tampered(
                    "batch.member",
                    "the Merkle proof does not place this fingerprint with the bundle's doc_type, "
                    "cid and consignment_ref in the batch the transaction anchored",
                )
            )
            return None
        self.differs("metadata_cid", b.get("metadata_cid"), None)
        return (
            str(event["args"]["issuer"]),
            member.doc_type,
            str(Cid.parse(_text(b, "cid"))),
            member.consignment_ref,
            None,
            int(event["logIndex"]),
            "0x" + root.hex(),
        )

    def status(self, now: Any, key: str, doc_type: int, batch_root: str | None = None) -> str:
        """The document's status now; a record naming another issuer or type is a problem.
        A member of a batch revoked as a whole (``getBatch(root).revoked``) is revoked,
        recorded on its own before or not."""
        batch = self.registry.batch(bytes.fromhex(batch_root[2:])) if batch_root else None
        if (
            batch is not None
            and batch.revoked
            and (now is None or now.status == DocStatus.REGISTERED)
        ):
            status = DocStatus.REVOKED
        elif now is None:  # a batch member never recorded on its own: as anchored
            status = DocStatus.REGISTERED
        else:
            status = now.status
            if str(now.issuer).lower() != key.lower() or int(now.doc_type) != doc_type:
                self.problems.append(
                    f"issuer not authorised: the chain's record of this document names key "
                    f"{now.issuer} and type {now.doc_type}, not the registration's {key}, "
                    f"{doc_type}"
                )
        then = str(self.bundle.get("status_when_issued", "registered"))
        if then not in _STATUS_THEN[status]:
            self.tampered.append(
                Tampered(
                    "status_when_issued",
                    f"the bundle says {then!r}, the chain says {status.name.lower()!r} now",
                )
            )
        if status == DocStatus.REVOKED:
            self.problems.append("revoked since the registration (the chain says so now)")
        if status == DocStatus.SUPERSEDED:
            self.problems.append("superseded since the registration (the chain says so now)")
        return status.name.lower()

    # ------------------------------------------------------------ issuers

    def issuer(self, key: str) -> Issuer:
        info = self.registry.key_info(key)
        if info.org_id == 0:
            return Issuer(Web3.to_checksum_address(key), None, None, None, None)
        org = self.registry.organisation(info.org_id)
        return Issuer(
            Web3.to_checksum_address(key),
            info.org_id,
            org.name,
            org.country,
            OrgKind(org.kind).name.lower(),
            info.valid_from,
            info.valid_until,
        )

    def compare_issuer(self, field: str, claimed: Any, actual: Issuer) -> None:
        claimed = claimed if isinstance(claimed, dict) else {}
        for name, value in (
            ("key", actual.key),
            ("org_id", actual.org_id),
            ("name", actual.name),
            ("country", actual.country),
            ("kind", actual.kind),
        ):
            self.differs(f"{field}.{name}", claimed.get(name), value)

    # ------------------------------------------------------------ attestations

    def attestations(self, claimed: Any) -> list[AttestationView]:
        if claimed is None:
            return []
        if not isinstance(claimed, list):
            raise InvalidInput("the bundle's attestations must be a list")
        return [v for i, a in enumerate(claimed) if (v := self.attestation(i, a)) is not None]

    def attestation(self, i: int, a: Any) -> AttestationView | None:
        field = f"attestations[{i}]"
        if not isinstance(a, dict) or not isinstance(a.get("origin", {}), dict):
            raise InvalidInput(f"the bundle's {field} must be an object with an origin object")
        att_id = str(a.get("attestation_id", ""))
        tx = str(a.get("origin", {}).get("tx_hash", ""))
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexStr(tx)) if _is_hash(tx) else None
        except TransactionNotFound:
            receipt = None
        events = [
            e
            for e in (self.registry.events(receipt, "AttestationRecorded") if receipt else [])
            if "0x" + bytes(e["args"]["id"]).hex() == att_id.lower()
            and bytes(e["args"]["fingerprint"]).hex() == self.sha256
        ]
        stored = self.registry.attestation(bytes.fromhex(att_id[2:])) if _is_hash(att_id) else None
        if not events or stored is None:
            self.tampered.append(
                Tampered(field, "no such attestation of this document on chain (added or moved)")
            )
            return None
        args = events[0]["args"]
        verdict = Verdict(int(args["verdict"])).name.lower()
        attester = self.issuer(str(args["attester"]))
        self.differs(f"{field}.fingerprint", a.get("fingerprint"), self.sha256)
        self.differs(f"{field}.verdict", a.get("verdict"), verdict)
        self.differs(f"{field}.customs_ref", a.get("customs_ref"), args["customsRef"])
        self.differs(f"{field}.attested_at", a.get("attested_at"), int(stored.attested_at))
        self.compare_issuer(f"{field}.attester", a.get("attester"), attester)
        if a.get("revoked") and not stored.revoked:
            self.tampered.append(
                Tampered(f"{field}.revoked", "the bundle says revoked, the chain says not")
            )
        block = self.w3.eth.get_block(receipt["blockNumber"])  # type: ignore[index]
        return AttestationView(
            att_id.lower(),
            self.sha256,
            verdict,
            str(args["customsRef"]),
            int(stored.attested_at),
            bool(stored.revoked),  # the chain's word now, revoked after the bundle or not
            attester,
            Origin(
                tx.lower(),
                int(block["number"]),
                block["hash"].to_0x_hex(),
                int(events[0]["logIndex"]),
            ),
        )


def _is_hash(value: Any) -> TypeGuard[str]:
    """0x and 64 hex digits (a transaction or block hash, an attestation id)."""
    return (
        isinstance(value, str)
        and len(value) == 66
        and value.startswith("0x")
        and all(c in "0123456789abcdefABCDEF" for c in value[2:])
    )


def _int(bundle: dict[str, Any], name: str) -> int:
    value = bundle.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"the bundle's {name} must be an integer, not {value!r}")
    return value


def _text(bundle: dict[str, Any], name: str) -> str:
    value = bundle.get(name)
    if not isinstance(value, str):
        raise InvalidInput(f"the bundle's {name} must be text, not {value!r}")
    return value
