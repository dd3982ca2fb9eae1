"""The indexer: every event kind in its table, incremental sync equal to a rebuild,
reorganisations, reset chains, confirmations, batch members from manifests."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from web3 import HTTPProvider

from ledger.chain.localchain import free_port
from ledger.chain.merkle import verify
from ledger.chain.relay import RegisterRequest, sign_request
from ledger.chain.sender import connect
from ledger.cid import Cid
from ledger.db import attestations, batch_members, batches, documents, events, keys, organisations
from ledger.index.consistency import Checker, check_index
from ledger.types import RevocationReason, Verdict
from tests.databases import Databases
from tests.index.conftest import RAW, World, dump, make_world, mine, revert, snapshot, start_anvil

pytestmark = pytest.mark.chain


def rows(world: World, table, **where):  # type: ignore[no-untyped-def]
    query = select(table)
    for col, value in where.items():
        query = query.where(table.c[col] == value)
    with world.engine.connect() as conn:
        return conn.execute(query).all()


def one(world: World, table, **where):  # type: ignore[no-untyped-def]
    (row,) = rows(world, table, **where)
    return row


def assert_same_as_fresh(world: World, **kwargs: object) -> None:
    """The incremental index equals a from-scratch index of the same chain."""
    fresh = world.fresh_engine()
    world.indexer(fresh, **kwargs).sync()  # type: ignore[arg-type]
    assert dump(world.engine) == dump(fresh)


def everything(world: World) -> dict[str, object]:
    """One of every action the contract has; returns what was done."""
    r, w3 = world.registry, world.w3
    done: dict[str, object] = {}
    done["plain"] = world.register("exporter", "SMGS-24-1")
    meta = RAW + os.urandom(32)
    done["meta"] = world.register("issuer", "SMGS-24-2", meta)
    done["meta_cid"] = meta
    # relayed
    exporter = world.accounts["exporter"]
    request = RegisterRequest(
        exporter.address,
        os.urandom(32),
        861,
        RAW + os.urandom(32),
        "SMGS-24-3",
        b"",
        0,
        int(w3.eth.get_block("latest")["timestamp"]) + 3600,
    )
    r.register_with_signature(
        world.sender("relayer"), request, sign_request(exporter, request, r.chain_id, r.address)
    )
    done["relayed"] = request.fingerprint
    # batch with its manifest in the store, one member recorded on its own
    manifest, manifest_cid = world.put_manifest(5)
    tree = manifest.tree()
    r.anchor_batch(world.sender("exporter"), tree.root, 5, manifest_cid)
    r.record_batch_member(
        world.sender("customs"), tree.root, manifest.entries[1].member(), tree.proof(1)
    )
    done["batch"] = (manifest, tree.root)
    # a batch whose manifest the store does not hold
    missing, _ = world.put_manifest(3)
    r.anchor_batch(world.sender("issuer"), missing.tree().root, 3, RAW + os.urandom(32))
    done["missing_root"] = missing.tree().root
    # revoke, supersede (including a batch member), attest and revoke an attestation
    r.revoke(world.sender("exporter"), done["plain"], RevocationReason.CANCELLED)
    new = os.urandom(32)
    r.supersede(world.sender("issuer"), done["meta"], new, 861, RAW + os.urandom(32), "SMGS-24-2a")
    done["new"] = new
    member = bytes.fromhex(manifest.entries[1].fingerprint)
    r.revoke(world.sender("exporter"), member, RevocationReason.ISSUED_IN_ERROR)
    att, _ = r.attest(world.sender("customs"), done["relayed"], Verdict.CLEARED, "HRT-77")
    att2, _ = r.attest(world.sender("customs"), done["relayed"], Verdict.HELD, "HRT-78")
    r.revoke_attestation(world.sender("customs"), att2)
    done["att"], done["att2"] = att, att2
    r.retire_key(world.sender("admin"), world.accounts["exporter2"].address)
    return done


def test_every_event_kind_lands_in_its_table(world: World) -> None:
    done = everything(world)
    indexer = world.indexer()
    assert indexer.sync() > 0
    r = world.registry

    assert {o.name for o in rows(world, organisations)} == {
        "Demo Exporter LLP",
        "Demo Chamber of Commerce",
        "Demo Hairatan Customs",
        "Demo Second Exporter",
    }
    customs = one(world, organisations, org_id=world.orgs["customs"])
    assert (customs.country, customs.kind) == ("AF", "customs")
    assert one(world, organisations, org_id=world.orgs["issuer"]).kind == "issuing_body"

    key = one(world, keys, address=world.accounts["exporter"].address)
    assert key.org_id == world.orgs["exporter"] and key.retired_at is None
    retired = one(world, keys, address=world.accounts["exporter2"].address)
    info = r.key_info(world.accounts["exporter2"].address)
    assert retired.retired_at == info.valid_until == retired.valid_until

    plain = one(world, documents, fingerprint=done["plain"].hex())  # type: ignore[attr-defined]
    assert plain.status == "revoked" and plain.revoked_reason == RevocationReason.CANCELLED
    assert plain.revoked_by == world.accounts["exporter"].address and plain.revoked_at
    assert plain.org_id == world.orgs["exporter"] and plain.consignment_ref == "SMGS-24-1"
    assert plain.cid.startswith("bafk") and Cid.parse(plain.cid).version == 1
    record = r.document(done["plain"])  # type: ignore[arg-type]
    assert record is not None and plain.registered_at == record.registered_at
    receipt_block = world.w3.eth.get_block(plain.block_number)
    assert plain.block_hash == receipt_block["hash"].to_0x_hex()
    tx = world.w3.eth.get_transaction(plain.tx_hash)
    assert tx["blockNumber"] == plain.block_number

    meta = one(world, documents, fingerprint=done["meta"].hex())  # type: ignore[attr-defined]
    assert meta.metadata_cid == str(Cid.parse(done["meta_cid"]))  # type: ignore[arg-type]
    assert meta.status == "superseded" and meta.superseded_by == done["new"].hex()  # type: ignore[attr-defined]
    new = one(world, documents, fingerprint=done["new"].hex())  # type: ignore[attr-defined]
    assert new.supersedes == done["meta"].hex() and new.status == "registered"  # type: ignore[attr-defined]
    assert new.org_id == world.orgs["issuer"] and new.metadata_cid is None

    relayed = one(world, documents, fingerprint=done["relayed"].hex())  # type: ignore[attr-defined]
    assert relayed.issuer == world.accounts["exporter"].address

    manifest, root = done["batch"]  # type: ignore[misc]
    root_hex = "0x" + root.hex()
    batch = one(world, batches, root=root_hex)
    assert batch.size == 5 and batch.org_id == world.orgs["exporter"] and batch.manifest_cid
    members = rows(world, batch_members, root=root_hex)
    assert len(members) == 5
    for m in members:
        proof = [bytes.fromhex(p[2:]) for p in json.loads(m.proof)]
        entry = next(e for e in manifest.entries if e.fingerprint == m.fingerprint)
        assert verify(proof, root, entry.member().leaf())
        doc = one(world, documents, fingerprint=m.fingerprint)
        assert doc.batch_root == root_hex and doc.tx_hash == batch.tx_hash
        assert doc.log_index == batch.log_index and doc.cid == entry.cid
        assert doc.issuer == world.accounts["exporter"].address
    revoked_member = one(world, documents, fingerprint=manifest.entries[1].fingerprint)
    assert revoked_member.status == "revoked"

    missing = one(world, batches, root="0x" + done["missing_root"].hex())  # type: ignore[attr-defined]
    assert missing.size == 3 and not rows(world, batch_members, root=missing.root)

    att = one(world, attestations, attestation_id="0x" + done["att"].hex())  # type: ignore[attr-defined]
    assert (att.verdict, att.customs_ref, att.revoked) == ("cleared", "HRT-77", False)
    assert att.org_id == world.orgs["customs"] and att.fingerprint == done["relayed"].hex()  # type: ignore[attr-defined]
    att2 = one(world, attestations, attestation_id="0x" + done["att2"].hex())  # type: ignore[attr-defined]
    assert att2.revoked and att2.revoked_by == world.accounts["customs"].address

    names = {e.name for e in rows(world, events)}
    assert names >= {
        "OrganisationAdmitted",
        "KeyAdded",
        "KeyRetired",
        "DocumentRegistered",
        "DocumentMetadataAnchored",
        "RegistrationRelayed",
        "BatchAnchored",
        "BatchMemberRecorded",
        "DocumentRevoked",
        "DocumentSuperseded",
        "AttestationRecorded",
        "AttestationRevoked",
    }
    relay_event = one(world, events, name="RegistrationRelayed")
    args = json.loads(relay_event.args)
    assert args["nonce"] == 0 and args["fingerprint"] == "0x" + done["relayed"].hex()  # type: ignore[attr-defined]
    assert relay_event.subject == done["relayed"].hex()  # type: ignore[attr-defined]
    assert relay_event.block_time == world.w3.eth.get_block(relay_event.block_number)["timestamp"]
    status = indexer.status()
    assert status.lag == 0 and status.indexed_block == status.head == world.w3.eth.block_number
    assert indexer.sync() == 0


def test_incremental_sync_equals_rebuild(world: World) -> None:
    indexer = world.indexer()
    indexer.sync()
    r = world.registry
    fps = []
    for i in range(3):
        fps.append(world.register(ref=f"SMGS-{i}"))
        indexer.sync()
    manifest, cid = world.put_manifest(4)
    r.anchor_batch(world.sender("issuer"), manifest.tree().root, 4, cid)
    indexer.sync(max_blocks=1)
    r.revoke(world.sender("exporter"), fps[0], 1)
    indexer.sync()
    att, _ = r.attest(world.sender("customs"), fps[1], Verdict.VERIFIED, "X")
    indexer.sync()
    r.revoke_attestation(world.sender("customs"), att)
    r.supersede(world.sender("exporter"), fps[1], os.urandom(32), 861, RAW + os.urandom(32), "S")
    indexer.sync()
    r.retire_key(world.sender("admin"), world.accounts["exporter2"].address)
    indexer.sync(max_blocks=2)
    incremental = dump(world.engine)
    assert_same_as_fresh(world)
    indexer.rebuild()
    assert dump(world.engine) == incremental


def test_reorganisation_rolls_back_and_reindexes(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    r = world.registry
    kept = world.register(ref="KEPT")
    att, _ = r.attest(world.sender("customs"), kept, Verdict.CLEARED, "A")
    indexer = world.indexer()
    indexer.sync()
    before = dump(world.engine)
    snap = snapshot(world.w3)
    # a branch that changes old rows and adds new ones, indexed, then dropped
    r.revoke(world.sender("exporter"), kept, 2)
    r.revoke_attestation(world.sender("customs"), att)
    r.retire_key(world.sender("admin"), world.accounts["exporter2"].address)
    lost = world.register(ref="LOST")
    for _ in range(3):
        world.register(ref="LOST-MORE")
    manifest, cid = world.put_manifest(3)
    r.anchor_batch(world.sender("exporter"), manifest.tree().root, 3, cid)
    indexer.sync()
    assert one(world, documents, fingerprint=kept.hex()).status == "revoked"
    revert(world.w3, snap)
    world.refresh()
    r = world.registry
    # the other branch: fewer blocks, other transactions
    other = world.register(ref="OTHER")
    r.supersede(world.sender("exporter"), kept, os.urandom(32), 861, RAW + os.urandom(32), "NEW")
    with caplog.at_level(logging.WARNING, logger="ledger.index.indexer"):
        indexer.sync()
    assert "reorganisation" in caplog.text and "rebuilding" not in caplog.text
    assert not rows(world, documents, fingerprint=lost.hex())
    assert one(world, documents, fingerprint=other.hex()).consignment_ref == "OTHER"
    doc = one(world, documents, fingerprint=kept.hex())
    assert doc.status == "superseded" and doc.revoked_by is None and doc.revoked_at is None
    assert not one(world, attestations, attestation_id="0x" + att.hex()).revoked
    assert one(world, keys, address=world.accounts["exporter2"].address).retired_at is None
    assert not rows(world, batches)
    assert_same_as_fresh(world)
    # a reorganisation back to exactly the indexed state, then a longer branch
    revert_again = snapshot(world.w3)
    world.register(ref="GONE")
    indexer.sync()
    revert(world.w3, revert_again)
    world.refresh()
    mine(world.w3, 3)
    world.register(ref="LATER")
    indexer.sync()
    assert_same_as_fresh(world)
    assert len(dump(world.engine)["documents"]) == len(before["documents"]) + 3


def test_reset_chain_is_noticed_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, databases: Databases
) -> None:
    chain = start_anvil(tmp_path / "a")
    port = chain.port
    try:
        w3 = connect(chain.url)
        world = make_world(w3, tmp_path, new_engine=databases.new)
        admin = world.accounts["admin"]
        for i in range(4):
            world.register(ref=f"OLD-{i}")
        indexer = world.indexer()
        indexer.sync()
        assert len(rows(world, documents)) == 4
        chain.stop()
        chain = start_anvil(tmp_path / "b", port)  # same port, same chain id, empty chain
        w3 = connect(chain.url)
        again = make_world(w3, tmp_path / "b", deployer=admin, new_engine=databases.new)
        again.engine = world.engine  # the same index database
        assert again.registry.address == world.registry.address  # same deployer, same nonce
        again.register(ref="NEW")
        indexer = again.indexer()
        with caplog.at_level(logging.WARNING, logger="ledger.index.indexer"):
            indexer.sync()
        assert "reset" in caplog.text
        docs = rows(again, documents)
        assert [d.consignment_ref for d in docs] == ["NEW"]
        assert_same_as_fresh(again)
    finally:
        chain.stop()


def test_confirmations_hold_back_the_last_blocks(world: World) -> None:
    indexer = world.indexer(confirmations=2)
    first = world.register(ref="FIRST")
    second = world.register(ref="SECOND")
    indexer.sync()
    head = world.w3.eth.block_number
    assert indexer.status().indexed_block == head - 2
    assert indexer.status().lag == 2
    assert not rows(world, documents, fingerprint=first.hex())
    mine(world.w3)
    indexer.sync()
    assert rows(world, documents, fingerprint=first.hex())
    assert not rows(world, documents, fingerprint=second.hex())
    mine(world.w3)
    indexer.sync()
    assert rows(world, documents, fingerprint=second.hex())
    assert_same_as_fresh(world, confirmations=2)


def test_batch_member_registered_again_keeps_the_first_record(world: World) -> None:
    r = world.registry
    manifest, cid = world.put_manifest(2)
    r.anchor_batch(world.sender("exporter"), manifest.tree().root, 2, cid)
    entry = manifest.entries[0]
    indexer = world.indexer()
    indexer.sync()
    # the chain lets another organisation register an unrecorded batch member on its own
    r.register(
        world.sender("issuer"), bytes.fromhex(entry.fingerprint), 861, RAW + os.urandom(32), "DUP"
    )
    r.revoke(world.sender("issuer"), bytes.fromhex(entry.fingerprint), 3)
    indexer.sync()
    doc = one(world, documents, fingerprint=entry.fingerprint)
    assert doc.consignment_ref == entry.consignment_ref and doc.status == "revoked"
    assert_same_as_fresh(world)


def test_batch_without_store_and_second_batch_with_same_member(world: World) -> None:
    r = world.registry
    manifest, cid = world.put_manifest(3)
    r.anchor_batch(world.sender("exporter"), manifest.tree().root, 3, cid)
    again = type(manifest)((manifest.entries[0], *world.put_manifest(1)[0].entries))
    stored = world.store.put([again.to_json()])
    r.anchor_batch(world.sender("exporter"), again.tree().root, 2, bytes(Cid.parse(stored.cid)))
    world.indexer().sync()
    assert len(rows(world, batch_members, fingerprint=manifest.entries[0].fingerprint)) == 2
    assert len(rows(world, documents)) == 4
    blind = world.fresh_engine()
    world.indexer(blind, store=None).sync()
    with blind.connect() as conn:
        assert conn.execute(select(batches)).all() and not conn.execute(select(documents)).all()


def test_run_loop_follows_the_chain_and_survives_an_outage(world: World) -> None:
    indexer = world.indexer()
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop, 0.05), daemon=True)
    thread.start()
    try:
        fp = world.register()
        deadline = time.monotonic() + 10
        while not rows(world, documents, fingerprint=fp.hex()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    # a chain that does not answer: status says so, the loop keeps going
    offline = world.indexer()
    offline._provider = HTTPProvider(
        f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 1}
    )
    status = offline.status()
    assert status.head is None and status.lag is None
    assert status.indexed_block == indexer.indexed_block()
    stop = threading.Event()
    thread = threading.Thread(target=offline.run, args=(stop, 0.05), daemon=True)
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive()
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_recorded_member_of_a_batch_without_manifest_comes_from_calldata(world: World) -> None:
    r = world.registry
    manifest, _ = world.put_manifest(3)
    tree = manifest.tree()
    r.anchor_batch(world.sender("issuer"), tree.root, 3, RAW + os.urandom(32))  # not in the store
    indexer = world.indexer()
    indexer.sync()
    assert not rows(world, documents)
    entry = manifest.entries[2]
    r.record_batch_member(world.sender("customs"), tree.root, entry.member(), tree.proof(2))
    r.attest(world.sender("customs"), bytes.fromhex(entry.fingerprint), Verdict.VERIFIED, "T-1")
    indexer.sync()
    doc = one(world, documents, fingerprint=entry.fingerprint)
    batch = one(world, batches, root="0x" + tree.root.hex())
    assert (doc.cid, doc.doc_type, doc.consignment_ref) == (entry.cid, 380, entry.consignment_ref)
    assert doc.issuer == world.accounts["issuer"].address and doc.batch_root == batch.root
    assert doc.registered_at == batch.anchored_at and doc.org_id == world.orgs["issuer"]
    member = one(world, batch_members, fingerprint=entry.fingerprint)
    proof = [bytes.fromhex(p[2:]) for p in json.loads(member.proof)]
    assert verify(proof, tree.root, entry.member().leaf())
    assert one(world, attestations).fingerprint == entry.fingerprint
    assert_same_as_fresh(world)


def test_reorganisation_of_every_event_kind(world: World) -> None:
    indexer = world.indexer()
    world.register(ref="BEFORE")
    indexer.sync()
    snap = snapshot(world.w3)
    everything(world)
    indexer.sync(max_blocks=3)
    revert(world.w3, snap)
    world.refresh()
    mine(world.w3, 2)
    done = everything(world)
    indexer.sync()
    assert_same_as_fresh(world)
    assert one(world, documents, fingerprint=done["plain"].hex()).status == "revoked"  # type: ignore[attr-defined]


def test_a_range_read_while_the_chain_reorganises_is_not_written(world: World) -> None:
    indexer = world.indexer()
    snap = snapshot(world.w3)
    world.register(ref="A")
    indexer.sync()
    indexed = indexer.indexed_block()
    revert(world.w3, snap)
    world.refresh()
    mine(world.w3, 3)
    head = world.w3.eth.block_number
    # the next block no longer follows the indexed one: nothing is read or written
    assert indexer._range_tip(indexed + 1, head) is None
    # a tip that changed between eth_getLogs and the headers: nothing is written
    before = dump(world.engine)
    stale = "0x" + "00" * 32
    assert indexer._write_range(indexed + 1, head, [], stale) is None
    assert dump(world.engine) == before
    indexer.sync()  # the reorganisation is found and rolled back
    assert not rows(world, documents)
    assert_same_as_fresh(world)


def test_revoked_batch_revokes_every_member_still_registered(world: World) -> None:
    """Members in rows of earlier ranges and of the same range as the revocation, recorded
    or not, turn revoked with the batch; one revoked before keeps its own reason."""
    r = world.registry
    old, old_cid = world.put_manifest(3)
    r.anchor_batch(world.sender("exporter"), old.tree().root, 3, old_cid)
    r.record_batch_member(
        world.sender("customs"), old.tree().root, old.entries[0].member(), old.tree().proof(0)
    )
    r.record_batch_member(
        world.sender("customs"), old.tree().root, old.entries[2].member(), old.tree().proof(2)
    )
    r.revoke(world.sender("exporter"), bytes.fromhex(old.entries[2].fingerprint), 1)
    indexer = world.indexer()
    indexer.sync()
    new, new_cid = world.put_manifest(2)
    r.anchor_batch(world.sender("exporter"), new.tree().root, 2, new_cid)
    r.revoke_batch(world.sender("exporter"), old.tree().root, RevocationReason.CANCELLED)
    r.revoke_batch(world.sender("admin"), new.tree().root, RevocationReason.ISSUED_IN_ERROR)
    indexer.sync()
    first, second, third = (one(world, documents, fingerprint=e.fingerprint) for e in old.entries)
    for doc in (first, second):
        assert doc.status == "revoked" and doc.revoked_reason == RevocationReason.CANCELLED
        assert doc.revoked_by == world.accounts["exporter"].address
    assert third.status == "revoked" and third.revoked_reason == 1
    for entry in new.entries:
        doc = one(world, documents, fingerprint=entry.fingerprint)
        assert doc.status == "revoked" and doc.revoked_by == world.accounts["admin"].address
    assert {e.name for e in rows(world, events)} >= {"BatchRevoked"}
    assert_same_as_fresh(world)
    report = check_index(world.engine, Checker(r, world.store))
    assert report.differences == []
