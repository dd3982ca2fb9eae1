"""/v1/verify: is this the registered document, and is it still good?"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile

from api.deps import VerifierDep
from api.routes.documents import check_length
from api.schemas import (
    AttestationOut,
    DocumentOut,
    HistoryOut,
    IssuerOut,
    VerificationOut,
    VerifyRequest,
)
from ledger.documents import check_fingerprint
from ledger.errors import InvalidInput
from ledger.hashing import hash_stream
from ledger.verify import Verification

router = APIRouter(prefix="/v1/verify", tags=["verification"])


def _out(v: Verification) -> VerificationOut:
    return VerificationOut(
        verdict=v.verdict.value,
        reasons=v.reasons,
        sha256=v.sha256,
        record=DocumentOut.of(v.record) if v.record else None,
        issuer=IssuerOut.of(v.record.issuer) if v.record else None,
        attestations=[AttestationOut.of(a) for a in v.attestations],
        history=[HistoryOut.of(h) for h in v.history],
        indexed_block=v.indexed_block,
        chain_head=v.chain_head,
    )


@router.post("", response_model=VerificationOut)
def verify(body: VerifyRequest, verifier: VerifierDep) -> VerificationOut:
    """Verify by fingerprint (`{"sha256": …}`) or by evidence bundle (`{"bundle": {…}}`)."""
    if body.bundle is not None:
        return _out(verifier.bundle(body.bundle))
    if body.sha256 is None:
        raise InvalidInput(
            'send {"sha256": "<64 hex digits>"} or {"bundle": {...}}, or POST a file to /v1/verify/file'
        )
    return _out(verifier.fingerprint(check_fingerprint(body.sha256)))


@router.post("/file", response_model=VerificationOut)
def verify_file(
    request: Request,
    verifier: VerifierDep,
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
        return _out(verifier.bundle(data, file_sha256=sha256))
    return _out(verifier.fingerprint(sha256))
