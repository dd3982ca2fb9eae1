"""Registering documents: the record, the events, invalid input, and who may register when."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput
from ledger.types import DocStatus
from tests.conftest import advance_time
from tests.contracts.conftest import (
    CERTIFICATE_OF_ORIGIN,
    DAG_PB,
    World,
    check_error,
    fingerprint,
    new_key,
    random_cid,
    same_address,
)

pytestmark = pytest.mark.chain

REGISTER_GAS_BUDGET = 53_000


def block_time(world: World, block_number: int) -> int:
    return int(world.w3.eth.get_block(block_number)["timestamp"])


@pytest.mark.parametrize("role", ["exporter", "issuer"])
def test_register_records_and_emits(world: World, role: str) -> None:
    r = world.registry
    fp, cid = fingerprint(), random_cid()
    sent = r.register(world.sender(role), fp, CERTIFICATE_OF_ORIGIN, cid, "SMGS-24-000123")
    assert sent.receipt["gasUsed"] <= REGISTER_GAS_BUDGET
    doc = r.document(fp)
    assert doc is not None
    assert same_address(doc.issuer, world.accounts[role].address)
    assert doc.registered_at == block_time(world, sent.block_number)
    assert doc.doc_type == CERTIFICATE_OF_ORIGIN
    assert doc.status == DocStatus.REGISTERED
    (event,) = r.events(sent.receipt, "DocumentRegistered")
    args = event["args"]
    assert args["fingerprint"] == fp
    assert same_address(args["issuer"], world.accounts[role].address)
    assert args["docType"] == CERTIFICATE_OF_ORIGIN
    assert args["cidPrefix"] == cid[:4]
    assert args["cidDigest"] == cid[4:]
    assert args["consignmentRef"] == "SMGS-24-000123"
    assert r.events(sent.receipt, "DocumentMetadataAnchored") == []


def test_register_with_metadata(world: World) -> None:
    r = world.registry
    fp, cid, meta = fingerprint(), random_cid(DAG_PB), random_cid()
    sent = r.register(world.sender("exporter"), fp, 380, cid, "", metadata_cid=meta)
    (registered,) = r.events(sent.receipt, "DocumentRegistered")
    assert registered["args"]["fingerprint"] == fp
    assert registered["args"]["docType"] == 380
    assert registered["args"]["cidPrefix"] == DAG_PB
    assert registered["args"]["consignmentRef"] == ""
    (anchored,) = r.events(sent.receipt, "DocumentMetadataAnchored")
    assert anchored["args"]["fingerprint"] == fp
    assert anchored["args"]["metadataCid"] == meta
    doc = r.document(fp)
    assert doc is not None and doc.status == DocStatus.REGISTERED and doc.doc_type == 380


def test_unknown_document_reads_as_none(world: World) -> None:
    assert world.registry.document(fingerprint()) is None


def test_register_twice(world: World) -> None:
    r = world.registry
    fp = fingerprint()
    sent = r.register(world.sender("exporter"), fp, CERTIFICATE_OF_ORIGIN, random_cid(), "A")
    registered_at = block_time(world, sent.block_number)
    for role in ("exporter", "exporter2", "issuer"):
        with pytest.raises(ContractError) as e:
            r.register(world.sender(role), fp, CERTIFICATE_OF_ORIGIN, random_cid(), "B")
        check_error(
            e.value,
            "DocumentAlreadyRegistered",
            Conflict,
            fingerprint=fp,
            issuer=world.accounts["exporter"].address,
            registeredAt=registered_at,
        )
    with pytest.raises(ContractError) as e:
        r.register(world.sender("exporter"), fp, 380, random_cid(), "C", metadata_cid=random_cid())
    check_error(e.value, "DocumentAlreadyRegistered", Conflict, fingerprint=fp)


@pytest.mark.parametrize(
    ("fp", "doc_type", "cid"),
    [
        (bytes(32), CERTIFICATE_OF_ORIGIN, bytes.fromhex("01551220") + bytes(range(32))),
        (b"\x01" * 32, 0, bytes.fromhex("01551220") + bytes(range(32))),
        (
            b"\x02" * 32,
            CERTIFICATE_OF_ORIGIN,
            bytes.fromhex("00551220") + bytes(range(32)),
        ),  # not v1
        (
            b"\x03" * 32,
            CERTIFICATE_OF_ORIGIN,
            bytes.fromhex("01551214") + bytes(range(32)),
        ),  # 20 bytes
    ],
    ids=["zero-fingerprint", "doc-type-0", "cid-version-0", "cid-digest-not-32"],
)
@pytest.mark.parametrize("with_metadata", [False, True], ids=["plain", "metadata"])
def test_invalid_document(
    world: World, fp: bytes, doc_type: int, cid: bytes, with_metadata: bool
) -> None:
    r = world.registry
    function = "registerWithMetadata" if with_metadata else "register"
    args: list[object] = [fp, doc_type, cid[:4], cid[4:], "REF"]
    if with_metadata:
        args.append(random_cid())
    # The contract call directly: the Python facade refuses a malformed CID before sending.
    with pytest.raises(ContractError) as e:
        world.sender("exporter").transact(r.contract.functions[function](*args))
    check_error(e.value, "InvalidDocument", InvalidInput, fingerprint=fp)
    assert r.document(fp) is None


def test_facade_refuses_malformed_cid_before_sending(world: World) -> None:
    with pytest.raises(InvalidInput):
        world.registry.register(
            world.sender("exporter"), fingerprint(), 861, bytes.fromhex("01551214") + bytes(20), ""
        )


@pytest.mark.parametrize("role", ["customs", "customs2", "auditor"])
@pytest.mark.parametrize("with_metadata", [False, True], ids=["plain", "metadata"])
def test_wrong_kind_may_not_register(world: World, role: str, with_metadata: bool) -> None:
    fp = fingerprint()
    meta = random_cid() if with_metadata else b""
    kind = world.registry.key_info(world.accounts[role].address).kind
    with pytest.raises(ContractError) as e:
        world.registry.register(world.sender(role), fp, 861, random_cid(), "R", metadata_cid=meta)
    check_error(
        e.value,
        "WrongOrganisationKind",
        Forbidden,
        key=world.accounts[role].address,
        kind=int(kind),
    )
    assert world.registry.document(fp) is None


@pytest.mark.parametrize("role", ["outsider", "admin", "relayer"])
def test_unknown_key_may_not_register(world: World, role: str) -> None:
    fp = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.register(world.sender(role), fp, 861, random_cid(), "R")
    check_error(e.value, "UnknownKey", Forbidden, key=world.accounts[role].address)
    assert world.registry.document(fp) is None


def _exporter_key(world: World, valid_from: int, valid_until: int) -> LocalAccount:
    key = new_key(world)
    world.registry.add_key(
        world.sender("admin"), world.orgs["exporter"], key.address, valid_from, valid_until
    )
    return key


def test_key_before_valid_from(world: World) -> None:
    now = world.now()
    key = _exporter_key(world, now + 1000, now + 2000)
    fp = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.register(world.registry.sender(key), fp, 861, random_cid(), "R")
    check_error(
        e.value,
        "KeyNotValid",
        Forbidden,
        key=key.address,
        validFrom=now + 1000,
        validUntil=now + 2000,
    )
    advance_time(world.w3, 1000)
    world.registry.register(world.registry.sender(key), fp, 861, random_cid(), "R")
    doc = world.registry.document(fp)
    assert doc is not None and same_address(doc.issuer, key.address)


def test_key_after_valid_until(world: World) -> None:
    now = world.now()
    key = _exporter_key(world, 1, now + 100)
    advance_time(world.w3, 200)
    fp = fingerprint()
    with pytest.raises(ContractError) as e:
        world.registry.register(world.registry.sender(key), fp, 861, random_cid(), "R")
    check_error(
        e.value, "KeyNotValid", Forbidden, key=key.address, validFrom=1, validUntil=now + 100
    )
    assert world.registry.document(fp) is None


def test_retired_key_keeps_what_it_signed(world: World) -> None:
    """Rotation never invalidates what a key registered while it was valid."""
    r = world.registry
    exporter = world.accounts["exporter"]
    fp = fingerprint()
    sent = r.register(world.sender("exporter"), fp, 861, random_cid(), "R")
    registered_at = block_time(world, sent.block_number)
    advance_time(world.w3, 10)

    # The organisation rotates: a new key, then the old one is retired.
    successor = _exporter_key(world, world.now(), world.now() + 10**6)
    retired = r.retire_key(world.sender("admin"), exporter.address)
    retired_at = block_time(world, retired.block_number)
    assert retired_at > registered_at

    doc = r.document(fp)
    assert doc is not None
    assert doc.status == DocStatus.REGISTERED
    assert same_address(doc.issuer, exporter.address)
    assert doc.registered_at == registered_at
    assert r.key_valid_at(exporter.address, registered_at)
    assert r.key_valid_at(exporter.address, retired_at)  # its retirement's second included
    assert not r.key_valid_at(exporter.address, retired_at + 1)

    with pytest.raises(ContractError) as e:
        r.register(world.sender("exporter"), fingerprint(), 861, random_cid(), "R")
    check_error(e.value, "KeyNotValid", Forbidden, key=exporter.address, validUntil=retired_at + 1)

    # The successor acts for the same organisation, including on the old key's document.
    r.register(r.sender(successor), fingerprint(), 861, random_cid(), "R")
    r.revoke(r.sender(successor), fp, 1)
    revoked = r.document(fp)
    assert revoked is not None and revoked.status == DocStatus.REVOKED
    assert r.key_valid_at(exporter.address, registered_at)
