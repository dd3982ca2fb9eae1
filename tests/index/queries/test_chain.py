"""Queries, exports and the consistency check over an index built by the real indexer from a
ledger on anvil (see ``conftest.build``)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from ledger.db import attestations, documents
from ledger.index import queries
from ledger.index.consistency import Checker, check_export, check_index, read_export
from ledger.types import RevocationReason
from tests.index.conftest import World
from tests.index.queries.conftest import Scenario

pytestmark = pytest.mark.chain


def day(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def fps(page: queries.Page) -> list[str]:
    return [i["sha256"] for i in page.items]


def test_filters_find_what_the_chain_recorded(scenario: Scenario) -> None:
    e, s, w = scenario.engine, scenario, scenario.world
    F = queries.DocumentFilter

    def find(f: queries.DocumentFilter) -> set[str]:
        return set(fps(queries.find_documents(e, f, limit=1000)))

    assert len(find(F())) == 5 + 4 + 1 + 1  # singles, manifest batch, recorded member, supersession
    issuer = {s.fps[n].hex() for n in ("b1", "b2", "b2new", "n0")}
    assert find(F(org_id=w.orgs["issuer"])) == issuer
    assert find(F(doc_type=861)) == {s.fps["a1"].hex(), s.fps["b1"].hex()}
    assert find(F(consignment_ref="SMGS-1")) == {s.fps[n].hex() for n in ("a1", "a2", "b1")}
    assert find(F(status="revoked")) == {s.fps["a3"].hex()}
    assert find(F(status="superseded")) == {s.fps["b2"].hex()}
    customs = w.orgs["customs"]
    assert find(F(attester_org_id=customs)) == {
        s.fps[n].hex() for n in ("a1", "a2", "n0", "b2new", "b1")
    }
    assert find(F(verdict="held")) == {s.fps["a2"].hex(), s.fps["b1"].hex()}
    assert find(F(attester_org_id=customs, verdict="rejected")) == {s.fps["b2new"].hex()}
    assert find(F(attester_org_id=w.orgs["exporter"])) == set()
    day2, day3 = s.times[1], s.times[2]
    assert find(F(time_to=day2)) == {s.fps[n].hex() for n in ("a1", "a2", "a3", "b1", "b2")}
    assert find(F(time_from=day3)) == {s.fps["b2new"].hex()}
    assert find(
        F(org_id=w.orgs["exporter"], doc_type=380, time_from=s.times[0] - 1, time_to=day2)
    ) == {s.fps["a2"].hex()}
    A = queries.AttestationFilter
    atts = queries.find_attestations(e, A(attester_org_id=customs), limit=1000).items
    assert {a["attestation_id"] for a in atts} == {"0x" + a.hex() for a in s.atts.values()}
    revoked = [a for a in atts if a["revoked"]]
    assert [a["attestation_id"] for a in revoked] == ["0x" + s.atts["revoked"].hex()]
    held = queries.find_attestations(e, A(verdict="held")).items
    assert {a["reference"] for a in held} == {"HRT-2", "HRT-5"}
    one = queries.find_attestations(e, A(fingerprint=s.fps["n0"].hex())).items
    assert [a["verdict"] for a in one] == ["verified"]
    assert queries.find_attestations(e, A(time_to=day2)).items == []


def test_counts_per_day_and_per_type(scenario: Scenario) -> None:
    days = queries.daily_counts(scenario.engine)
    d1, d2, d3 = (day(t + 5) for t in scenario.times)
    assert [d["day"] for d in days] == sorted({d1, d2, d3})
    by_day = {d["day"]: (d["registrations"], d["attestations"]) for d in days}
    assert by_day[d1] == (5, 0)
    assert by_day[d2] == (5, 3)  # 4 batch members from the manifest, one recorded from calldata
    assert by_day[d3] == (1, 2)
    only = queries.daily_counts(scenario.engine, scenario.times[1] - 1, scenario.times[2] - 1)
    assert [d["day"] for d in only] == [d2]
    types = {t["doc_type"]: t["documents"] for t in queries.counts_by_doc_type(scenario.engine)}
    assert types == {861: 2, 380: 6, 720: 1, 851: 2}
    assert sum(types.values()) == 11


def test_history_tells_the_story_from_the_events(scenario: Scenario) -> None:
    s = scenario
    old = queries.document_history(s.engine, "0x" + s.fps["b2"].hex())
    assert old is not None and old["document"]["status"] == "superseded"
    assert [e["event"] for e in old["events"]] == ["DocumentRegistered", "DocumentSuperseded"]
    new = queries.document_history(s.engine, s.fps["b2new"].hex())
    assert new is not None
    assert [e["event"] for e in new["events"]] == [
        "DocumentRegistered",
        "DocumentSuperseded",  # of its predecessor, in the same transaction
        "AttestationRecorded",
    ]
    assert [a["verdict"] for a in new["attestations"]] == ["rejected"]
    b1 = queries.document_history(s.engine, s.fps["b1"].hex())
    assert b1 is not None
    assert [e["event"] for e in b1["events"]] == [
        "DocumentRegistered",
        "DocumentMetadataAnchored",
        "AttestationRecorded",
        "AttestationRevoked",
    ]
    member = queries.document_history(s.engine, s.fps["n0"].hex())
    assert member is not None
    assert [e["event"] for e in member["events"]] == [
        "BatchAnchored",
        "BatchMemberRecorded",
        "AttestationRecorded",
    ]
    assert queries.document_history(s.engine, "00" * 32) is None


def test_exports_parse_back_to_the_rows_of_the_query(scenario: Scenario, tmp_path: Path) -> None:
    f = queries.DocumentFilter()
    items = list(queries.iter_documents(scenario.engine, f))
    as_json = json.loads("".join(queries.export_json(scenario.engine, f)))
    assert as_json == {"export_version": 2, "items": items}
    rows = list(csv.DictReader(io.StringIO("".join(queries.export_csv(scenario.engine, f)))))
    assert [r["sha256"] for r in rows] == [i["sha256"] for i in items]
    for row, item in zip(rows, items, strict=True):
        flat = queries._flat(item)
        assert row == {
            k: "" if flat[k] is None else str(queries.csv_cell(flat[k]))
            for k in queries.CSV_COLUMNS
        }


def test_clean_index_and_its_exports_are_consistent(scenario: Scenario, tmp_path: Path) -> None:
    checker = Checker(scenario.world.registry, scenario.world.store)
    report = check_index(scenario.engine, checker)
    assert report.differences == []
    assert (report.documents, report.attestations) == (11, 5)
    f = queries.DocumentFilter()
    for name, export in (("x.csv", queries.export_csv), ("x.json", queries.export_json)):
        path = tmp_path / name
        path.write_text("".join(export(scenario.engine, f)))
        report = check_export(path, Checker(scenario.world.registry, scenario.world.store))
        assert report.ok, report.differences
        assert report.documents == 11


def tamper(engine: Engine, table: object, key: str, value: str, **changes: object) -> None:
    t = documents if table == "documents" else attestations
    with engine.begin() as conn:
        conn.execute(update(t).where(t.c[key] == value).values(**changes))


def test_tampered_rows_are_found(scenario: Scenario) -> None:
    s = scenario
    engine = s.fresh_index()
    a1, a3, m0, n0, b2 = (s.fps[n].hex() for n in ("a1", "a3", "m0", "n0", "b2"))
    fake_cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    tamper(engine, "documents", "fingerprint", a1, cid=fake_cid)
    tamper(engine, "documents", "fingerprint", a3, status="registered")  # hide a revocation
    tamper(engine, "documents", "fingerprint", m0, consignment_ref="SMGS-FORGED")
    tamper(engine, "documents", "fingerprint", n0, doc_type=861)
    tamper(engine, "documents", "fingerprint", b2, block_hash="0x" + "ab" * 32)
    att = "0x" + s.atts["revoked"].hex()
    tamper(engine, "attestations", "attestation_id", att, revoked=False)
    held = "0x" + s.atts["held"].hex()
    tamper(engine, "attestations", "attestation_id", held, verdict="cleared")
    report = check_index(engine, Checker(s.world.registry, s.world.store))
    found = {(d.row_id, d.field): (d.index_value, d.chain_value) for d in report.differences}
    assert found[(a1, "cid")][0] == fake_cid and found[(a1, "cid")][1].startswith("bafkrei")
    assert found[(a3, "status")] == ("registered", "revoked")
    assert found[(m0, "batch_member")][0]["consignment_ref"] == "SMGS-FORGED"
    assert (n0, "batch_member") in found
    assert found[(n0, "doc_type")] == (861, 380)  # getDocument knows the recorded member's type
    assert found[(b2, "block_hash")][0] == "0x" + "ab" * 32
    assert found[(att, "revoked")] == (False, True)
    assert found[(held, "verdict")] == ("cleared", "held")
    assert len(found) == 8


def test_tampered_export_is_found(scenario: Scenario, tmp_path: Path) -> None:
    s = scenario
    f = queries.DocumentFilter()
    text = "".join(queries.export_csv(s.engine, f))
    a3 = s.fps["a3"].hex()
    lines = text.splitlines()
    lines = [ln.replace(",revoked,", ",registered,") if ln.startswith(a3) else ln for ln in lines]
    path = tmp_path / "tampered.csv"
    path.write_text("\n".join(lines) + "\n")
    report = check_export(path, Checker(s.world.registry, s.world.store))
    assert [(d.row_id, d.field, d.index_value, d.chain_value) for d in report.differences] == [
        (a3, "status", "registered", "revoked")
    ]
    items = json.loads("".join(queries.export_json(s.engine, f)))["items"]
    for item in items:
        if item["sha256"] == a3:
            item["consignment_ref"] = "SMGS-X"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(items))
    report = check_export(path, Checker(s.world.registry, s.world.store))
    assert [(d.row_id, d.field) for d in report.differences] == [(a3, "consignment_ref")]
    assert len(list(read_export(path))) == 11


def test_export_check_without_the_manifests_says_membership_is_unproven(
    scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    path = tmp_path / "x.csv"
    path.write_text("".join(queries.export_csv(s.engine, queries.DocumentFilter())))
    report = check_export(path, Checker(s.world.registry, store=None))
    unproven = {d.row_id for d in report.differences if d.field == "merkle_proof"}
    assert s.manifest is not None
    assert unproven == {e.fingerprint for e in s.manifest.entries}
    # the member recorded from calldata is still proven, from its transaction
    assert s.fps["n0"].hex() not in unproven
    assert all(d.field == "merkle_proof" for d in report.differences)


def test_a_document_missing_from_the_chain_is_reported(scenario: Scenario) -> None:
    engine = scenario.fresh_index()
    a2 = scenario.fps["a2"].hex()
    tamper(engine, "documents", "fingerprint", a2, tx_hash="0x" + "01" * 32)
    report = check_index(engine, Checker(scenario.world.registry, scenario.world.store))
    assert [(d.row_id, d.field) for d in report.differences] == [(a2, "tx_hash")]


def test_the_index_is_checked_at_the_block_it_has_reached(world: World) -> None:
    """A revocation the indexer has not read yet is not a difference; once read, it agrees."""
    fp = world.register(ref="LATE")
    indexer = world.indexer()
    indexer.sync()
    world.registry.revoke(world.sender("exporter"), fp, RevocationReason.CANCELLED)
    later = world.register(ref="LATER")
    report = check_index(world.engine, Checker(world.registry, world.store))
    assert report.ok and report.documents == 1
    assert report.block == indexer.indexed_block() < world.w3.eth.block_number
    indexer.sync()
    report = check_index(world.engine, Checker(world.registry, world.store))
    assert report.ok and report.documents == 2
    assert later.hex() in {
        i["sha256"] for i in queries.iter_documents(world.engine, queries.DocumentFilter())
    }
