"""A verification as the pages show it: translated verdict, reasons, facts, history, attestations.

The verify page's script renders the same shape from the JSON of ``POST /v1/verify``; this
module renders it on the server for ``/v/{sha256}`` (scripts off) and for the slip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.pages.i18n import Translator
from ledger.flows import Verification

# English reason prefixes from ledger.flows.verify → catalogue keys (first match wins)
REASONS: list[tuple[str, str]] = [
    ("registered, not revoked", "reason.ok"),
    ("the chain confirms", "reason.ok"),
    ("unknown", "reason.unknown"),
    ("revoked", "reason.revoked"),
    ("superseded", "reason.superseded"),
    ("not on chain yet", "reason.pending"),
    ("issuer not authorised", "reason.issuer"),
    ("chain unreachable", "reason.chain"),
    ("cannot check", "reason.chain"),
    ("index is", "reason.lag"),
    ("tampered", "reason.tampered"),
    ("another chain or contract", "reason.deployment"),
]


def reason_key(reason: str) -> str:
    return next((key for prefix, key in REASONS if reason.startswith(prefix)), "reason.other")


@dataclass
class Attestation:
    office: str
    country: str
    verdict: str
    reference: str
    at: str
    revoked: bool


@dataclass
class ResultView:
    verdict: str  # VALID, INVALID, UNVERIFIABLE
    verdict_text: str
    verdict_help: str
    sha256: str
    reasons: list[tuple[str, str]]  # (translated, original English detail)
    facts: list[tuple[str, str]] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    registered: bool = False
    index_note: str = ""


def view(v: Verification, t: Translator) -> ResultView:
    """Translate a ``Verification`` for display."""
    verdict = v.verdict.value
    out = ResultView(
        verdict,
        t(f"verdict.{verdict}"),
        t(f"verdict.{verdict}.help"),
        v.sha256,
        [(t(reason_key(r)), r) for r in v.reasons],
    )
    rec = v.record
    if rec is not None:
        out.registered = rec.origin is not None
        issuer = rec.issuer
        out.facts = [
            (t("res.issuer"), issuer.name or issuer.key),
            (t("res.country"), issuer.country or ""),
            (
                t("res.doc_type"),
                f"{t.doc_type(rec.doc_type)} ({rec.doc_type})",
            ),
            (t("res.consignment"), rec.consignment_ref),
            (t("res.registered_at"), t.when(rec.registered_at)),
            (t("res.status"), t(f"status.{rec.status}")),
            (t("res.cid"), rec.cid),
        ]
        if rec.origin is not None:
            out.facts += [
                (t("res.tx"), rec.origin.tx_hash),
                (t("res.block"), str(rec.origin.block_number)),
            ]
    out.history = [(t.when(h.at), t(f"hist.{h.what}")) for h in v.history]
    out.attestations = [
        Attestation(
            a.attester.name or a.attester.key,
            a.attester.country or "",
            t(f"att.{a.verdict}"),
            a.customs_ref,
            t.when(a.attested_at),
            a.revoked,
        )
        for a in v.attestations
    ]
    if v.indexed_block is not None:
        out.index_note = t(
            "res.index",
            indexed=str(v.indexed_block),
            head=str(v.chain_head) if v.chain_head is not None else "—",
        )
    return out
