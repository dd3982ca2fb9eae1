"""Every filter, pagination, counts and exports of ``ledger.index.queries`` against a reference
computed in Python.

These tests are about the query layer only, so the index rows are inserted directly
(``ledger.index.synthetic``: a few thousand documents and attestations shaped like the corridor's,
times rounded to the hour so that many rows share a time and the tie-break on the id is
exercised); they are not on any chain. The on-chain path is in ``test_chain.py``.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from ledger.db import attestations, documents
from ledger.errors import InvalidInput
from ledger.index import queries
from ledger.index.synthetic import ATT_COLUMNS, DOC_COLUMNS, START, Shape, generate, load
from ledger.times import parse as parse_time
from tests.databases import Databases

N = 3000
DAY = 86400
Row = dict[str, Any]


class Data:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as conn:
            self.docs = [dict(r._mapping) for r in conn.execute(select(documents))]
            self.atts = [dict(r._mapping) for r in conn.execute(select(attestations))]
        self.atts_of: dict[str, list[Row]] = {}
        for a in self.atts:
            self.atts_of.setdefault(a["fingerprint"], []).append(a)


@pytest.fixture(scope="module")
def data(module_databases: Databases) -> Data:
    engine = module_databases.new()
    load(engine, N, Shape(seed=7))
    with engine.begin() as conn:  # many rows share a time: the order falls back on the id
        conn.execute(
            text("UPDATE documents SET registered_at = registered_at - registered_at % 3600")
        )
        conn.execute(
            text(
                "UPDATE attestations SET attested_at = attested_at - attested_at % 3600, "
                "doc_registered_at = doc_registered_at - doc_registered_at % 3600"
            )
        )
    return Data(engine)


def newest_first(rows: list[Row], t: str, key: str) -> list[str]:
    return [r[key] for r in sorted(rows, key=lambda r: (r[t], r[key]), reverse=True)]


def all_pages(fetch: Callable[[str | None], queries.Page], key: str) -> list[str]:
    out: list[str] = []
    cursor = None
    while True:
        page = fetch(cursor)
        out.extend(i[key] for i in page.items)
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def expected_docs(d: Data, f: queries.DocumentFilter) -> list[str]:
    def keep(r: Row) -> bool:
        if f.org_id is not None and r["org_id"] != f.org_id:
            return False
        if f.doc_type is not None and r["doc_type"] != f.doc_type:
            return False
        if f.consignment_ref is not None and r["consignment_ref"] != f.consignment_ref:
            return False
        if f.status is not None and r["status"] != f.status:
            return False
        if f.time_from is not None and r["registered_at"] < f.time_from:
            return False
        if f.time_to is not None and r["registered_at"] >= f.time_to:
            return False
        if f.attester_org_id is not None or f.verdict is not None:
            return any(
                (f.attester_org_id is None or a["org_id"] == f.attester_org_id)
                and (f.verdict is None or a["verdict"] == f.verdict)
                for a in d.atts_of.get(r["fingerprint"], [])
            )
        return True

    return newest_first([r for r in d.docs if keep(r)], "registered_at", "fingerprint")


T0 = START + 100 * DAY
DOC_FILTERS = {
    "none": queries.DocumentFilter(),
    "issuer": queries.DocumentFilter(org_id=1),
    "small issuer": queries.DocumentFilter(org_id=37),
    "type": queries.DocumentFilter(doc_type=861),
    "consignment": queries.DocumentFilter(consignment_ref="SMGS-0000042"),
    "registered": queries.DocumentFilter(status="registered"),
    "revoked": queries.DocumentFilter(status="revoked"),
    "superseded": queries.DocumentFilter(status="superseded"),
    "attester": queries.DocumentFilter(attester_org_id=45),
    "verdict": queries.DocumentFilter(verdict="rejected"),
    "attester+verdict": queries.DocumentFilter(attester_org_id=50, verdict="held"),
    "from": queries.DocumentFilter(time_from=T0 + 200 * DAY),
    "to": queries.DocumentFilter(time_to=T0),
    "range": queries.DocumentFilter(time_from=T0, time_to=T0 + 30 * DAY),
    "issuer+type+range": queries.DocumentFilter(
        org_id=2, doc_type=380, time_from=T0, time_to=T0 + 120 * DAY
    ),
    "everything": queries.DocumentFilter(
        org_id=1, status="registered", attester_org_id=43, verdict="verified", time_from=T0
    ),
    "nothing": queries.DocumentFilter(consignment_ref="no such consignment"),
}


@pytest.mark.parametrize("name", list(DOC_FILTERS))
def test_each_document_filter(data: Data, name: str) -> None:
    f = DOC_FILTERS[name]
    want = expected_docs(data, f)
    if name != "nothing":
        assert want, "the synthetic data should match every filter"
    got = all_pages(lambda c: queries.find_documents(data.engine, f, c, 97), "sha256")
    assert got == want
    if want:
        first = queries.find_documents(data.engine, f, None, 1).items[0]
        row = next(r for r in data.docs if r["fingerprint"] == first["sha256"])
        assert first["issuer"]["organisation_id"] == row["org_id"]
        assert first["issuer"]["organisation"] == f"Exporter {row['org_id']}"
        assert (first["cid"], first["status"], first["block_hash"]) == (
            row["cid"],
            row["status"],
            row["block_hash"],
        )


ATT_FILTERS = {
    "none": queries.AttestationFilter(),
    "attester": queries.AttestationFilter(attester_org_id=44),
    "verdict": queries.AttestationFilter(verdict="cleared"),
    "attester+verdict": queries.AttestationFilter(attester_org_id=48, verdict="rejected"),
    "range": queries.AttestationFilter(time_from=T0, time_to=T0 + 45 * DAY),
    "attester+verdict+range": queries.AttestationFilter(
        attester_org_id=46, verdict="verified", time_from=T0, time_to=T0 + 90 * DAY
    ),
}


@pytest.mark.parametrize("name", list(ATT_FILTERS))
def test_each_attestation_filter(data: Data, name: str) -> None:
    f = ATT_FILTERS[name]

    def keep(a: Row) -> bool:
        return (
            (f.attester_org_id is None or a["org_id"] == f.attester_org_id)
            and (f.verdict is None or a["verdict"] == f.verdict)
            and (f.time_from is None or a["attested_at"] >= f.time_from)
            and (f.time_to is None or a["attested_at"] < f.time_to)
        )

    want = newest_first([a for a in data.atts if keep(a)], "attested_at", "attestation_id")
    assert want
    got = all_pages(lambda c: queries.find_attestations(data.engine, f, c, 89), "attestation_id")
    assert got == want


def test_attestations_of_one_document(data: Data) -> None:
    fp, atts = next((fp, a) for fp, a in data.atts_of.items() if len(a) >= 2)
    page = queries.find_attestations(data.engine, queries.AttestationFilter(fingerprint=fp))
    assert {i["attestation_id"] for i in page.items} == {a["attestation_id"] for a in atts}
    assert all(i["sha256"] == fp for i in page.items)


@pytest.mark.parametrize("limit", [1, 10, 1000])
def test_pages_concatenate_to_the_whole_result(data: Data, limit: int) -> None:
    f = queries.DocumentFilter(org_id=3) if limit == 1 else queries.DocumentFilter()
    got = all_pages(lambda c: queries.find_documents(data.engine, f, c, limit), "sha256")
    assert len(got) == len(set(got))
    assert got == expected_docs(data, f)


def test_pagination_is_stable_while_rows_arrive(databases: Databases) -> None:
    engine = databases.new()
    load(engine, 500, Shape(seed=3))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE documents SET registered_at = registered_at - registered_at % 86400")
        )
    f = queries.DocumentFilter()
    before = Data(engine)
    original = expected_docs(before, f)
    extra = [d for docs, _ in generate(60, Shape(seed=99)) for d in docs]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = queries.find_documents(engine, f, cursor, 25)
        seen.extend(i["sha256"] for i in page.items)
        pages += 1
        if pages in (2, 5, 9):  # new rows: newer, older and at the very times of the cursor
            last = parse_time(page.items[-1]["registered_at"]) if page.items else START
            rows = extra[:20]
            extra = extra[20:]
            times = [last + 86400 * 400, last, START - 1]
            with engine.begin() as conn:
                conn.execute(
                    documents.insert(),
                    [
                        {**dict(zip(DOC_COLUMNS, r, strict=True)), "registered_at": times[i % 3]}
                        for i, r in enumerate(rows)
                    ],
                )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)), "no row twice"
    assert set(original) <= set(seen), "no original row skipped"
    positions = [original.index(fp) for fp in seen if fp in original]
    assert positions == sorted(positions), "the original rows keep their order"
    after = Data(engine)
    order = expected_docs(after, f)
    assert [order.index(fp) for fp in seen] == sorted(order.index(fp) for fp in seen)
    newer = {fp for fp in order[: order.index(original[0])]}
    assert not newer & set(seen), "rows newer than the first page are not on later pages"


def test_invalid_input_is_refused(data: Data) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        queries.find_documents(data.engine, queries.DocumentFilter(), "not-a-cursor")
    for bad in (
        queries.DocumentFilter(status="lost"),
        queries.DocumentFilter(verdict="maybe"),
        queries.DocumentFilter(doc_type=999),
        queries.DocumentFilter(time_from=T0, time_to=T0),
    ):
        with pytest.raises(InvalidInput):
            queries.find_documents(data.engine, bad)
    for limit in (0, queries.MAX_LIMIT + 1):
        with pytest.raises(InvalidInput, match="limit"):
            queries.find_documents(data.engine, queries.DocumentFilter(), limit=limit)
    with pytest.raises(InvalidInput):
        queries.find_attestations(data.engine, queries.AttestationFilter(verdict="maybe"))


def test_counts_per_day_and_per_type(data: Data) -> None:
    def day(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).date().isoformat()

    regs = Counter(day(r["registered_at"]) for r in data.docs)
    atts = Counter(day(a["attested_at"]) for a in data.atts)
    got = queries.daily_counts(data.engine)
    assert got == [
        {"day": d, "registrations": regs[d], "attestations": atts[d]} for d in sorted(regs | atts)
    ]
    window = queries.daily_counts(data.engine, T0, T0 + 7 * DAY)
    assert [d["day"] for d in window] == [day(T0 + i * DAY) for i in range(7)]
    assert sum(d["registrations"] for d in window) == sum(
        1 for r in data.docs if T0 <= r["registered_at"] < T0 + 7 * DAY
    )
    types = Counter(r["doc_type"] for r in data.docs)
    assert {t["doc_type"]: t["documents"] for t in queries.counts_by_doc_type(data.engine)} == types
    assert len(types) == 17


@pytest.mark.parametrize("name", ["none", "issuer+type+range", "attester+verdict", "nothing"])
def test_exports_parse_back_to_the_query(data: Data, name: str) -> None:
    f = DOC_FILTERS[name]
    items = list(queries.iter_documents(data.engine, f))
    assert [i["sha256"] for i in items] == expected_docs(data, f)
    assert json.loads("".join(queries.export_json(data.engine, f))) == {
        "export_version": 2,
        "items": items,
    }
    rows = list(csv.DictReader(io.StringIO("".join(queries.export_csv(data.engine, f)))))
    assert rows == [
        {
            k: "" if v is None else str(queries.csv_cell(v))
            for k, v in queries._flat(i).items()
            if k in queries.CSV_COLUMNS
        }
        for i in items
    ]


def test_attestation_exports_parse_back(data: Data) -> None:
    f = ATT_FILTERS["attester+verdict"]
    items = list(queries.iter_attestations(data.engine, f))
    assert json.loads("".join(queries.export_attestations_json(data.engine, f)))["items"] == items
    rows = list(
        csv.DictReader(io.StringIO("".join(queries.export_attestations_csv(data.engine, f))))
    )
    assert [r["attestation_id"] for r in rows] == [i["attestation_id"] for i in items]
    assert set(rows[0]) == set(queries.ATTESTATION_CSV_COLUMNS)
    assert ATT_COLUMNS[0] == "attestation_id"


@pytest.mark.parametrize("limit", [1, 2, 7, 1000])
def test_documents_attested_twice_alike_appear_once(databases: Databases, limit: int) -> None:
    """Read via the attestations' index, a document attested twice by the same office with
    the same verdict would come twice: it must appear once, on every page size."""
    engine = databases.new()
    load(engine, 400, Shape(seed=11))
    before = Data(engine)
    a = next(a for a in before.atts if a["org_id"] == 45 and a["verdict"] == "held")
    twins = [x for x in before.atts if x["org_id"] == 45 and x["verdict"] == "held" and x is not a][
        :5
    ]
    with engine.begin() as conn:
        conn.execute(
            attestations.insert(),
            [
                {**x, "attestation_id": "0x" + f"{i:064x}", "customs_ref": "AGAIN"}
                for i, x in enumerate([a, a, *twins], start=1)
            ],
        )
    data = Data(engine)
    f = queries.DocumentFilter(attester_org_id=45, verdict="held")
    want = expected_docs(data, f)
    assert len(data.atts) == len(before.atts) + 2 + len(twins) and len(twins) >= 2
    got = all_pages(lambda c: queries.find_documents(engine, f, c, limit), "sha256")
    assert got == want
    ranged = queries.DocumentFilter(
        attester_org_id=45, verdict="held", time_from=a["doc_registered_at"]
    )
    got = all_pages(lambda c: queries.find_documents(engine, ranged, c, limit), "sha256")
    assert got == expected_docs(data, ranged) and a["fingerprint"] in got


def test_a_time_outside_the_calendar_once_its_offset_is_applied_is_invalid_input() -> None:
    # found by the schema fuzzer: from=0001-01-01T00:01:01+03:03 answered 500
    from datetime import datetime

    from ledger import times
    from ledger.errors import InvalidInput

    with pytest.raises(InvalidInput, match="outside the years 1 to 9999"):
        times.unix(datetime.fromisoformat("0001-01-01T00:01:01+03:03"))
    with pytest.raises(InvalidInput, match="outside the years 1 to 9999"):
        times.parse("9999-12-31T23:59:59-01:00")
    assert times.parse("2026-10-01T13:00:00+04:30") == times.parse("2026-10-01T08:30:00Z")
