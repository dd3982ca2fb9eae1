"""The one place ledger errors become HTTP answers: a status per category, a readable message."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ledger import errors
from ledger.documents import DocumentExists, TooLarge

STATUS: list[tuple[type[errors.LedgerError], int]] = [
    (TooLarge, 413),
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


async def ledger_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LedgerError)
    status = status_of(exc)
    body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
    if isinstance(exc, DocumentExists):
        from api.schemas import DocumentOut

        body["record"] = DocumentOut.of(exc.record).model_dump(mode="json")
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    return JSONResponse(body, status_code=status, headers=headers)


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
    app.add_exception_handler(RequestValidationError, validation_error)
