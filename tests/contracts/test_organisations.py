"""Organisations and keys: admission, key windows, retirement, and the admin-only guard."""

from __future__ import annotations

import pytest

from ledger.errors import Conflict, ContractError, Forbidden, InvalidInput, NotFound
from ledger.types import OrgKind
from tests.conftest import advance_time
from tests.contracts.conftest import World, check_error, new_key, same_address

pytestmark = pytest.mark.chain

ADMIN_ROLE = bytes(32)


def test_world_organisations_are_admitted_in_order(world: World) -> None:
    r = world.registry
    assert r.organisation_count() == 6
    assert sorted(world.orgs.values()) == [1, 2, 3, 4, 5, 6]
    customs = r.organisation(world.orgs["customs"])
    assert customs.name == "Demo Hairatan Customs"
    assert customs.country == "AF"
    assert customs.kind == OrgKind.CUSTOMS
    assert r.organisation(world.orgs["issuer"]).kind == OrgKind.ISSUING_BODY
    assert r.organisation(world.orgs["auditor"]).kind == OrgKind.AUDITOR


def test_admit_organisation_emits_event(world: World) -> None:
    r = world.registry
    org_id, sent = r.admit_organisation(
        world.sender("admin"), "Port Authority", "UZ", OrgKind.AUDITOR
    )
    assert org_id == 7
    assert r.organisation_count() == 7
    (event,) = r.events(sent.receipt, "OrganisationAdmitted")
    assert event["args"]["orgId"] == 7
    assert event["args"]["kind"] == OrgKind.AUDITOR
    assert event["args"]["country"] == b"UZ"
    assert event["args"]["name"] == "Port Authority"


@pytest.mark.parametrize(
    ("name", "country", "kind", "error", "category"),
    [
        ("", "KZ", OrgKind.EXPORTER, "InvalidOrganisation", InvalidInput),
        ("No Kind", "KZ", OrgKind.NONE, "InvalidOrganisation", InvalidInput),
        ("Lower", "kz", OrgKind.EXPORTER, "InvalidCountry", InvalidInput),
        ("Digits", "K1", OrgKind.EXPORTER, "InvalidCountry", InvalidInput),
    ],
)
def test_admit_organisation_rejects_bad_input(
    world: World, name: str, country: str, kind: OrgKind, error: str, category: type
) -> None:
    with pytest.raises(ContractError) as e:
        world.registry.admit_organisation(world.sender("admin"), name, country, kind)
    check_error(e.value, error, category)
    if error == "InvalidCountry":
        assert e.value.params["country"] == "0x" + country.encode().hex()
    assert world.registry.organisation_count() == 6


def test_get_organisation_unknown_id(world: World) -> None:
    for org_id in (0, 7):
        with pytest.raises(ContractError) as e:
            world.registry.organisation(org_id)
        check_error(e.value, "UnknownOrganisation", NotFound, orgId=org_id)


def test_add_key_emits_event_and_is_readable(world: World) -> None:
    r = world.registry
    key = new_key(world)
    now = world.now()
    sent = r.add_key(world.sender("admin"), world.orgs["exporter"], key.address, now, now + 10**6)
    (event,) = r.events(sent.receipt, "KeyAdded")
    assert same_address(event["args"]["key"], key.address)
    assert event["args"]["orgId"] == world.orgs["exporter"]
    assert event["args"]["validFrom"] == now
    assert event["args"]["validUntil"] == now + 10**6
    info = r.key_info(key.address)
    assert (info.org_id, info.kind, info.valid_from, info.valid_until, info.nonce) == (
        world.orgs["exporter"],
        OrgKind.EXPORTER,
        now,
        now + 10**6,
        0,
    )
    assert r.key_valid_at(key.address, now)
    assert r.key_valid_at(key.address, now + 10**6 - 1)
    assert not r.key_valid_at(key.address, now + 10**6)  # the window is half-open
    assert not r.key_valid_at(key.address, now - 1)


def test_get_key_of_unknown_key_is_all_zero(world: World) -> None:
    info = world.registry.key_info(world.accounts["outsider"].address)
    assert (info.org_id, info.kind, info.valid_from, info.valid_until, info.nonce) == (
        0,
        OrgKind.NONE,
        0,
        0,
        0,
    )
    assert not world.registry.key_valid_at(world.accounts["outsider"].address, world.now())


def test_add_key_to_unknown_organisation(world: World) -> None:
    key = new_key(world)
    for org_id in (0, 99):
        with pytest.raises(ContractError) as e:
            world.registry.add_key(
                world.sender("admin"), org_id, key.address, 1, world.now() + 10**6
            )
        check_error(e.value, "UnknownOrganisation", NotFound, orgId=org_id)


def test_add_key_twice_even_to_another_organisation(world: World) -> None:
    exporter = world.accounts["exporter"].address
    with pytest.raises(ContractError) as e:
        world.registry.add_key(
            world.sender("admin"), world.orgs["customs"], exporter, 1, world.now() + 10**6
        )
    check_error(e.value, "KeyAlreadyAdmitted", Conflict, key=exporter)
    assert world.registry.key_info(exporter).org_id == world.orgs["exporter"]


def test_add_zero_address_key(world: World) -> None:
    zero = "0x" + "00" * 20
    with pytest.raises(ContractError) as e:
        world.registry.add_key(
            world.sender("admin"), world.orgs["exporter"], zero, 1, world.now() + 10**6
        )
    check_error(e.value, "KeyAlreadyAdmitted", Conflict, key=zero)


def test_add_key_with_bad_window(world: World) -> None:
    key = new_key(world)
    now = world.now()
    for valid_from, valid_until in [
        (now + 10, now + 10),
        (now + 10, now + 5),
        (1, now - 1),
        (0, now + 100),
    ]:
        with pytest.raises(ContractError) as e:
            world.registry.add_key(
                world.sender("admin"), world.orgs["exporter"], key.address, valid_from, valid_until
            )
        check_error(
            e.value,
            "InvalidValidityWindow",
            InvalidInput,
            validFrom=valid_from,
            validUntil=valid_until,
        )
    assert world.registry.key_info(key.address).org_id == 0


def test_retire_key_ends_window_after_this_second(world: World) -> None:
    r = world.registry
    key = world.accounts["exporter"].address
    before = r.key_info(key)
    sent = r.retire_key(world.sender("admin"), key)
    block_time = int(world.w3.eth.get_block(sent.block_number)["timestamp"])
    (event,) = r.events(sent.receipt, "KeyRetired")
    assert same_address(event["args"]["key"], key)
    assert event["args"]["orgId"] == world.orgs["exporter"]
    assert event["args"]["retiredAt"] == block_time + 1
    after = r.key_info(key)
    assert after.valid_until == block_time + 1
    assert after.retired and not before.retired
    assert (after.org_id, after.kind, after.valid_from) == (
        before.org_id,
        before.kind,
        before.valid_from,
    )
    # what the key did in the retirement's second stays inside its window
    assert r.key_valid_at(key, block_time)
    assert not r.key_valid_at(key, block_time + 1)


def test_retire_unknown_key(world: World) -> None:
    outsider = world.accounts["outsider"].address
    with pytest.raises(ContractError) as e:
        world.registry.retire_key(world.sender("admin"), outsider)
    check_error(e.value, "UnknownKey", Forbidden, key=outsider)


def test_retire_key_twice(world: World) -> None:
    key = world.accounts["exporter"].address
    world.registry.retire_key(world.sender("admin"), key)
    info = world.registry.key_info(key)
    with pytest.raises(ContractError) as e:
        world.registry.retire_key(world.sender("admin"), key)
    check_error(
        e.value,
        "KeyNotValid",
        Forbidden,
        key=key,
        validFrom=info.valid_from,
        validUntil=info.valid_until,
    )


def test_retire_expired_key(world: World) -> None:
    key = new_key(world)
    now = world.now()
    world.registry.add_key(world.sender("admin"), world.orgs["exporter"], key.address, 1, now + 50)
    advance_time(world.w3, 100)
    with pytest.raises(ContractError) as e:
        world.registry.retire_key(world.sender("admin"), key.address)
    check_error(
        e.value, "KeyNotValid", Forbidden, key=key.address, validFrom=1, validUntil=now + 50
    )


@pytest.mark.parametrize("role", ["outsider", "exporter", "customs", "auditor"])
def test_only_admin_manages_organisations_and_keys(world: World, role: str) -> None:
    r = world.registry
    sender = world.sender(role)
    who = world.accounts[role].address
    key = world.accounts["relayer"].address
    attempts = [
        lambda: r.admit_organisation(sender, "Rogue", "KZ", OrgKind.EXPORTER),
        lambda: r.add_key(sender, world.orgs["exporter"], key, 1, world.now() + 10**6),
        lambda: r.retire_key(sender, world.accounts["customs2"].address),
    ]
    for attempt in attempts:
        with pytest.raises(ContractError) as e:
            attempt()
        check_error(
            e.value,
            "AccessControlUnauthorizedAccount",
            Forbidden,
            account=who,
            neededRole=ADMIN_ROLE,
        )
    assert r.organisation_count() == 6
    assert r.key_info(key).org_id == 0
    assert r.key_valid_at(world.accounts["customs2"].address, world.now())
