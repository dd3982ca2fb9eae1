"""/v1/documents: register (single, batch, relayed), read, content, evidence, revoke, supersede."""

from __future__ import annotations

import json
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.batchupload import receive_batch
from api.deps import ActorDep, DocumentsDep, LangDep, VerifierDep
from api.errors import documented
from api.schemas import (
    AttestationOut,
    AttestRequest,
    BatchOut,
    BatchRevokedOut,
    DocumentDetailsOut,
    DocumentOut,
    HistoryOut,
    RecipientsIn,
    RecipientsOut,
    RelayRequestIn,
    RevokeRequest,
)
from ledger.chain import RegisterRequest
from ledger.cid import Cid
from ledger.content import Fingerprint, hash_stream
from ledger.errors import InvalidInput
from ledger.flows import (
    Actor,
    Documents,
    TooLarge,
    Upload,
    check_disclose,
    check_fingerprint,
    check_recipients,
)
from ledger.types import MAX_DOC_TYPE, RevocationReason, Verdict

router = APIRouter(prefix="/v1/documents", tags=["documents"])

DocType = Annotated[
    int,
    Form(ge=0, le=MAX_DOC_TYPE, description="UN/EDIFACT 1001 code, e.g. 861 certificate of origin"),
]
ConsignmentRef = Annotated[
    str, Form(description="Shipment reference, e.g. the SMGS consignment note number")
]
Metadata = Annotated[
    str | None, Form(description="JSON object: exporter, consignee, countries, HS codes…")
]
Disclose = Annotated[
    str | None,
    Form(
        description="Metadata fields (comma-separated) the auditors' index may keep in the "
        "clear so auditors can filter by them: country_of_origin, country_of_destination, "
        "hs_codes"
    ),
]
Recipients = Annotated[
    str | None,
    Form(
        description="Organisation ids (comma-separated) the document is also sealed for, "
        "besides the issuer's own organisation and the gateway's corridor recipients"
    ),
]


def _metadata(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"metadata is not valid JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(value, dict):
        raise InvalidInput("metadata must be a JSON object")
    return value


def check_length(request: Request) -> None:
    """Refuse an oversized upload before reading it, when the client says its length."""
    limit = request.app.state.runtime.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise TooLarge(
            f"the upload is {length} bytes, over the limit of {limit}: send a smaller document"
        )


# what a registration can answer besides its 201
REGISTERS: dict[int | str, dict[str, Any]] = {
    202: {"model": DocumentOut, "description": "Accepted and durable; on chain soon"},
    **documented(401, 403, 409, 413, 422, 503),
}


def _answer(body: DocumentOut | BatchOut, created: bool) -> Response:
    """201 (on chain) or 202 (durable, pending), serialised by pydantic-core in one step."""
    code = status.HTTP_201_CREATED if created else status.HTTP_202_ACCEPTED
    return Response(body.model_dump_json(), status_code=code, media_type="application/json")


@router.post(
    "",
    status_code=201,
    response_model=DocumentOut,
    responses=REGISTERS,
)
def register(
    request: Request,
    docs: DocumentsDep,
    actor: ActorDep,
    lang: LangDep,
    file: Annotated[UploadFile, File()],
    doc_type: DocType,
    consignment_ref: ConsignmentRef,
    metadata: Metadata = None,
    recipients: Recipients = None,
    disclose: Disclose = None,
) -> Response:
    """Register one document: its bytes are stored sealed (only its recipient organisations
    can read them), fingerprinted and notarised on chain."""
    check_length(request)
    upload = Upload(
        file.file,
        doc_type,
        consignment_ref,
        _metadata(metadata),
        check_recipients(recipients),
        check_disclose(disclose),
    )
    result = docs.register(actor, upload)
    return _answer(DocumentOut.of(result.record, lang), result.created)


BATCH_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files", "doc_type", "consignment_ref"],
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "doc_type": {
                            "type": "array",
                            "items": {"type": "integer", "minimum": 0, "maximum": MAX_DOC_TYPE},
                            "description": "One UN/EDIFACT 1001 code per file, or one for all",
                        },
                        "consignment_ref": {
                            "type": "string",
                            "description": "Shipment reference, e.g. the SMGS consignment note number",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/batch",
    status_code=201,
    response_model=BatchOut,
    responses={
        202: {"model": BatchOut, "description": "Stored and durable; anchored on chain soon"},
        **documented(401, 403, 409, 413, 422, 503),
    },
    openapi_extra=BATCH_FORM,
)
async def register_batch(
    request: Request, docs: DocumentsDep, actor: ActorDep, lang: LangDep
) -> Response:
    """Register many files at once under one Merkle root; each answer carries its proof.

    The files are stored while the body still uploads (``api.batchupload``)."""
    check_length(request)
    form = await receive_batch(request, partial(docs.store_batch, actor))
    types = [_int_field("doc_type", v) for v in form.fields.get("doc_type", [])]
    refs = form.fields.get("consignment_ref", [])
    if not types or len(refs) != 1:
        raise InvalidInput("give doc_type (one, or one per file) and one consignment_ref")
    return await run_in_threadpool(_anchor, docs, actor, form.stored, types, refs[0], lang)


def _anchor(
    docs: Documents,
    actor: Actor | None,
    stored: list[Fingerprint],
    types: list[int],
    ref: str,
    lang: str,
) -> Response:
    """Anchor the stored files and build the answer (hundreds of records: off the loop)."""
    result = docs.anchor_batch(actor, stored, types, ref)
    body = BatchOut(
        root=result.root,
        manifest_cid=result.manifest_cid,
        status="anchored" if result.created else "pending",
        documents=[DocumentOut.of(r, lang) for r in result.records],
    )
    return _answer(body, result.created)


def _int_field(name: str, value: str, high: int = MAX_DOC_TYPE) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {value[:40]!r}") from None
    if not 0 <= number <= high:
        raise InvalidInput(f"{name} must be between 0 and {high}, not {number}")
    return number


@router.post(
    "/relay",
    status_code=201,
    response_model=DocumentOut,
    responses=REGISTERS,
)
def relay(
    request: Request,
    docs: DocumentsDep,
    actor: ActorDep,
    lang: LangDep,
    file: Annotated[UploadFile, File()],
    signed_request: Annotated[
        str,
        Form(
            description="JSON: issuer, doc_type, consignment_ref, metadata_cid, nonce, deadline, signature"
        ),
    ],
) -> Response:
    """Relay an exporter's EIP-712 signed registration; the service pays the gas."""
    check_length(request)
    try:
        req = RelayRequestIn.model_validate_json(signed_request)
        signature = bytes.fromhex(req.signature.removeprefix("0x"))
    except ValueError as exc:
        raise InvalidInput(f"signed_request is not a valid signed request: {exc}") from exc
    fingerprint = hash_stream(file.file)
    file.file.seek(0)
    request_obj = RegisterRequest(
        req.issuer,
        fingerprint.sha256_bytes,
        req.doc_type,
        fingerprint.cid_bytes,
        req.consignment_ref,
        bytes(Cid.parse(req.metadata_cid)) if req.metadata_cid else b"",
        req.nonce,
        req.deadline,
    )
    result = docs.relay(
        actor, Upload(file.file, req.doc_type, req.consignment_ref), request_obj, signature
    )
    return _answer(DocumentOut.of(result.record, lang), result.created)


@router.get("/{sha256}", response_model=DocumentDetailsOut, responses=documented(404, 422))
def get_document(sha256: str, docs: DocumentsDep, lang: LangDep) -> DocumentDetailsOut:
    """A document's record, history (supersessions, revocations) and attestations."""
    details = docs.get(sha256)
    return DocumentDetailsOut(
        record=DocumentOut.of(details.record, lang),
        history=[HistoryOut.of(h) for h in details.history],
        attestations=[AttestationOut.of(a) for a in details.attestations],
    )


@router.post(
    "/{sha256}/recipients",
    response_model=RecipientsOut,
    responses=documented(401, 403, 404, 422, 503),
)
def add_recipients(
    sha256: str, body: RecipientsIn, docs: DocumentsDep, actor: ActorDep
) -> RecipientsOut:
    """The issuing organisation wraps the document's key for more organisations; nothing is
    uploaded again and the CID stays. (A removed recipient just gets no new wraps.)"""
    sha = check_fingerprint(sha256)
    return RecipientsOut(sha256=sha, recipients=docs.add_recipients(actor, sha, body.organisations))


@router.get(
    "/{sha256}/sealed",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **documented(401, 403, 404, 422, 502, 503),
    },
)
def sealed(sha256: str, docs: DocumentsDep, actor: ActorDep) -> StreamingResponse:
    """The stored sealed object (what the CID names), for a recipient to decrypt itself
    (`tradeledger content get ... --key`); anyone may fetch the same bytes from IPFS."""
    chunks = docs.sealed(actor, sha256)
    return StreamingResponse(chunks, media_type="application/octet-stream")


@router.get("/{sha256}/envelope", responses=documented(401, 403, 404, 422, 503))
def envelope(sha256: str, docs: DocumentsDep, actor: ActorDep) -> dict[str, Any]:
    """The document's key wrapped for each recipient organisation (docs/confidential.md)."""
    return docs.envelope(actor, sha256)


@router.get("/{sha256}/metadata", responses=documented(401, 403, 404, 422, 502, 503))
def metadata_of(sha256: str, docs: DocumentsDep, actor: ActorDep) -> dict[str, Any]:
    """The metadata JSON the issuer sent, decrypted for a recipient organisation."""
    return docs.metadata(actor, sha256)


@router.get(
    "/{sha256}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **documented(401, 403, 404, 422, 502, 503),
    },
)
def content(sha256: str, docs: DocumentsDep, actor: ActorDep) -> StreamingResponse:
    """The document's plain bytes, decrypted for a caller whose organisation is one of its
    recipients (403 naming why for others); checked against the fingerprint first."""
    chunks = docs.content(actor, sha256)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{check_fingerprint(sha256)}"'},
    )


@router.get(
    "/{sha256}/evidence",
    responses={
        200: {
            "description": "The evidence bundle (version 1)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **documented(422, 425, 503),
    },
)
def evidence(sha256: str, verifier: VerifierDep) -> Response:
    """The evidence bundle: everything needed to re-verify the document against any node.

    It names only final blocks: before its registration's (or an attestation's) block is
    final, the answer is 425 with Retry-After, the seconds after which to ask again."""
    bundle = verifier.evidence_bundle(check_fingerprint(sha256))
    return JSONResponse(
        bundle,
        headers={"Content-Disposition": f'attachment; filename="{bundle["sha256"]}.evidence.json"'},
    )


@router.post(
    "/{sha256}/revoke",
    response_model=DocumentOut,
    responses=documented(401, 403, 404, 409, 422, 503),
)
def revoke(
    sha256: str, body: RevokeRequest, docs: DocumentsDep, actor: ActorDep, lang: LangDep
) -> DocumentOut:
    """Revoke a document (its issuing organisation or the consortium admin)."""
    try:
        reason = RevocationReason[body.reason.upper()]
    except KeyError:
        raise InvalidInput(
            f"unknown reason {body.reason!r}: use one of {', '.join(r.name.lower() for r in RevocationReason)}"
        ) from None
    return DocumentOut.of(docs.revoke(actor, sha256, reason), lang)


@router.post(
    "/batches/{root}/revoke",
    response_model=BatchRevokedOut,
    responses=documented(401, 403, 404, 409, 422, 503),
)
def revoke_batch(
    root: str, body: RevokeRequest, docs: DocumentsDep, actor: ActorDep
) -> BatchRevokedOut:
    """Revoke every member of a batch in one transaction (its issuing organisation or the
    consortium admin)."""
    try:
        reason = RevocationReason[body.reason.upper()]
    except KeyError:
        raise InvalidInput(
            f"unknown reason {body.reason!r}: use one of {', '.join(r.name.lower() for r in RevocationReason)}"
        ) from None
    batch = docs.revoke_batch(actor, root, reason)
    return BatchRevokedOut(root=batch.root, size=batch.size, members=batch.members)


@router.post(
    "/{sha256}/supersede",
    status_code=201,
    response_model=DocumentOut,
    responses={**REGISTERS, **documented(404)},
)
def supersede(
    sha256: str,
    request: Request,
    docs: DocumentsDep,
    actor: ActorDep,
    lang: LangDep,
    file: Annotated[UploadFile, File()],
    doc_type: DocType,
    consignment_ref: ConsignmentRef,
    metadata: Metadata = None,
    recipients: Recipients = None,
    disclose: Disclose = None,
) -> Response:
    """Register an amended document that replaces this one."""
    check_length(request)
    upload = Upload(
        file.file,
        doc_type,
        consignment_ref,
        _metadata(metadata),
        check_recipients(recipients),
        check_disclose(disclose),
    )
    result = docs.supersede(actor, sha256, upload)
    return _answer(DocumentOut.of(result.record, lang), result.created)


@router.post(
    "/{sha256}/attestations",
    status_code=201,
    response_model=AttestationOut,
    responses=documented(401, 403, 404, 409, 422, 503),
)
def attest(sha256: str, body: AttestRequest, docs: DocumentsDep, actor: ActorDep) -> AttestationOut:
    """Record a customs attestation: verified, cleared, held or rejected."""
    try:
        verdict = Verdict[body.verdict.upper()]
    except KeyError:
        raise InvalidInput(
            f"unknown verdict {body.verdict!r}: use verified, cleared, held or rejected"
        ) from None
    return AttestationOut.of(docs.attest(actor, sha256, verdict, body.reference))


@router.post(
    "/{sha256}/attestations/{attestation_id}/revoke",
    response_model=AttestationOut,
    responses=documented(401, 403, 404, 409, 422, 503),
)
def revoke_attestation(
    sha256: str, attestation_id: str, docs: DocumentsDep, actor: ActorDep
) -> AttestationOut:
    """Revoke an attestation (only the customs office that recorded it)."""
    return AttestationOut.of(docs.revoke_attestation(actor, sha256, attestation_id))
