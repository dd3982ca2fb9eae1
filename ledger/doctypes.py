"""UN/EDIFACT 1001 document name codes that the ledger accepts, with their English names."""

from __future__ import annotations

from ledger.errors import InvalidInput

DOCUMENT_TYPES: dict[int, str] = {
    3: "Certificate of quality",
    14: "Weight certificate",
    271: "Packing list",
    380: "Commercial invoice",
    705: "Bill of lading",
    720: "Rail consignment note (CIM/SMGS)",
    722: "Road list-SMGS",
    830: "Goods declaration for exportation",
    851: "Phytosanitary certificate",
    852: "Sanitary certificate",
    853: "Veterinary certificate",
    856: "Inspection certificate",
    861: "Certificate of origin",
    864: "Preference certificate of origin",
    929: "Goods declaration for importation",
    950: "Goods declaration for customs transit",
    952: "TIR carnet",
}


def check_doc_type(code: int) -> int:
    """``code`` if it is a known UN/EDIFACT 1001 code; ``InvalidInput`` listing them otherwise."""
    if code not in DOCUMENT_TYPES:
        known = ", ".join(f"{c} {n.lower()}" for c, n in DOCUMENT_TYPES.items())
        raise InvalidInput(f"unknown document type {code}: use a UN/EDIFACT 1001 code ({known})")
    return code
