"""Issue 14, item 1, through the service: another admitted organisation registers a copy of
the exporter's file on chain first (its own key, the contract called directly).

Once records belong to their issuing organisation, the exporter's registration through the
service must still be a 201 naming the exporter, and verification of the bytes must not be
a plain VALID naming the squatter. On contract 1.x (first come owns the fingerprint) the
service answers 409 with the squatter's record: a strict expected failure, limited to the
assertion on that answer, to unmark when the contract is fixed.
"""

from __future__ import annotations

import hashlib
import io

import pytest

from ledger.content.hashing import hash_stream
from tests.api.conftest import Service, admit_signer, doc_bytes
from tests.conftest import fund

pytestmark = pytest.mark.chain


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 14 item 1 open: contract 1.x lets the first registrant own a fingerprint",
)
def test_a_squatter_cannot_block_or_claim_the_exporters_document(svc: Service) -> None:
    rt = svc.rt
    squatter = admit_signer(svc, "Demo Squatting Exporter LLP")
    fund(rt.w3, squatter.account.address, wei=10**18)
    content = doc_bytes("squatted")
    fp = hash_stream(io.BytesIO(content))
    rt.registry.register(
        rt.registry.sender(squatter.account), fp.sha256_bytes, 861, fp.cid_bytes, "SQUAT-1"
    )
    sha = hashlib.sha256(content).hexdigest()
    svc.indexed(sha)

    r = svc.register(content, who="exporter", ref="SMGS-REAL-1")
    assert r.status_code == 201, r.text
    assert r.json()["issuer"]["organisation"].startswith("Demo Kazakh"), r.text
    v = svc.verdict(sha)
    assert not (v["verdict"] == "VALID" and v["issuer"]["organisation_id"] == squatter.org_id), v
