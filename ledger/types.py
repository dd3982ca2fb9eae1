"""Plain types shared by the library: the contracts' enums and records as Python values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# The widths of the contract's integers: the largest value each field can hold.
MAX_ORG_ID = 2**32 - 1  # uint32 orgId
MAX_DOC_TYPE = 2**16 - 1  # uint16 docType
MAX_TIME = 2**40 - 1  # uint40 times (Unix seconds)


class OrgKind(IntEnum):
    NONE = 0
    EXPORTER = 1
    ISSUING_BODY = 2
    CUSTOMS = 3
    AUDITOR = 4


class DocStatus(IntEnum):
    NONE = 0
    REGISTERED = 1
    REVOKED = 2
    SUPERSEDED = 3


class Verdict(IntEnum):
    NONE = 0
    VERIFIED = 1
    CLEARED = 2
    HELD = 3
    REJECTED = 4


class RevocationReason(IntEnum):
    """Reason codes for revoking a document (uint8 on chain)."""

    UNSPECIFIED = 0
    ISSUED_IN_ERROR = 1
    CANCELLED = 2
    FRAUD_SUSPECTED = 3
    KEY_COMPROMISED = 4


@dataclass(frozen=True)
class Organisation:
    org_id: int
    name: str
    country: str
    kind: OrgKind


@dataclass(frozen=True)
class KeyInfo:
    key: str
    org_id: int
    kind: OrgKind
    valid_from: int
    valid_until: int
    nonce: int
    retired: bool = False

    def valid_at(self, t: int) -> bool:
        return self.org_id != 0 and self.valid_from <= t < self.valid_until


@dataclass(frozen=True)
class DocumentRecord:
    fingerprint: bytes
    issuer: str
    registered_at: int
    doc_type: int
    status: DocStatus


@dataclass(frozen=True)
class BatchRecord:
    root: bytes
    issuer: str
    anchored_at: int
    size: int
    revoked: bool = False


@dataclass(frozen=True)
class AttestationRecord:
    attestation_id: bytes
    attester: str
    attested_at: int
    verdict: Verdict
    revoked: bool
