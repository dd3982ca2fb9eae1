"""Confidential documents through the service (issue 16): what is stored is sealed, only the
recipient organisations read it, anyone holding the file still verifies it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ledger.db import envelopes
from ledger.sealing import OrgKey
from tests.api.conftest import Service, Signer, doc_bytes

pytestmark = pytest.mark.chain


def _marked(label: str) -> tuple[bytes, bytes]:
    marker = f"PLAINTEXT-MARKER-{label}-{os.urandom(8).hex()}".encode()
    return marker, b"Invoice 4711, flour 1101.00, price 312 USD/t " + marker + b"\n" * 100


def _files_holding(root: Path, marker: bytes) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and marker in path.read_bytes():
            found.append(path)
    return found


def test_nothing_plain_in_the_data_folder(svc: Service) -> None:
    """The content and the metadata of a registered document are nowhere in the data folder
    in the clear; the fingerprint is still the plain file's, so verification by file works."""
    marker, content = _marked("content")
    meta_marker = b"META-MARKER-" + os.urandom(8).hex().encode()
    metadata = {"country_of_origin": "KZ", "consignee": meta_marker.decode()}
    r = svc.register(content, metadata=json.dumps(metadata))
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["sha256"] == hashlib.sha256(content).hexdigest()

    data_dir = svc.settings.data_dir
    assert _files_holding(data_dir, marker) == []
    assert _files_holding(data_dir, meta_marker) == []
    stored = b"".join(svc.rt.store.get(rec["cid"]))  # type: ignore[attr-defined]
    assert stored.startswith(b"TDLSEAL") and marker not in stored

    svc.indexed(rec["sha256"])
    v = svc.http.post("/v1/verify/file", files={"file": ("i.pdf", content)})
    assert v.status_code == 200 and v.json()["verdict"] == "VALID", v.text
    got = svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth("exporter"))
    assert got.status_code == 200 and got.content == content
    for who in ("exporter", "customs"):
        meta = svc.http.get(f"/v1/documents/{rec['sha256']}/metadata", headers=svc.auth(who))
        assert meta.status_code == 200 and meta.json() == metadata, (who, meta.text)
    meta = svc.http.get(f"/v1/documents/{rec['sha256']}/metadata", headers=svc.auth("auditor"))
    assert meta.status_code == 403 and "not one of its recipients" in meta.json()["detail"]


def test_only_recipients_read(svc: Service) -> None:
    """The issuer's organisation and the corridor's customs read; the chamber, the auditor
    and the admin are told why not."""
    _, content = _marked("recipients")
    r = svc.register(content)
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    for who in ("exporter", "customs"):
        got = svc.http.get(f"/v1/documents/{sha}/content", headers=svc.auth(who))
        assert got.status_code == 200 and got.content == content, (who, got.text)
    for who in ("chamber", "auditor", "admin"):
        got = svc.http.get(f"/v1/documents/{sha}/content", headers=svc.auth(who))
        assert got.status_code == 403, (who, got.text)
        assert "not one of its recipients" in got.json()["detail"]
        assert content not in got.content


def test_recipient_added_later_without_upload(svc: Service) -> None:
    _, content = _marked("later")
    rec = svc.register(content).json()
    sha, chamber = rec["sha256"], svc.creds["organisations"]["chamber"]["org_id"]
    h = svc.auth("chamber")
    assert svc.http.get(f"/v1/documents/{sha}/content", headers=h).status_code == 403

    # only a recipient that is the issuing organisation may add one
    r = svc.http.post(
        f"/v1/documents/{sha}/recipients", json={"organisations": [chamber]}, headers=h
    )
    assert r.status_code == 403, r.text
    r = svc.http.post(
        f"/v1/documents/{sha}/recipients",
        json={"organisations": [chamber]},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 200, r.text
    assert chamber in r.json()["recipients"]
    got = svc.http.get(f"/v1/documents/{sha}/content", headers=h)
    assert got.status_code == 200 and got.content == content
    assert svc.http.get(f"/v1/documents/{sha}").json()["record"]["cid"] == rec["cid"]


def _block_count(svc: Service) -> int:
    return sum(1 for p in (svc.settings.data_dir / "blocks").rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("recipients", "says"),
    [("999", "no organisation has id 999"), ("abc", "not an organisation id")],
)
def test_bad_recipients_store_nothing(svc: Service, recipients: str, says: str) -> None:
    before = _block_count(svc)
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("doc.pdf", doc_bytes("bad-recipient"))},
        data={"doc_type": "861", "consignment_ref": "SMGS-R", "recipients": recipients},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert _block_count(svc) == before


def test_recipient_without_encryption_key(svc: Service, signer: Signer) -> None:
    """An admitted organisation with no encryption key: 422 naming the fix; once the admin
    admits its key (of the right type), the document can be sealed for it."""
    content = doc_bytes("keyless-recipient")
    data = {"doc_type": "861", "consignment_ref": "SMGS-K", "recipients": str(signer.org_id)}
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("doc.pdf", content)},
        data=data,
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 422 and "has no encryption key" in r.json()["detail"], r.text

    admin = svc.auth("admin")
    url = f"/v1/admin/organisations/{signer.org_id}/encryption-keys"
    wrong = svc.http.post(url, json={"public_key": signer.account.address}, headers=admin)
    assert wrong.status_code == 422 and "X25519" in wrong.json()["detail"]
    public = OrgKey.generate().public.hex()
    refused = svc.http.post(url, json={"public_key": public}, headers=svc.auth("exporter"))
    assert refused.status_code == 403
    ok = svc.http.post(url, json={"public_key": public}, headers=admin)
    assert ok.status_code == 201, ok.text
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("doc.pdf", content)},
        data=data,
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text


def test_auditors_filter_by_what_the_issuer_disclosed(svc: Service) -> None:
    """Disclosed fields (country of origin, HS codes) stay filterable by auditors, who read
    those fields and nothing else; a field the issuer did not disclose is not kept."""
    metadata = {"country_of_origin": "KZ", "hs_codes": ["1101.00"], "consignee": "Secret LLC"}
    ref = "SMGS-DISC-" + os.urandom(4).hex()
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("doc.pdf", doc_bytes("disclosed"))},
        data={
            "doc_type": "380",
            "consignment_ref": ref,
            "metadata": json.dumps(metadata),
            "disclose": "country_of_origin,hs_codes",
        },
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    svc.indexed(sha)
    auditor = svc.auth("auditor")
    meta = svc.http.get(f"/v1/documents/{sha}/metadata", headers=auditor)
    assert meta.status_code == 200, meta.text
    assert meta.json() == {
        "country_of_origin": "KZ",
        "hs_codes": ["110100"],
        "disclosed_to_auditors": True,
    }

    def found(**query: str) -> list[str]:
        page = svc.http.get(
            "/v1/audit/documents", params={"consignment_ref": ref, **query}, headers=auditor
        )
        assert page.status_code == 200, page.text
        return [d["sha256"] for d in page.json()["items"]]

    assert found(country_of_origin="KZ") == [sha]
    assert found(hs_code="1101.00") == [sha]
    assert found(country_of_origin="AF") == []
    assert found(hs_code="1001.99") == []

    bad = svc.http.post(
        "/v1/documents",
        files={"file": ("doc.pdf", doc_bytes("bad-disclose"))},
        data={"doc_type": "380", "consignment_ref": ref, "disclose": "consignee"},
        headers=svc.auth("exporter"),
    )
    assert bad.status_code == 422 and "cannot be disclosed" in bad.json()["detail"]


def test_a_wrapped_key_of_another_document_opens_nothing(svc: Service) -> None:
    """An envelope row swapped for another document's wraps (same recipients): the wraps
    are bound to their document's fingerprint, so nothing is decrypted or served."""
    _, content_a = _marked("swap-a")
    _, content_b = _marked("swap-b")
    a = svc.register(content_a).json()["sha256"]
    b = svc.register(content_b).json()["sha256"]
    with svc.rt.engine.begin() as conn:
        env_b = conn.execute(
            select(envelopes.c.envelope).where(envelopes.c.fingerprint == b)
        ).scalar_one()
        forged = {**json.loads(env_b), "sha256": a}
        conn.execute(
            update(envelopes)
            .where(envelopes.c.fingerprint == a)
            .values(envelope=json.dumps(forged))
        )
    got = svc.http.get(f"/v1/documents/{a}/content", headers=svc.auth("exporter"))
    assert got.status_code == 502, got.text
    assert "does not open" in got.json()["detail"]
    assert content_a not in got.content and content_b not in got.content
