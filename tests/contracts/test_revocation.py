"""Revocation and supersession: who may change a document's status, and only once."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput, NotFound
from ledger.types import DocStatus, RevocationReason
from tests.contracts.conftest import (
    World,
    check_error,
    fingerprint,
    new_key,
    random_cid,
    same_address,
)

pytestmark = pytest.mark.chain


def registered(world: World, role: str = "exporter") -> bytes:
    fp = fingerprint()
    world.registry.register(world.sender(role), fp, 861, random_cid(), "SMGS-1")
    return fp


def second_key(world: World, org: str = "exporter") -> LocalAccount:
    key = new_key(world)
    world.registry.add_key(
        world.sender("admin"), world.orgs[org], key.address, 1, world.now() + 10**6
    )
    return key


def status(world: World, fp: bytes) -> DocStatus:
    doc = world.registry.document(fp)
    assert doc is not None
    return doc.status


# ------------------------------------------------------------------ revocation


def test_revoke_by_the_issuing_key(world: World) -> None:
    r = world.registry
    fp = registered(world)
    sent = r.revoke(world.sender("exporter"), fp, RevocationReason.ISSUED_IN_ERROR)
    (event,) = r.events(sent.receipt, "DocumentRevoked")
    assert event["args"]["fingerprint"] == fp
    assert same_address(event["args"]["by"], world.accounts["exporter"].address)
    assert event["args"]["reason"] == RevocationReason.ISSUED_IN_ERROR
    doc = r.document(fp)
    assert doc is not None
    assert doc.status == DocStatus.REVOKED
    assert same_address(
        doc.issuer, world.accounts["exporter"].address
    )  # the record keeps its issuer


def test_revoke_by_another_key_of_the_issuing_organisation(world: World) -> None:
    r = world.registry
    fp = registered(world)
    other = second_key(world)
    sent = r.revoke(r.sender(other), fp, RevocationReason.KEY_COMPROMISED)
    (event,) = r.events(sent.receipt, "DocumentRevoked")
    assert same_address(event["args"]["by"], other.address)
    assert event["args"]["reason"] == RevocationReason.KEY_COMPROMISED
    assert status(world, fp) == DocStatus.REVOKED


def test_revoke_by_admin(world: World) -> None:
    r = world.registry
    fp = registered(world, "issuer")
    sent = r.revoke(world.sender("admin"), fp, RevocationReason.FRAUD_SUSPECTED)
    (event,) = r.events(sent.receipt, "DocumentRevoked")
    assert same_address(event["args"]["by"], world.accounts["admin"].address)
    assert event["args"]["reason"] == RevocationReason.FRAUD_SUSPECTED
    assert status(world, fp) == DocStatus.REVOKED


@pytest.mark.parametrize("role", ["exporter2", "issuer", "customs", "auditor"])
def test_revoke_by_another_organisation(world: World, role: str) -> None:
    fp = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.revoke(world.sender(role), fp, 0)
    check_error(
        e.value,
        "NotOwningOrganisation",
        Forbidden,
        key=world.accounts[role].address,
        orgId=world.orgs["exporter"],
    )
    assert status(world, fp) == DocStatus.REGISTERED


def test_revoke_by_unknown_key(world: World) -> None:
    fp = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.revoke(world.sender("outsider"), fp, 0)
    check_error(e.value, "UnknownKey", Forbidden, key=world.accounts["outsider"].address)


def test_revoke_by_retired_key_of_the_issuer(world: World) -> None:
    fp = registered(world)
    world.registry.retire_key(world.sender("admin"), world.accounts["exporter"].address)
    with pytest.raises(ContractError) as e:
        world.registry.revoke(world.sender("exporter"), fp, 0)
    check_error(e.value, "KeyNotValid", Forbidden, key=world.accounts["exporter"].address)
    assert status(world, fp) == DocStatus.REGISTERED


def test_revoke_twice(world: World) -> None:
    fp = registered(world)
    world.registry.revoke(world.sender("exporter"), fp, 0)
    for role in ("exporter", "admin"):
        with pytest.raises(ContractError) as e:
            world.registry.revoke(world.sender(role), fp, 0)
        error = check_error(
            e.value, "DocumentNotActive", Conflict, fingerprint=fp, status=int(DocStatus.REVOKED)
        )
        assert "revoked" in str(error)


def test_revoke_unknown_document(world: World) -> None:
    fp = fingerprint()
    for role in ("exporter", "admin"):
        with pytest.raises(ContractError) as e:
            world.registry.revoke(world.sender(role), fp, 0)
        check_error(e.value, "UnknownDocument", NotFound, fingerprint=fp)


# ------------------------------------------------------------------ supersession


def test_supersede(world: World) -> None:
    r = world.registry
    old = registered(world)
    new, cid, meta = fingerprint(), random_cid(), random_cid()
    sent = r.supersede(world.sender("exporter"), old, new, 861, cid, "SMGS-1-AMENDED", meta)

    (registered_event,) = r.events(sent.receipt, "DocumentRegistered")
    assert registered_event["args"]["fingerprint"] == new
    assert same_address(registered_event["args"]["issuer"], world.accounts["exporter"].address)
    assert registered_event["args"]["docType"] == 861
    assert registered_event["args"]["cidPrefix"] == cid[:4]
    assert registered_event["args"]["cidDigest"] == cid[4:]
    assert registered_event["args"]["consignmentRef"] == "SMGS-1-AMENDED"
    (anchored,) = r.events(sent.receipt, "DocumentMetadataAnchored")
    assert anchored["args"]["fingerprint"] == new
    assert anchored["args"]["metadataCid"] == meta
    (superseded,) = r.events(sent.receipt, "DocumentSuperseded")
    assert superseded["args"]["oldFingerprint"] == old
    assert superseded["args"]["newFingerprint"] == new
    assert same_address(superseded["args"]["by"], world.accounts["exporter"].address)
    # DocumentRegistered comes before DocumentSuperseded in the receipt.
    assert registered_event["logIndex"] < superseded["logIndex"]

    assert status(world, old) == DocStatus.SUPERSEDED
    assert status(world, new) == DocStatus.REGISTERED
    assert r.superseded_by(old) == new
    assert r.supersedes(new) == old
    assert r.superseded_by(new) is None
    assert r.supersedes(old) is None


def test_supersede_without_metadata_by_another_key_of_the_organisation(world: World) -> None:
    r = world.registry
    old = registered(world)
    other = second_key(world)
    new = fingerprint()
    sent = r.supersede(r.sender(other), old, new, 380, random_cid(), "R")
    assert r.events(sent.receipt, "DocumentMetadataAnchored") == []
    (event,) = r.events(sent.receipt, "DocumentSuperseded")
    assert same_address(event["args"]["by"], other.address)
    new_doc = r.document(new)
    assert (
        new_doc is not None
        and same_address(new_doc.issuer, other.address)
        and new_doc.doc_type == 380
    )


def test_supersession_chain(world: World) -> None:
    r = world.registry
    a = registered(world)
    b, c = fingerprint(), fingerprint()
    r.supersede(world.sender("exporter"), a, b, 861, random_cid(), "R")
    r.supersede(world.sender("exporter"), b, c, 861, random_cid(), "R")
    assert [status(world, fp) for fp in (a, b, c)] == [
        DocStatus.SUPERSEDED,
        DocStatus.SUPERSEDED,
        DocStatus.REGISTERED,
    ]
    assert (r.superseded_by(a), r.superseded_by(b), r.supersedes(c), r.supersedes(b)) == (
        b,
        c,
        b,
        a,
    )


def test_supersede_twice(world: World) -> None:
    r = world.registry
    old = registered(world)
    r.supersede(world.sender("exporter"), old, fingerprint(), 861, random_cid(), "R")
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender("exporter"), old, fingerprint(), 861, random_cid(), "R")
    check_error(
        e.value, "DocumentNotActive", Conflict, fingerprint=old, status=int(DocStatus.SUPERSEDED)
    )
    with pytest.raises(ContractError) as e:
        r.revoke(world.sender("exporter"), old, 0)
    check_error(
        e.value, "DocumentNotActive", Conflict, fingerprint=old, status=int(DocStatus.SUPERSEDED)
    )


def test_supersede_a_revoked_document(world: World) -> None:
    r = world.registry
    old = registered(world)
    r.revoke(world.sender("exporter"), old, 0)
    new = fingerprint()
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender("exporter"), old, new, 861, random_cid(), "R")
    check_error(
        e.value, "DocumentNotActive", Conflict, fingerprint=old, status=int(DocStatus.REVOKED)
    )
    assert r.document(new) is None
    assert r.superseded_by(old) is None


def test_supersede_unknown_document(world: World) -> None:
    old = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.supersede(
            world.sender("exporter"), old, fingerprint(), 861, random_cid(), "R"
        )
    check_error(e.value, "UnknownDocument", NotFound, fingerprint=old)


@pytest.mark.parametrize("role", ["exporter2", "issuer"])
def test_supersede_by_another_organisation(world: World, role: str) -> None:
    r = world.registry
    old, new = registered(world), fingerprint()
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender(role), old, new, 861, random_cid(), "R")
    check_error(
        e.value,
        "NotOwningOrganisation",
        Forbidden,
        key=world.accounts[role].address,
        orgId=world.orgs["exporter"],
    )
    assert status(world, old) == DocStatus.REGISTERED
    assert r.document(new) is None


def test_admin_may_not_supersede(world: World) -> None:
    """The admin may revoke any document, but an amendment must come from its issuer."""
    old = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.supersede(world.sender("admin"), old, fingerprint(), 861, random_cid(), "R")
    check_error(e.value, "UnknownKey", Forbidden, key=world.accounts["admin"].address)


@pytest.mark.parametrize("role", ["customs", "auditor"])
def test_supersede_by_wrong_kind(world: World, role: str) -> None:
    old = registered(world)
    with pytest.raises(ContractError) as e:
        world.registry.supersede(world.sender(role), old, fingerprint(), 861, random_cid(), "R")
    check_error(e.value, "WrongOrganisationKind", Forbidden, key=world.accounts[role].address)


def test_supersede_with_an_invalid_or_registered_replacement(world: World) -> None:
    r = world.registry
    old, taken = registered(world), registered(world, "exporter2")
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender("exporter"), old, taken, 861, random_cid(), "R")
    check_error(e.value, "DocumentAlreadyRegistered", Conflict, fingerprint=taken)
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender("exporter"), old, old, 861, random_cid(), "R")
    check_error(e.value, "DocumentAlreadyRegistered", Conflict, fingerprint=old)
    new = fingerprint()
    with pytest.raises(ContractError) as e:
        r.supersede(world.sender("exporter"), old, new, 0, random_cid(), "R")
    check_error(e.value, "InvalidDocument", InvalidInput, fingerprint=new)
    assert status(world, old) == DocStatus.REGISTERED
