"""The one place ledger errors become HTTP answers: a status per category, a readable message."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import answer_language
from api.schemas import DocumentOut, ErrorOut
from ledger import errors
from ledger.flows import DocumentExists, TooLarge, Unauthenticated

STATUS: list[tuple[type[errors.LedgerError], int]] = [
    (TooLarge, 413),
    (Unauthenticated, 401),
    (errors.InvalidInput, 422),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Forbidden, 403),
    (errors.Unavailable, 503),
    (errors.DeploymentError, 503),
    (errors.Misconfigured, 503),
    (errors.IntegrityError, 502),
]
RETRY_AFTER_SECONDS = "5"

MEANING = {
    401: "No API key, or an unknown or revoked one",
    403: "The key's role or organisation may not do this",
    404: "No such document, organisation, attestation or API key",
    409: "Conflicts with the current state (already registered, revoked, pending...)",
    413: "The upload is over the size limit",
    422: "The request is malformed or a value is out of range; `problems` says where",
    502: "Stored bytes do not match their fingerprint or CID",
    503: "The chain or the IPFS node is not answering: retry after Retry-After seconds",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error statuses a route can answer, all with ``ErrorOut``."""
    return {code: {"model": ErrorOut, "description": MEANING[code]} for code in codes}


def status_of(exc: errors.LedgerError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LedgerError)
    status = status_of(exc)
    body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
    if isinstance(exc, DocumentExists):
        lang = answer_language(request, request.query_params.get("lang"))
        body["record"] = DocumentOut.of(exc.record, lang).model_dump(mode="json")
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


async def backend_unreachable(_: Request, exc: Exception) -> JSONResponse:
    """A connection error that reached a route unconverted: a backend went away mid-request."""
    return JSONResponse(
        {
            "detail": f"the chain or the IPFS node stopped answering ({type(exc).__name__}): "
            "retry in a few seconds",
            "error": "Unavailable",
        },
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def problems_of(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each validation problem as plain JSON: where, what, which kind. Only these three
    fields: pydantic's errors also carry the offending input and exception objects (bytes,
    ``ValueError``), which are neither JSON nor worth echoing back."""
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = problems_of(exc)
    where = [
        ".".join(str(p) for p in problem["loc"] if p != "body") + ": " + problem["msg"]
        for problem in problems
    ]
    return JSONResponse(
        {
            "detail": "invalid request: " + "; ".join(where),
            "error": "InvalidInput",
            "problems": problems,
        },
        status_code=422,
    )


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (no such route or method, a body that cannot be parsed)
    in the shape of every other error."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body that is neither JSON nor a well-formed form
        return JSONResponse(
            {
                "detail": f"the request body cannot be parsed ({exc.detail}): send UTF-8 JSON "
                "with 'content-type: application/json', or the multipart form the operation "
                "lists",
                "error": "InvalidInput",
            },
            status_code=422,
        )
    name = "".join(w.capitalize() for w in HTTPStatus(exc.status_code).phrase.split())
    return JSONResponse(
        {"detail": str(exc.detail), "error": name},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.LedgerError, ledger_error)
    app.add_exception_handler(requests.RequestException, backend_unreachable)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
