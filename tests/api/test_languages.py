"""Document type names in the API answers and exports follow ``?lang=`` or
``Accept-Language`` (English by default), from the same source as the pages; the codes stay."""

from __future__ import annotations

import csv
import io

from api.pages.i18n import catalogue
from ledger.doctypes import DOCUMENT_TYPES
from tests.api.conftest import Service, doc_bytes


def test_doc_type_names_follow_the_requested_language(svc: Service) -> None:
    r = svc.register(doc_bytes("languages"), doc_type=271, ref="SMGS-LANG-1")
    assert r.status_code == 201, r.text
    rec = r.json()
    assert (rec["doc_type"], rec["doc_type_name"]) == (271, DOCUMENT_TYPES[271])
    sha = rec["sha256"]
    svc.indexed(sha)
    ps = catalogue("ps")["doctype.271"]
    got = svc.http.get(f"/v1/documents/{sha}?lang=ps").json()["record"]
    assert (got["doc_type"], got["doc_type_name"]) == (271, ps)
    got = svc.http.get(f"/v1/documents/{sha}", headers={"Accept-Language": "ru-RU,en;q=0.5"})
    assert got.json()["record"]["doc_type_name"] == catalogue("ru")["doctype.271"]
    assert (
        svc.http.get(f"/v1/documents/{sha}?lang=xx").json()["record"]["doc_type_name"]
        == (DOCUMENT_TYPES[271])
    )
    v = svc.http.post("/v1/verify?lang=fa", json={"sha256": sha}).json()
    assert v["record"]["doc_type_name"] == catalogue("fa")["doctype.271"]

    auditor = svc.auth("auditor")
    page = svc.http.get(
        "/v1/audit/documents",
        params={"consignment_ref": "SMGS-LANG-1", "lang": "kk"},
        headers=auditor,
    ).json()
    assert [i["doc_type_name"] for i in page["items"]] == [catalogue("kk")["doctype.271"]]
    text = svc.http.get(
        "/v1/audit/documents",
        params={"consignment_ref": "SMGS-LANG-1", "format": "csv"},
        headers={**auditor, "Accept-Language": "fa-AF"},
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["doc_type"], r["doc_type_name"]) for r in rows] == [
        ("271", catalogue("fa")["doctype.271"])
    ]
    english = svc.http.get(
        "/v1/audit/documents.json", params={"consignment_ref": "SMGS-LANG-1"}, headers=auditor
    ).json()["items"]  # export version 2: {"export_version": 2, "items": [...]}
    assert [i["doc_type_name"] for i in english] == [DOCUMENT_TYPES[271]]
    counts = svc.http.get("/v1/audit/stats/doc-types?lang=ps", headers=auditor).json()
    assert {t["doc_type"]: t["doc_type_name"] for t in counts["doc_types"]}[271] == ps
