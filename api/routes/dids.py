"""Organisations as did:web, registrations as Verifiable Credentials (public, no key):
``GET /orgs/{id}/did.json``, ``GET /orgs/{id}/status/revocation``,
``GET /v1/documents/{sha256}/credential``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import RuntimeDep
from api.errors import documented
from ledger.flows import check_fingerprint, did_document, issue, status_list
from ledger.types import MAX_ORG_ID

DID_MEDIA_TYPE = "application/did+ld+json"
VC_MEDIA_TYPE = "application/vc+jwt"
OrgId = Annotated[int, Path(ge=1, le=MAX_ORG_ID, description="Organisation id")]

router = APIRouter(tags=["identity"])


def _jwt_response(description: str) -> dict[int | str, dict[str, object]]:
    """200 as a compact JWS; errors as the usual JSON (so no ``response_class`` here: it
    would document them as text too)."""
    return {
        200: {"description": description, "content": {VC_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **documented(404, 409, 422, 503),
    }


@router.get(
    "/orgs/{org_id}/did.json",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The organisation's DID document (did:web:<host>:orgs:<id>)",
            "content": {DID_MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **documented(404, 422, 503),
    },
)
def did_json(org_id: OrgId, rt: RuntimeDep) -> JSONResponse:
    """The DID document of an admitted organisation: its chain keys as verification methods
    (CAIP-10 ``blockchainAccountId``; a JWK where this gateway holds the key), those inside
    their window now as assertion methods."""
    rt.require_chain()
    document = did_document(
        rt.engine,
        rt.settings.base_url,
        rt.registry.chain_id,
        org_id,
        rt.held_public_keys(org_id),
    )
    return JSONResponse(document, media_type=DID_MEDIA_TYPE)


@router.get(
    "/orgs/{org_id}/status/revocation",
    responses=_jwt_response("The organisation's revocation status list credential (VC-JOSE-COSE)"),
)
def revocation_list(org_id: OrgId, rt: RuntimeDep) -> PlainTextResponse:
    """The organisation's Bitstring Status List (purpose revocation), from the index now,
    signed by one of its keys; valid for a few minutes (``validUntil``)."""
    rt.require_chain()
    rt.catch_up()
    return PlainTextResponse(
        status_list(rt, org_id),
        media_type=VC_MEDIA_TYPE,
        headers={"Cache-Control": "max-age=60"},
    )


@router.get(
    "/v1/documents/{sha256}/credential",
    responses=_jwt_response("The registration as a Verifiable Credential 2.0 (VC-JOSE-COSE)"),
)
def credential(sha256: str, rt: RuntimeDep) -> PlainTextResponse:
    """The registration as a W3C Verifiable Credential, issued by its organisation's DID and
    signed with one of its keys (ES256K), with a status list entry for revocation."""
    fingerprint = check_fingerprint(sha256)
    return PlainTextResponse(issue(rt, fingerprint), media_type=VC_MEDIA_TYPE)
