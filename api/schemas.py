"""Response and request bodies of the API (pydantic), built from the ledger's plain records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.pages.i18n import DEFAULT, doc_type_name
from ledger.index import AttestationView, DocumentView, HistoryEntry, Issuer


def _time(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


class IssuerOut(BaseModel):
    key: str
    organisation_id: int | None
    organisation: str | None
    country: str | None
    kind: str | None

    @classmethod
    def of(cls, i: Issuer) -> IssuerOut:
        return cls(
            key=i.key, organisation_id=i.org_id, organisation=i.name, country=i.country, kind=i.kind
        )


class DocumentOut(BaseModel):
    sha256: str = Field(description="SHA-256 of the file's exact bytes (hex)")
    cid: str = Field(description="IPFS CIDv1 (base32)")
    doc_type: int = Field(description="UN/EDIFACT 1001 document name code (the stable field)")
    doc_type_name: str = Field(
        description="The document type's name in the answer's language (?lang= or "
        "Accept-Language; English by default)"
    )
    consignment_ref: str
    metadata_cid: str | None
    issuer: IssuerOut
    status: str = Field(
        description="registered, revoked, superseded, or pending (not on chain yet)"
    )
    tx_hash: str | None
    block_number: int | None
    log_index: int | None
    registered_at: datetime | None
    batch_root: str | None = None
    merkle_proof: list[str] | None = None
    superseded_by: str | None = None
    supersedes: str | None = None
    revoked_reason: int | None = None

    @classmethod
    def of(cls, d: DocumentView, lang: str = DEFAULT) -> DocumentOut:
        return cls(
            sha256=d.sha256,
            cid=d.cid,
            doc_type=d.doc_type,
            doc_type_name=doc_type_name(d.doc_type, lang),
            consignment_ref=d.consignment_ref,
            metadata_cid=d.metadata_cid,
            issuer=IssuerOut.of(d.issuer),
            status=d.status,
            tx_hash=d.origin.tx_hash if d.origin else None,
            block_number=d.origin.block_number if d.origin else None,
            log_index=d.origin.log_index if d.origin else None,
            registered_at=_time(d.registered_at),
            batch_root=d.batch_root,
            merkle_proof=d.merkle_proof,
            superseded_by=d.superseded_by,
            supersedes=d.supersedes,
            revoked_reason=d.revoked_reason,
        )


class AttestationOut(BaseModel):
    attestation_id: str
    sha256: str
    verdict: str
    reference: str
    attested_at: datetime | None
    revoked: bool
    attester: IssuerOut
    tx_hash: str

    @classmethod
    def of(cls, a: AttestationView) -> AttestationOut:
        return cls(
            attestation_id=a.attestation_id,
            sha256=a.fingerprint,
            verdict=a.verdict,
            reference=a.customs_ref,
            attested_at=_time(a.attested_at),
            revoked=a.revoked,
            attester=IssuerOut.of(a.attester),
            tx_hash=a.origin.tx_hash,
        )


class HistoryOut(BaseModel):
    at: datetime | None
    what: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, h: HistoryEntry) -> HistoryOut:
        return cls(at=_time(h.at), what=h.what, detail=h.detail)


class DocumentDetailsOut(BaseModel):
    record: DocumentOut
    history: list[HistoryOut]
    attestations: list[AttestationOut]


class BatchOut(BaseModel):
    root: str
    manifest_cid: str
    status: str
    documents: list[DocumentOut]


class VerifyRequest(BaseModel):
    sha256: str | None = Field(default=None, description="The document's SHA-256 (hex)")
    bundle: dict[str, Any] | None = Field(default=None, description="An evidence bundle")


class VerificationOut(BaseModel):
    verdict: str = Field(description="VALID, INVALID or UNVERIFIABLE")
    reasons: list[str]
    sha256: str
    record: DocumentOut | None
    issuer: IssuerOut | None
    attestations: list[AttestationOut]
    history: list[HistoryOut]
    indexed_block: int | None
    chain_head: int | None


class AttestRequest(BaseModel):
    verdict: str = Field(description="verified, cleared, held or rejected")
    reference: str = Field(
        default="", max_length=128, description="Customs reference, e.g. a declaration number"
    )


class RevokeRequest(BaseModel):
    reason: str = Field(
        default="unspecified",
        description="unspecified, issued_in_error, cancelled, fraud_suspected, key_compromised",
    )


class RelayRequestIn(BaseModel):
    issuer: str
    doc_type: int
    consignment_ref: str
    metadata_cid: str | None = None
    nonce: int
    deadline: int
    signature: str = Field(description="0x-hex 65-byte EIP-712 signature by the issuer key")


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(
        min_length=2, max_length=2, pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. KZ"
    )
    kind: str = Field(description="exporter, issuing_body, customs or auditor")


class KeyIn(BaseModel):
    valid_from: int | None = Field(
        default=None, ge=0, le=2**40 - 1, description="Unix time; default now"
    )
    valid_until: int | None = Field(
        default=None, ge=0, le=2**40 - 1, description="Unix time; default in ten years"
    )


class ApiKeyIn(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    role: str = Field(description="exporter, issuer, customs, auditor or admin")
    organisation_id: int | None = Field(default=None, ge=1, le=2**32 - 1)
    signing_key: str | None = Field(
        default=None, description="Keystore name of the key to sign with"
    )


class ApiKeyOut(BaseModel):
    key_id: str
    label: str
    role: str
    organisation_id: int | None
    signing_key: str | None
    token: str | None = Field(default=None, description="Shown once, at creation")
