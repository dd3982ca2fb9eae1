"""What a caller sends: the checks every field passes before anything is stored or sent.

Each check returns the value in canonical form or raises ``InvalidInput`` with a message
that says what to send instead. ``Upload`` is one document of a request as the caller gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from ledger.errors import InvalidInput

MAX_REF_LENGTH = 128
DISCLOSABLE = ("country_of_origin", "country_of_destination", "hs_codes")


@dataclass(frozen=True)
class Upload:
    """One document of a request: its bytes and what the caller says about it."""

    source: BinaryIO | Iterable[bytes]
    doc_type: int
    consignment_ref: str
    metadata: dict[str, Any] | None = None
    recipients: Sequence[int] = ()  # organisation ids to seal for, besides the defaults
    disclose: Sequence[str] = ()  # metadata fields the auditors' index may keep (DISCLOSABLE)


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


def check_customs_ref(ref: str) -> str:
    if len(ref.encode()) > MAX_REF_LENGTH:
        raise InvalidInput(f"reference must be at most {MAX_REF_LENGTH} bytes")
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


def check_disclose(text: str | None) -> tuple[str, ...]:
    """Metadata field names, comma-separated, that the issuer discloses to auditors."""
    fields = tuple(dict.fromkeys(p for p in (text or "").replace(" ", "").split(",") if p))
    for name in fields:
        if name not in DISCLOSABLE:
            raise InvalidInput(
                f"disclose: {name!r} cannot be disclosed to auditors; choose among "
                f"{', '.join(DISCLOSABLE)}"
            )
    return fields


def disclosed_rows(metadata: dict[str, Any] | None, fields: Sequence[str]) -> list[tuple[str, str]]:
    """(field, value) pairs of ``metadata`` for the disclosed ``fields``; an HS code
    without its dots (``hs_code``). A field the metadata lacks is refused."""
    rows: list[tuple[str, str]] = []
    for name in fields:
        value = (metadata or {}).get(name)
        if value in (None, "", []):
            raise InvalidInput(
                f"disclose names {name}, but the metadata has none: add it to the metadata "
                "or leave it out of disclose"
            )
        if name == "hs_codes":
            rows += [("hs_code", str(code).replace(".", "")) for code in value]
        else:
            rows.append((name, str(value)))
    return list(dict.fromkeys(rows))
