"""Response and request bodies of the API (pydantic), built from the ledger's plain records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from api.pages.i18n import DEFAULT, doc_type_name
from ledger import times
from ledger.errors import InvalidInput
from ledger.index import AttestationView, DocumentView, HistoryEntry, Issuer
from ledger.types import MAX_ORG_ID, MAX_TIME


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
        description="registered, revoked, superseded, pending (not on chain yet, or being "
        "sent again because the chain lost its block), or needs_signature (a relayed request "
        "whose signed deadline passed before the chain took it: the issuer must sign and "
        "relay a new one)"
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
    tampered: list[str] = Field(
        default_factory=list,
        description="For an evidence bundle: the bundle's fields the chain contradicts "
        "(e.g. issuer.name, attestations[0].verdict, block_hash, batch), each also a reason "
        "'tampered: <field>: ...'",
    )


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


class BatchRevokedOut(BaseModel):
    """A batch after its revocation: every member's status, by fingerprint."""

    root: str
    size: int
    members: dict[str, str] = Field(
        description="fingerprint -> status of each member the index knows (revoked)"
    )


class RelayRequestIn(BaseModel):
    """The JSON of the relay's ``signed_request`` form field (not in the schema: a string
    there); out-of-range integers are refused by the checks of the request, which say
    which on-chain width they exceed."""

    issuer: str
    doc_type: int
    consignment_ref: str
    metadata_cid: str | None = None
    nonce: int
    deadline: int = Field(description="Unix time the request expires")
    signature: str = Field(description="0x-hex 65-byte EIP-712 signature by the issuer key")


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(
        min_length=2, max_length=2, pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. KZ"
    )
    kind: str = Field(description="exporter, issuing_body, customs or auditor")


UnixTime = Annotated[int, Field(ge=0, le=MAX_TIME)]


class EncryptionKeyIn(BaseModel):
    public_key: str | None = Field(
        default=None,
        max_length=66,
        description="The organisation's X25519 encryption public key, 64 hexadecimal digits; "
        "unset: the service generates one and keeps it (for an organisation it serves)",
    )


class RecipientsIn(BaseModel):
    organisations: list[Annotated[int, Field(ge=1, le=MAX_ORG_ID)]] = Field(
        min_length=1, max_length=100, description="Organisation ids to wrap the document's key for"
    )


class RecipientsOut(BaseModel):
    sha256: str
    recipients: list[int]


class KeyIn(BaseModel):
    address: str | None = Field(
        default=None,
        max_length=42,
        description="A key the organisation holds itself (0x…); unset: the service generates one",
    )
    valid_from: UnixTime | str | None = Field(
        default=None,
        description="Unix seconds, or an ISO 8601 time (without an offset: UTC); default a "
        "minute ago",
    )
    valid_until: UnixTime | str | None = Field(
        default=None, description="As valid_from; default in ten years"
    )

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _on_chain(cls, value: int | str | None) -> int | None:
        """Unix seconds that fit the contract's uint40."""
        if value is None:
            return None
        try:
            seconds = value if isinstance(value, int) else times.parse(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        if not 0 <= seconds <= MAX_TIME:
            raise ValueError(f"must be between 0 and {MAX_TIME} Unix seconds (1970 to 36812)")
        return seconds


class ApiKeyIn(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    role: str = Field(description="exporter, issuer, customs, auditor or admin")
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ORG_ID)
    signing_key: str | None = Field(
        default=None, description="Keystore name of the key to sign with"
    )


class Problem(BaseModel):
    """One thing wrong with a request, as the validation found it."""

    loc: list[str | int] = Field(description="Where: e.g. ['query', 'limit'] or ['body', 'sha256']")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The body of every error answer (4xx, 5xx)."""

    detail: str = Field(description="What went wrong and what to do about it")
    error: str = Field(description="The error's name, e.g. InvalidInput, NotFound, Unavailable")
    problems: list[Problem] | None = Field(
        default=None, description="422 from request validation: each problem found"
    )
    record: DocumentOut | None = Field(
        default=None, description="409 DocumentExists: the existing record"
    )


class ApiKeyOut(BaseModel):
    key_id: str
    label: str
    role: str
    organisation_id: int | None
    signing_key: str | None
    token: str | None = Field(default=None, description="Shown once, at creation")
