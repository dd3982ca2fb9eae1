"""/v1/verify: is this the registered document, and is it still good?"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import LangDep, VerifierDep
from api.errors import documented
from api.routes.documents import check_length
from api.schemas import (
    AttestationOut,
    DocumentOut,
    HistoryOut,
    IssuerOut,
    VerificationOut,
    VerifyRequest,
)
from ledger.content import hash_stream
from ledger.errors import InvalidInput
from ledger.flows import Verification, Verifier, check_fingerprint

router = APIRouter(prefix="/v1/verify", tags=["verification"])


def _out(v: Verification, lang: str) -> VerificationOut:
    return VerificationOut(
        verdict=v.verdict.value,
        reasons=v.reasons,
        sha256=v.sha256,
        record=DocumentOut.of(v.record, lang) if v.record else None,
        issuer=IssuerOut.of(v.record.issuer) if v.record else None,
        attestations=[AttestationOut.of(a) for a in v.attestations],
        history=[HistoryOut.of(h) for h in v.history],
        indexed_block=v.indexed_block,
        chain_head=v.chain_head,
        tampered=v.tampered,
    )


@router.post("", response_model=VerificationOut, responses=documented(422, 503))
async def verify(body: VerifyRequest, request: Request, lang: LangDep) -> Response:
    """Verify by fingerprint (`{"sha256": …}`) or by evidence bundle (`{"bundle": {…}}`)."""
    # async: a known fingerprint is answered on the event loop from two SQLite point reads
    # (well under a millisecond), without a hop through the thread pool; anything that may
    # wait on the chain (an unknown fingerprint while the index is fresh, a bundle) still
    # runs in the thread pool.
    verifier: Verifier = request.app.state.verifier
    if body.bundle is not None:
        return _json(await run_in_threadpool(verifier.bundle, body.bundle), lang)
    if body.sha256 is None:
        raise InvalidInput(
            'send {"sha256": "<64 hex digits>"} or {"bundle": {...}}, or POST a file to /v1/verify/file'
        )
    sha256 = check_fingerprint(body.sha256)
    found = verifier.lookup(sha256)
    if found is None:
        found = await run_in_threadpool(verifier.fingerprint, sha256)
    return _json(found, lang)


def _json(v: Verification, lang: str) -> Response:
    """The answer serialised once (pydantic-core), not validated again by the response model."""
    return Response(_out(v, lang).model_dump_json(), media_type="application/json")


@router.post("/file", response_model=VerificationOut, responses=documented(413, 422, 503))
def verify_file(
    request: Request,
    verifier: VerifierDep,
    lang: LangDep,
    file: Annotated[UploadFile, File()],
    bundle: Annotated[
        UploadFile | None, File(description="Optional evidence bundle to check the file against")
    ] = None,
) -> VerificationOut:
    """Verify a presented file (hashed here, never stored), optionally with its evidence bundle."""
    check_length(request)
    sha256 = hash_stream(file.file).sha256
    if bundle is not None:
        try:
            data = json.loads(bundle.file.read())
        except ValueError as exc:
            raise InvalidInput(f"the evidence bundle is not JSON: {exc}") from exc
        return _out(verifier.bundle(data, file_sha256=sha256), lang)
    return _out(verifier.fingerprint(sha256), lang)
