"""/v1/audit: auditors' filtered queries, history, counts and CSV/JSON export over the index.

Every answer says which block the index has reached and how far behind the chain head it is.
Document type names follow ``?lang=`` or ``Accept-Language`` (English by default); the codes
beside them never change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import ActorDep, LangDep, RuntimeDep
from api.errors import documented
from api.pages.i18n import doc_type_name
from ledger import times
from ledger.flows import Action, Runtime, authorise
from ledger.index import queries
from ledger.types import MAX_DOC_TYPE, MAX_ORG_ID

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=documented(401, 403, 422, 503))

From = Annotated[
    datetime | None,
    Query(
        alias="from",
        description="From this time (inclusive): ISO 8601 time or date, e.g. 2026-10-01 or "
        "2026-10-01T08:30:00+04:30; a time without an offset is UTC",
    ),
]
To = Annotated[
    datetime | None,
    Query(alias="to", description="Up to this time (exclusive); as `from`"),
]
OrgId = Annotated[int | None, Query(ge=1, le=MAX_ORG_ID, description="Organisation id")]


def _lag(rt: Runtime) -> dict[str, Any]:
    head = rt.chain_head() if rt.chain_ok() else None
    indexed = rt.health.indexed
    return {
        "indexed_block": indexed,
        "chain_head": head,
        "lag": max(0, head - indexed) if head is not None else None,
    }


def document_filter(
    org_id: OrgId = None,
    doc_type: Annotated[int | None, Query(ge=0, le=MAX_DOC_TYPE)] = None,
    consignment_ref: Annotated[str | None, Query(max_length=200)] = None,
    status: str | None = None,
    attester_org_id: OrgId = None,
    verdict: str | None = None,
    time_from: From = None,
    time_to: To = None,
    country_of_origin: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=2,
            description="ISO 3166-1 alpha-2, as the issuer disclosed it to auditors",
        ),
    ] = None,
    hs_code: Annotated[
        str | None,
        Query(max_length=13, description="HS code as disclosed by the issuer, e.g. 1101.00"),
    ] = None,
) -> queries.DocumentFilter:
    """The document filters of the query string (shared by the page and the exports)."""
    return queries.DocumentFilter(
        org_id,
        doc_type,
        consignment_ref,
        status,
        attester_org_id,
        verdict,
        times.unix(time_from),
        times.unix(time_to),
        country_of_origin,
        hs_code,
    ).check()


DocumentFilterDep = Annotated[queries.DocumentFilter, Depends(document_filter)]


def _names(lang: str) -> Callable[[int], str]:
    return lambda code: doc_type_name(code, lang)


@router.get(
    "/documents",
    responses={
        200: {
            "description": "A page of documents (json), or every match (csv, export version 2)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def documents(
    rt: RuntimeDep,
    actor: ActorDep,
    f: DocumentFilterDep,
    lang: LangDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 100,
    format: Annotated[
        str,
        Query(
            pattern="^(json|csv)$", description="json (a page) or csv (an export of all matches)"
        ),
    ] = "json",
) -> Any:
    """Documents filtered by issuer, type, consignment, status, attester, verdict, time, and
    the metadata fields issuers disclosed to auditors (country of origin, HS code)."""
    authorise(actor, Action.AUDIT)
    if format == "csv":
        return StreamingResponse(
            queries.export_csv(rt.engine, f, _names(lang)),
            media_type="text/csv",
            headers={
                "Content-Disposition": 'attachment; filename="documents.csv"',
                "X-Export-Version": str(queries.EXPORT_VERSION),
                **_lag_headers(rt),
            },
        )
    page = queries.find_documents(rt.engine, f, cursor, limit)
    items = list(queries.named(iter(page.items), _names(lang)))
    return JSONResponse({"items": items, "next_cursor": page.next_cursor, **_lag(rt)})


@router.get("/documents.json")
def export_documents_json(
    rt: RuntimeDep, actor: ActorDep, f: DocumentFilterDep, lang: LangDep
) -> StreamingResponse:
    """Every matching document as one JSON array (streamed)."""
    authorise(actor, Action.AUDIT)
    return StreamingResponse(
        queries.export_json(rt.engine, f, _names(lang)),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="documents.json"',
            "X-Export-Version": str(queries.EXPORT_VERSION),
            **_lag_headers(rt),
        },
    )


def _lag_headers(rt: Runtime) -> dict[str, str]:
    lag = _lag(rt)
    return {"X-Indexed-Block": str(lag["indexed_block"]), "X-Index-Lag": str(lag["lag"])}


@router.get("/attestations")
def find_attestations(
    rt: RuntimeDep,
    actor: ActorDep,
    sha256: str | None = None,
    attester_org_id: OrgId = None,
    verdict: str | None = None,
    time_from: From = None,
    time_to: To = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = 100,
) -> JSONResponse:
    """Attestations filtered by document, attesting organisation, verdict and time."""
    authorise(actor, Action.AUDIT)
    page = queries.find_attestations(
        rt.engine,
        queries.AttestationFilter(
            sha256, attester_org_id, verdict, times.unix(time_from), times.unix(time_to)
        ),
        cursor,
        limit,
    )
    return JSONResponse({"items": page.items, "next_cursor": page.next_cursor, **_lag(rt)})


@router.get("/stats/daily")
def daily(
    rt: RuntimeDep, actor: ActorDep, time_from: From = None, time_to: To = None
) -> JSONResponse:
    """Registrations and attestations per day."""
    authorise(actor, Action.AUDIT)
    return JSONResponse(
        {
            "days": queries.daily_counts(rt.engine, times.unix(time_from), times.unix(time_to)),
            **_lag(rt),
        }
    )


@router.get("/organisations")
def organisations(rt: RuntimeDep, actor: ActorDep) -> JSONResponse:
    """Every admitted organisation (id, name, country, kind), to filter by name."""
    authorise(actor, Action.AUDIT)
    return JSONResponse({"organisations": queries.organisations_list(rt.engine), **_lag(rt)})


@router.get("/consortium-events")
def consortium_events(
    rt: RuntimeDep,
    actor: ActorDep,
    time_from: From = None,
    time_to: To = None,
    limit: Annotated[
        int, Query(ge=1, le=10_000, description="At most this many, newest first")
    ] = 1000,
) -> JSONResponse:
    """Every action of the consortium admin the chain recorded: organisations admitted,
    keys given and retired, and each step of a transfer of the admin role."""
    authorise(actor, Action.AUDIT)
    found = queries.consortium_events(rt.engine, times.unix(time_from), times.unix(time_to), limit)
    return JSONResponse({"events": found, **_lag(rt)})


@router.get("/stats/doc-types")
def by_doc_type(rt: RuntimeDep, actor: ActorDep, lang: LangDep) -> JSONResponse:
    """Documents per document type."""
    authorise(actor, Action.AUDIT)
    counts = queries.named(iter(queries.counts_by_doc_type(rt.engine)), _names(lang))
    return JSONResponse({"doc_types": list(counts), **_lag(rt)})
