"""Revert decoding: every custom error of the deployed contract becomes a typed error with a hint."""

from __future__ import annotations

import re
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.chain import reverts
from ledger.errors import ContractError, InvalidInput
from tests.contracts.conftest import World, check_error

pytestmark = pytest.mark.chain

# Raised only by the EIP712 constructor (ShortStrings) with a name or version over 31 bytes;
# a deployed ledger never reverts with them.
CONSTRUCTOR_ONLY = {"InvalidShortString", "StringTooLong"}
ENUM_SIZES = {"status": 4, "kind": 5}
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def abi_errors(world: World) -> list[Any]:
    return [
        item
        for item in world.registry.contract.abi
        if item["type"] == "error" and item["name"] not in CONSTRUCTOR_ONLY
    ]


def value_strategy(name: str, abi_type: str) -> st.SearchStrategy[Any]:
    if name in ENUM_SIZES:  # Solidity enums: the contract only ever encodes a member
        return st.integers(0, ENUM_SIZES[name] - 1)
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(to_checksum_address)
    if abi_type == "string":
        return st.text(max_size=40)
    if abi_type.startswith("uint"):
        return st.integers(0, 2 ** int(abi_type[4:]) - 1)
    if abi_type.startswith("bytes"):
        size = int(abi_type[5:])
        return st.binary(min_size=size, max_size=size)
    raise AssertionError(f"no strategy for {abi_type}")


@st.composite
def revert_data(draw: st.DrawFn, errors: list[Any]) -> tuple[str, bytes]:
    item = draw(st.sampled_from(errors))
    types = [i["type"] for i in item["inputs"]]
    values = [draw(value_strategy(i["name"], i["type"])) for i in item["inputs"]]
    selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
    return item["name"], selector + encode(types, values)


def test_every_reachable_error_has_a_category_and_hint(world: World) -> None:
    names = {item["name"] for item in abi_errors(world)}
    assert names <= set(reverts._CATEGORY_AND_HINT), names - set(reverts._CATEGORY_AND_HINT)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_decoded_reverts_carry_their_hint(world: World, data: st.DataObject) -> None:
    """For any custom error the contract can raise, the message is the name and its hint."""
    name, raw = data.draw(revert_data(abi_errors(world)))
    error = world.registry.decoder.decode(raw)
    assert isinstance(error, ContractError)
    assert error.name == name
    category, hint = reverts._CATEGORY_AND_HINT[name]
    assert isinstance(error, category)
    message = str(error)
    assert message.startswith(f"{name}: ")
    for literal in PLACEHOLDER.split(hint):  # the hint's words are all there...
        assert literal in message
    assert "contract error" not in message  # ...not the fallback for unknown errors
    # ...and the message is not just the raw revert data.
    assert raw.hex() not in message.lower()


def test_unknown_revert_data_is_not_guessed(world: World) -> None:
    assert world.registry.decoder.decode(b"\xde\xad\xbe\xef" + bytes(32)) is None


def test_renounce_role_with_wrong_confirmation(world: World) -> None:
    """The one inherited AccessControl error callers can meet besides a missing role."""
    r = world.registry
    call = r.contract.functions.renounceRole(bytes(32), world.accounts["outsider"].address)
    with pytest.raises(ContractError) as e:
        world.sender("admin").transact(call)
    check_error(e.value, "AccessControlBadConfirmation", InvalidInput)
    assert "own address" in str(e.value)
