"""The fast type-2 signer gives exactly eth-account's bytes and hash, and declines other shapes."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from ledger.chain.signing import Signer

ACCOUNT = Account.from_key("0x" + "4c" * 32)
TO = to_checksum_address("0x15d368332cf5f89f85ead0d816cc0151e671de36")


@pytest.mark.parametrize(
    "tx",
    [
        {"to": TO, "data": b"\x01" * 228, "value": 0, "gas": 120_000, "nonce": 7,
         "maxFeePerGas": 2_000_000_016, "maxPriorityFeePerGas": 1_000_000_000, "chainId": 31337},
        {"to": TO, "data": "0xdeadbeef", "value": 10**21, "gas": 21_000, "nonce": 0,
         "maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "chainId": 1, "from": ACCOUNT.address},
        {"data": b"\x60\x80" * 5000, "value": 0, "gas": 3_000_000, "nonce": 2**40,
         "maxFeePerGas": 10**12, "maxPriorityFeePerGas": 1, "chainId": 131277322940537, "type": 2},
        {"to": "", "data": b"", "value": 0, "gas": 53_000, "nonce": 1,
         "maxFeePerGas": 7, "maxPriorityFeePerGas": 7, "chainId": 5},
    ],
)  # fmt: skip
def test_same_bytes_as_eth_account(tx: dict[str, Any]) -> None:
    reference = ACCOUNT.sign_transaction({k: v for k, v in tx.items() if k != "to" or v})
    signed = Signer(ACCOUNT.key).sign_dynamic_fee(tx)
    assert signed is not None
    raw, tx_hash = signed
    assert raw == bytes(reference.raw_transaction)
    assert tx_hash == bytes(reference.hash)


@pytest.mark.parametrize(
    "tx",
    [
        {"to": TO, "data": b"", "value": 0, "gas": 21_000, "nonce": 0, "gasPrice": 10**9, "chainId": 1},
        {"to": TO, "data": b"", "value": 0, "gas": 21_000, "nonce": 0, "chainId": 1,
         "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "accessList": [(TO, [])]},
        {"to": TO, "data": b"", "value": 0, "gas": 21_000, "nonce": 0, "chainId": 1,
         "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "type": 1},
    ],
)  # fmt: skip
def test_declines_other_shapes(tx: dict[str, Any]) -> None:
    assert Signer(ACCOUNT.key).sign_dynamic_fee(tx) is None
