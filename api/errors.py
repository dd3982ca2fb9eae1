"""The one place ledger errors become HTTP answers: a status per category, a readable message."""

from __future__ import annotations

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.deps import answer_language
from api.schemas import DocumentOut
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
    (errors.IntegrityError, 502),
]
RETRY_AFTER_SECONDS = "5"


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


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"] if p != "body")
        problems.append(f"{where}: {e['msg']}")
    return JSONResponse(
        {
            "detail": "invalid request: " + "; ".join(problems),
            "error": "InvalidInput",
            "problems": exc.errors(),
        },
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.LedgerError, ledger_error)
    app.add_exception_handler(requests.RequestException, backend_unreachable)
    app.add_exception_handler(RequestValidationError, validation_error)
