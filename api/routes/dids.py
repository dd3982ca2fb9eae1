"""did:web documents of the organisations: ``GET /orgs/{id}/did.json`` (public, no key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.errors import documented
from ledger.flows import did_document
from ledger.types import MAX_ORG_ID

MEDIA_TYPE = "application/did+ld+json"

router = APIRouter(tags=["identity"])


@router.get(
    "/orgs/{org_id}/did.json",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The organisation's DID document (did:web:<host>:orgs:<id>)",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        **documented(404, 422, 503),
    },
)
def did_json(
    org_id: Annotated[int, Path(ge=1, le=MAX_ORG_ID, description="Organisation id")],
    rt: RuntimeDep,
) -> JSONResponse:
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
    return JSONResponse(document, media_type=MEDIA_TYPE)
