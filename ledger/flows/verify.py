"""Verification: is this the registered document, and is it still good?

``Verifier`` answers from the index, and says ``UNVERIFIABLE`` whenever it cannot be sure:
the chain has not answered lately, or the index trails the chain head by more than the
configured lag. An outage is never reported as ``INVALID``. ``evidence_bundle`` packs what
anyone needs to re-check a document later against any RPC endpoint of the chain, and
``check_bundle_on_chain`` does that re-check without this service or its database (the
comparison itself, field by field, is ``ledger.flows.bundlecheck``); ``Verifier.bundle``
runs the same check against the chain the service trusts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from typing import Any

from web3 import Web3

from ledger.errors import ChainUnavailable, InvalidInput, LedgerError, Unavailable
from ledger.flows.answers import BUNDLE_VERSION, Verdict, Verification, bundle_fingerprint
from ledger.flows.bundlecheck import OtherDeployment, check_bundle
from ledger.flows.finality import require_final
from ledger.flows.reconcile import unconfirmed
from ledger.flows.runtime import Runtime
from ledger.index import AttestationView, DocumentView, records
from ledger.types import RevocationReason


class Verifier:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def _freshness(self) -> tuple[list[str], int | None, int | None]:
        """Reasons the answer cannot be trusted right now (empty if it can)."""
        indexed, head = self.rt.health.indexed, self.rt.chain_head()
        if not self.rt.chain_ok():
            return [f"chain unreachable: {self.rt.chain_problem()}"], indexed, None
        if head - indexed > self.rt.settings.index_max_lag:
            return [f"index is {head - indexed} blocks behind the chain head"], indexed, head
        return [], indexed, head

    def fingerprint(self, sha256: str) -> Verification:
        found = self.lookup(sha256)
        if found is not None:
            return found
        try:
            self.rt.catch_up()  # a registration may have been mined a moment ago
        except Unavailable as exc:
            return Verification(
                Verdict.UNVERIFIABLE, [str(exc)], sha256, indexed_block=self.rt.health.indexed
            )
        stale, indexed, head = self._freshness()
        record, atts = records.document_and_attestations(self.rt.engine, sha256)
        return self._answer(sha256, record, atts, stale, indexed, head)

    def lookup(self, sha256: str) -> Verification | None:
        """The answer from the index alone (two point reads, no chain call), or None when the
        fingerprint is unknown while the index is fresh: then ``fingerprint`` syncs the index
        first, since a registration may have been mined a moment ago."""
        stale, indexed, head = self._freshness()
        record, atts = records.document_and_attestations(self.rt.engine, sha256)
        if record is None and not stale:
            return None
        return self._answer(sha256, record, atts, stale, indexed, head)

    def _answer(
        self,
        sha256: str,
        record: DocumentView | None,
        atts: list[AttestationView],
        stale: list[str],
        indexed: int | None,
        head: int | None,
    ) -> Verification:
        if stale:
            return Verification(
                Verdict.UNVERIFIABLE, stale, sha256, record, indexed_block=indexed, chain_head=head
            )
        record = self._as_chain_holds(record)
        if record is None:
            return Verification(
                Verdict.INVALID,
                [
                    "unknown: no document with this fingerprint is registered (or the file was altered)"
                ],
                sha256,
                indexed_block=indexed,
                chain_head=head,
            )
        reasons = judge(record)
        verdict = Verdict.INVALID if reasons else Verdict.VALID
        return Verification(
            verdict,
            reasons or ["registered, not revoked or superseded, by a key valid at the time"],
            sha256,
            record,
            atts,
            records.history(record, atts),
            indexed,
            head,
        )

    def _as_chain_holds(self, record: DocumentView | None) -> DocumentView | None:
        """``record``, pending while its write (or its batch's) is being sent again or was
        mined before the chain was disrupted and is not re-checked yet: the index may still
        hold a block the chain lost."""
        if record is None:
            return None
        for subject in (record.sha256, record.batch_root):
            job = self.rt.outbox.latest(subject) if subject else None
            if job is not None and unconfirmed(self.rt, job):
                return replace(record, status="pending", registered_at=None, origin=None)
        return record

    def bundle(self, bundle: dict[str, Any], file_sha256: str | None = None) -> Verification:
        """Check an evidence bundle (and, if given, the presented file's hash) against the
        chain this service trusts: the same check as ``tradeledger verify --bundle --rpc``."""
        claimed = bundle_fingerprint(bundle)
        if file_sha256 is not None and file_sha256 != claimed:
            return Verification(
                Verdict.INVALID,
                ["tampered: sha256: the file's SHA-256 differs from the bundle's"],
                file_sha256,
                tampered=["sha256"],
            )
        if not self.rt.chain_ok():
            return Verification(
                Verdict.UNVERIFIABLE, [f"chain unreachable: {self.rt.chain_problem()}"], claimed
            )
        registry = self.rt.registry
        return check_bundle_on_chain(bundle, self.rt.w3, (registry.chain_id, registry.address))

    def evidence_bundle(self, sha256: str) -> dict[str, Any]:
        result = self.fingerprint(sha256)
        if result.record is None and result.verdict == Verdict.UNVERIFIABLE:
            raise ChainUnavailable("; ".join(result.reasons))
        if result.record is None or result.record.origin is None:
            raise InvalidInput(f"document {sha256} is not registered on chain: no evidence to give")
        record, origin = result.record, result.record.origin
        require_final(self.rt, origin.block_number, f"the registration of {sha256}")
        for att in result.attestations:
            require_final(self.rt, att.origin.block_number, f"attestation {att.attestation_id}")
        return {
            "version": BUNDLE_VERSION,
            "sha256": record.sha256,
            "cid": record.cid,
            "doc_type": record.doc_type,
            "consignment_ref": record.consignment_ref,
            "metadata_cid": record.metadata_cid,
            "chain_id": self.rt.registry.chain_id,
            "contract": self.rt.registry.address,
            "tx_hash": origin.tx_hash,
            "block_number": origin.block_number,
            "block_hash": origin.block_hash,
            "log_index": origin.log_index,
            "batch": {"root": record.batch_root, "proof": record.merkle_proof}
            if record.batch_root
            else None,
            "issuer": asdict(record.issuer),
            "registered_at": record.registered_at,
            "status_when_issued": record.status,
            "attestations": [asdict(a) for a in result.attestations],
            "generated_at": int(time.time()),
        }


def judge(record: DocumentView) -> list[str]:
    """Reasons a registered document is not valid (empty when it is)."""
    reasons = []
    if record.status == "revoked":
        name = RevocationReason(record.revoked_reason or 0).name.lower().replace("_", " ")
        reasons.append(f"revoked: {name} (by {record.revoked_by})")
    if record.status == "superseded":
        reasons.append(f"superseded by the amended document {record.superseded_by}")
    if record.status == "pending":
        reasons.append("not on chain yet: the registration is still pending")
    if record.status == "needs_signature":
        reasons.append(
            "not on chain yet: the relayed request expired before the chain took it; its "
            "issuer must sign a new one"
        )
    issuer = record.issuer
    at = record.registered_at or 0
    if issuer.org_id is None or issuer.kind not in ("exporter", "issuing_body"):
        reasons.append(
            f"issuer not authorised: key {issuer.key} is not an exporter's or issuing body's"
        )
    elif issuer.key_valid_from is not None and not (
        issuer.key_valid_from <= at < (issuer.key_valid_until or 0)
    ):
        reasons.append(f"issuer not authorised at the time: key {issuer.key} was not valid at {at}")
    return reasons


def check_bundle_on_chain(
    bundle: dict[str, Any], w3: Web3, trusted: tuple[int, str] | None = None
) -> Verification:
    """Re-verify an evidence bundle against any RPC endpoint of the chain, with no index.

    Every fact of the answer is the chain's (``ledger.flows.bundlecheck``); a field of the
    bundle that the chain contradicts makes it INVALID, "tampered: <field>". ``trusted`` is
    the (chain id, contract) of the ledger to trust: a bundle of another is INVALID.
    """
    sha256 = bundle_fingerprint(bundle)
    try:
        checked = check_bundle(bundle, sha256, w3, trusted)
    except OtherDeployment as exc:
        return Verification(Verdict.INVALID, [str(exc)], sha256)
    except LedgerError:
        raise
    except Exception as exc:
        return Verification(
            Verdict.UNVERIFIABLE, [f"cannot check against the chain: {exc}"], sha256
        )
    reasons = [str(t) for t in checked.tampered] + checked.problems
    return Verification(
        Verdict.INVALID if reasons else Verdict.VALID,
        reasons or ["the chain confirms the bundle: every fact shown is read from the chain"],
        sha256,
        checked.record,
        checked.attestations,
        tampered=[t.field for t in checked.tampered],
    )
