"""Relayed registration: an exporter's EIP-712 signed request, sent by someone else."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ledger.chain.relay import (
    REGISTER_REQUEST_TYPES,
    RegisterRequest,
    domain,
    recover_signer,
    sign_request,
)
from ledger.chain.sender import Sent
from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput
from ledger.types import DocStatus
from tests.conftest import advance_time
from tests.contracts.conftest import World, check_error, fingerprint, random_cid, same_address

pytestmark = pytest.mark.chain

RELAY_GAS_BUDGET = 80_000
ZERO_ADDRESS = "0x" + "00" * 20


def make_request(
    world: World, role: str = "exporter", *, nonce: int = 0, metadata: bytes = b"", ttl: int = 3600
) -> RegisterRequest:
    return RegisterRequest(
        issuer=world.accounts[role].address,
        fingerprint=fingerprint(),
        doc_type=861,
        cid=random_cid(),
        consignment_ref="SMGS-24-000777",
        metadata_cid=metadata,
        nonce=nonce,
        deadline=world.now() + ttl,
    )


def sign(world: World, account: LocalAccount, request: RegisterRequest) -> bytes:
    return sign_request(account, request, world.registry.chain_id, world.registry.address)


def relay(world: World, request: RegisterRequest, signature: bytes) -> Sent:
    return world.registry.register_with_signature(world.sender("relayer"), request, signature)


@pytest.mark.parametrize("with_metadata", [False, True], ids=["plain", "metadata"])
def test_relayed_registration(world: World, with_metadata: bool) -> None:
    r = world.registry
    exporter = world.accounts["exporter"]
    meta = random_cid() if with_metadata else b""
    request = make_request(world, metadata=meta)
    sent = relay(world, request, sign(world, exporter, request))
    if not with_metadata:
        assert sent.receipt["gasUsed"] <= RELAY_GAS_BUDGET
    assert same_address(sent.receipt["from"], world.accounts["relayer"].address)

    doc = r.document(request.fingerprint)
    assert doc is not None
    assert doc.status == DocStatus.REGISTERED
    assert same_address(doc.issuer, exporter.address)  # the signer, not the relayer

    (registered,) = r.events(sent.receipt, "DocumentRegistered")
    assert registered["args"]["fingerprint"] == request.fingerprint
    assert same_address(registered["args"]["issuer"], exporter.address)
    assert registered["args"]["docType"] == 861
    assert registered["args"]["cidPrefix"] == request.cid[:4]
    assert registered["args"]["cidDigest"] == request.cid[4:]
    assert registered["args"]["consignmentRef"] == "SMGS-24-000777"
    (relayed,) = r.events(sent.receipt, "RegistrationRelayed")
    assert relayed["args"]["fingerprint"] == request.fingerprint
    assert same_address(relayed["args"]["issuer"], exporter.address)
    assert relayed["args"]["nonce"] == 0
    anchored = r.events(sent.receipt, "DocumentMetadataAnchored")
    if with_metadata:
        assert len(anchored) == 1
        assert anchored[0]["args"]["fingerprint"] == request.fingerprint
        assert anchored[0]["args"]["metadataCid"] == meta
    else:
        assert anchored == []
    assert r.key_info(exporter.address).nonce == 1


def test_nonces_increment(world: World) -> None:
    r = world.registry
    issuer = world.accounts["issuer"]
    for nonce in range(3):
        assert r.key_info(issuer.address).nonce == nonce
        request = make_request(world, "issuer", nonce=nonce)
        (event,) = r.events(
            relay(world, request, sign(world, issuer, request)).receipt, "RegistrationRelayed"
        )
        assert event["args"]["nonce"] == nonce
    assert r.key_info(issuer.address).nonce == 3
    assert r.key_info(world.accounts["exporter"].address).nonce == 0  # per key


def test_direct_registration_does_not_use_a_nonce(world: World) -> None:
    r = world.registry
    r.register(world.sender("exporter"), fingerprint(), 861, random_cid(), "R")
    assert r.key_info(world.accounts["exporter"].address).nonce == 0


def test_replay(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world)
    signature = sign(world, exporter, request)
    relay(world, request, signature)
    with pytest.raises(ContractError) as e:
        relay(world, request, signature)
    check_error(e.value, "InvalidNonce", Conflict, issuer=exporter.address, expected=1, given=0)
    # A replay of a request for a new fingerprint with the old nonce fails the same way.
    again = dataclasses.replace(request, fingerprint=fingerprint())
    with pytest.raises(ContractError) as e:
        relay(world, again, sign(world, exporter, again))
    check_error(e.value, "InvalidNonce", Conflict, issuer=exporter.address, expected=1, given=0)
    assert world.registry.key_info(exporter.address).nonce == 1


def test_nonce_gap(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world, nonce=1)
    with pytest.raises(ContractError) as e:
        relay(world, request, sign(world, exporter, request))
    check_error(e.value, "InvalidNonce", Conflict, issuer=exporter.address, expected=0, given=1)
    assert world.registry.document(request.fingerprint) is None
    assert world.registry.key_info(exporter.address).nonce == 0


def test_expired_request(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world, ttl=60)
    signature = sign(world, exporter, request)
    advance_time(world.w3, 120)
    with pytest.raises(ContractError) as e:
        relay(world, request, signature)
    check_error(e.value, "RequestExpired", InvalidInput, deadline=request.deadline)
    assert world.registry.document(request.fingerprint) is None


def test_signed_by_another_key(world: World) -> None:
    request = make_request(world)  # issuer: exporter
    for role in ("exporter2", "issuer", "relayer"):
        signer = world.accounts[role]
        with pytest.raises(ContractError) as e:
            relay(world, request, sign(world, signer, request))
        check_error(
            e.value,
            "InvalidSignature",
            InvalidInput,
            issuer=world.accounts["exporter"].address,
            recovered=signer.address,
        )
    assert world.registry.document(request.fingerprint) is None


@pytest.mark.parametrize(
    "change",
    [
        {"fingerprint": b"\x11" * 32},
        {"doc_type": 380},
        {"cid": bytes.fromhex("01701220") + b"\x22" * 32},
        {"consignment_ref": "SMGS-24-000778"},
        {"metadata_cid": bytes.fromhex("01551220") + b"\x33" * 32},
        {"deadline": 2**40 - 1},
    ],
    ids=lambda change: next(iter(change)),
)
def test_tampered_field(world: World, change: dict[str, object]) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world)
    signature = sign(world, exporter, request)
    tampered = dataclasses.replace(request, **change)  # type: ignore[arg-type]
    with pytest.raises(ContractError) as e:
        relay(world, tampered, signature)
    error = check_error(e.value, "InvalidSignature", InvalidInput, issuer=exporter.address)
    assert not same_address(str(error.params["recovered"]), exporter.address)
    assert world.registry.key_info(exporter.address).nonce == 0


def test_tampered_issuer(world: World) -> None:
    """A request signed by the exporter but claiming another issuer is refused."""
    request = make_request(world)
    signature = sign(world, world.accounts["exporter"], request)
    tampered = dataclasses.replace(request, issuer=world.accounts["exporter2"].address)
    with pytest.raises(ContractError) as e:
        relay(world, tampered, signature)
    check_error(
        e.value, "InvalidSignature", InvalidInput, issuer=world.accounts["exporter2"].address
    )


def test_malformed_signature(world: World) -> None:
    request = make_request(world)
    with pytest.raises(ContractError) as e:
        relay(world, request, b"\x01" * 64)
    check_error(
        e.value,
        "InvalidSignature",
        InvalidInput,
        issuer=world.accounts["exporter"].address,
        recovered=ZERO_ADDRESS,
    )


def test_signature_for_another_chain_or_contract(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world)
    r = world.registry
    for chain_id, contract in [
        (r.chain_id + 1, r.address),
        (r.chain_id, world.accounts["outsider"].address),
    ]:
        signature = sign_request(exporter, request, chain_id, contract)
        with pytest.raises(ContractError) as e:
            relay(world, request, signature)
        check_error(e.value, "InvalidSignature", InvalidInput, issuer=exporter.address)


@pytest.mark.parametrize("role", ["customs", "auditor"])
def test_signed_request_of_wrong_kind(world: World, role: str) -> None:
    signer = world.accounts[role]
    request = make_request(world, role)
    with pytest.raises(ContractError) as e:
        relay(world, request, sign(world, signer, request))
    check_error(e.value, "WrongOrganisationKind", Forbidden, key=signer.address)


def test_signed_request_of_unknown_key(world: World) -> None:
    stranger: LocalAccount = Account.create()
    request = dataclasses.replace(make_request(world), issuer=stranger.address)
    with pytest.raises(ContractError) as e:
        relay(world, request, sign(world, stranger, request))
    check_error(e.value, "UnknownKey", Forbidden, key=stranger.address)


def test_signed_request_of_retired_key(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world)
    signature = sign(world, exporter, request)
    world.registry.retire_key(world.sender("admin"), exporter.address)
    with pytest.raises(ContractError) as e:
        relay(world, request, signature)
    check_error(e.value, "KeyNotValid", Forbidden, key=exporter.address)


def test_relayed_duplicate(world: World) -> None:
    exporter = world.accounts["exporter"]
    request = make_request(world)
    world.registry.register(world.sender("exporter2"), request.fingerprint, 861, random_cid(), "X")
    with pytest.raises(ContractError) as e:
        relay(world, request, sign(world, exporter, request))
    check_error(
        e.value,
        "DocumentAlreadyRegistered",
        Conflict,
        fingerprint=request.fingerprint,
        issuer=world.accounts["exporter2"].address,
    )
    assert world.registry.key_info(exporter.address).nonce == 0  # the revert undid the nonce


@pytest.mark.parametrize(
    "metadata", [b"", bytes.fromhex("01551220") + b"\x44" * 32], ids=["plain", "metadata"]
)
def test_digest_matches_eth_account(world: World, metadata: bytes) -> None:
    r = world.registry
    request = make_request(world, nonce=7, metadata=metadata)
    signable = encode_typed_data(
        domain(r.chain_id, r.address), REGISTER_REQUEST_TYPES, request.message()
    )
    # EIP-191 version 0x01 structured data: 0x19 0x01 ‖ domainSeparator ‖ hashStruct(message).
    python_digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert r.request_digest(request) == python_digest
    signature = sign(world, world.accounts["exporter"], request)
    assert same_address(recover_signer(request, signature, r.chain_id, r.address), request.issuer)
