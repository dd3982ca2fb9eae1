"""UN/EDIFACT 1001 document name codes that the ledger accepts, with their English names.

These English names are the one source of the English wording everywhere (API, CSV, CLI,
pages); the other languages name the same codes in ``api/pages/i18n/<lang>.json``.
"""

from __future__ import annotations

from ledger.errors import InvalidInput

DOCUMENT_TYPES: dict[int, str] = {
    3: "Certificate of quality",
    14: "Weight certificate",
    271: "Packing list",
    380: "Commercial invoice",
    705: "Bill of lading",
    720: "Rail consignment note (CIM/SMGS)",
    722: "SMGS road list",
    830: "Export goods declaration",
    851: "Phytosanitary certificate",
    852: "Sanitary certificate",
    853: "Veterinary certificate",
    856: "Inspection certificate",
    861: "Certificate of origin",
    864: "Preferential certificate of origin",
    929: "Import goods declaration",
    950: "Customs transit declaration",
    952: "TIR carnet",
}


def check_doc_type(code: int) -> int:
    """``code`` if it is a known UN/EDIFACT 1001 code; ``InvalidInput`` listing them otherwise."""
    if code not in DOCUMENT_TYPES:
        known = ", ".join(f"{c} {n.lower()}" for c, n in DOCUMENT_TYPES.items())
        raise InvalidInput(f"unknown document type {code}: use a UN/EDIFACT 1001 code ({known})")
    return code
