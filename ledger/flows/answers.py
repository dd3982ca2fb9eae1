"""What a verification answers, shared by the check against a chain and the offline one.

``Verification`` is the answer (``Verdict``, reasons, and only facts the checker itself
established); ``Tampered`` names a bundle field that the chain or a proof contradicts;
``bundle_fingerprint`` says which document an evidence bundle (version 1 or 2) is about.
Light on purpose: ``tradeledger verify --offline`` imports this, not web3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ledger.cid import Cid
from ledger.errors import InvalidInput
from ledger.flows.intake import check_fingerprint
from ledger.index import AttestationView, DocumentView, HistoryEntry
from ledger.types import DocStatus

BUNDLE_VERSION = 1
BUNDLE_VERSIONS = (1, 2)  # 2 adds offline proofs (ledger.flows.bundleproofs)

# what a bundle may say a document's status was when it was made, given the status now
STATUS_THEN = {
    DocStatus.REGISTERED: {"registered"},
    DocStatus.REVOKED: {"registered", "revoked"},
    DocStatus.SUPERSEDED: {"registered", "superseded"},
}


class Verdict(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    UNVERIFIABLE = "UNVERIFIABLE"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    reasons: list[str]
    sha256: str
    record: DocumentView | None = None
    attestations: list[AttestationView] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    indexed_block: int | None = None
    chain_head: int | None = None
    tampered: list[str] = field(default_factory=list)  # the bundle's fields the chain contradicts
    as_of_block: int | None = None  # offline: the checkpoint's block the status is proven at
    as_of_time: int | None = None  # and its time


@dataclass(frozen=True)
class Tampered:
    """A field of the bundle that the chain (or a proof) contradicts."""

    field: str  # stable, machine-readable: "issuer.name", "attestations[1].verdict", ...
    message: str

    def __str__(self) -> str:
        return f"tampered: {self.field}: {self.message}"


def bundle_fingerprint(bundle: dict[str, Any]) -> str:
    """The fingerprint an evidence bundle (version 1 or 2) is about."""
    if (
        not isinstance(bundle, dict)
        or bundle.get("version") not in BUNDLE_VERSIONS
        or "sha256" not in bundle
    ):
        raise InvalidInput(
            "not an evidence bundle: expected a JSON object with version 1 or 2 and sha256"
        )
    return check_fingerprint(str(bundle["sha256"]))


def norm(value: Any) -> Any:
    """Addresses and hex compare case-insensitively; everything else as it is."""
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value


def cid_or_none(raw: bytes) -> str | None:
    try:
        return str(Cid.parse(raw)) if raw else None
    except InvalidInput:
        return None
