"""The HTML pages: verify (``/`` and ``/v/{sha256}``), exporter, customs and auditor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import VerifierDep
from api.pages.render import page, translator
from api.pages.result import view
from ledger.doctypes import DOCUMENT_TYPES
from ledger.errors import InvalidInput
from ledger.flows import check_fingerprint

router = APIRouter(include_in_schema=False)

VERIFY_STRINGS = (
    "verify.",
    "verdict.",
    "reason.",
    "res.",
    "status.",
    "hist.",
    "att.",
    "doctype.",
    "err.",
)


def _doc_types(request: Request) -> list[tuple[int, str]]:
    t = translator(request)
    return [(code, t.doc_type(code)) for code in DOCUMENT_TYPES]


@router.get("/", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    """Verify a document: hashed in the browser, only the fingerprint is sent."""
    t = translator(request)
    return page(request, "verify.html", strings=t.subset(*VERIFY_STRINGS), result=None)


@router.get("/v", response_model=None)
def verify_form(request: Request, sha256: str = "") -> Response:
    """The no-script form: redirect to ``/v/{sha256}``."""
    value = sha256.strip().lower().removeprefix("0x")
    return RedirectResponse(f"/v/{value}" if value else "/", status_code=303)


@router.get("/v/{sha256}", response_class=HTMLResponse)
def verify_permalink(request: Request, sha256: str, verifier: VerifierDep) -> HTMLResponse:
    """The verification of one fingerprint, rendered here (works with scripts off; QR target)."""
    t = translator(request)
    strings = t.subset(*VERIFY_STRINGS)
    try:
        fingerprint = check_fingerprint(sha256.strip().lower())
    except InvalidInput:
        return page(
            request,
            "verify.html",
            422,
            strings=strings,
            result=None,
            error=t("verify.bad_hash"),
            typed=sha256,
        )
    result = view(verifier.fingerprint(fingerprint), t)
    return page(request, "verify.html", strings=strings, result=result, typed=fingerprint)


@router.get("/exporter", response_class=HTMLResponse)
def exporter_page(request: Request) -> HTMLResponse:
    """Register one document or a shipment, with upload progress."""
    t = translator(request)
    strings = t.subset("exporter.", "key.", "status.", "err.", "res.")
    return page(request, "exporter.html", strings=strings, doc_types=_doc_types(request))


@router.get("/customs", response_class=HTMLResponse)
def customs_page(request: Request) -> HTMLResponse:
    """Verify a presented document, then record an attestation."""
    t = translator(request)
    strings = t.subset(*VERIFY_STRINGS, "customs.", "key.")
    return page(request, "customs.html", strings=strings, result=None)


@router.get("/auditor", response_class=HTMLResponse)
def auditor_page(request: Request) -> HTMLResponse:
    """Filter the ledger, page through it, export CSV, see registrations per day."""
    t = translator(request)
    strings = t.subset("auditor.", "key.", "status.", "doctype.", "err.", "att.")
    return page(request, "auditor.html", strings=strings, doc_types=_doc_types(request))
