"""The wire formats: what the producers write validates against ``ledger/proofs/schema.json``
(the schema the evidence bundle v2 embeds), reads back unchanged, and a bad trust file is
refused with a message saying which field to fix."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import to_checksum_address
from jsonschema import Draft202012Validator

from ledger.errors import InvalidInput, ProofInvalid
from ledger.proofs import (
    SCHEMA,
    Anchor,
    ReceiptProof,
    Signer,
    StorageProof,
    TrustFile,
    prove_receipt,
    prove_storage,
)
from ledger.proofs.codec import checksummed, decode_rlp
from tests.proofs.cases import Case
from tests.proofs.conftest import World

VALIDATOR = Draft202012Validator(json.loads(SCHEMA.read_text()))
Draft202012Validator.check_schema(VALIDATOR.schema)
TRUST = TrustFile(
    31337,
    bytes.fromhex("5FbDB2315678afecb367f032d93F642f64180aa3"),
    tuple(Signer(bytes([i]) * 20, f"Member {i}") for i in (1, 2, 3)),
    threshold=2,
    max_age=3600,
)


def valid(kind: str, obj: Any) -> None:
    errors = list(
        VALIDATOR.evolve(schema={**VALIDATOR.schema, "$ref": f"#/$defs/{kind}"}).iter_errors(obj)
    )
    assert not errors, [e.message for e in errors]


def test_what_the_producers_write_fits_the_schema(world: World, cases: list[Case]) -> None:
    honest = [c for c in cases if "ok" in c["expect"]]
    for case in honest:
        i = case["input"]
        if "header" in i:
            valid("header", i["header"])
        if "anchor" in i:
            valid("anchor", i["anchor"])
            assert Anchor.from_json(i["anchor"]).to_json() == i["anchor"]
            valid("trustFile", i["trust"])
        if "receipt" in i:
            valid("receiptProof", i["receipt"])
            assert ReceiptProof.from_json(i["receipt"]).to_json() == i["receipt"]
        if "storage" in i:
            valid("storageProof", i["storage"])
            back = StorageProof.from_json(i["storage"]).to_json()
            assert back == {**i["storage"], "address": back["address"]}
    header, proof = prove_receipt(world.rpc, world.tx_hashes[0])
    valid("receiptProof", proof.to_json())
    valid(
        "storageProof",
        prove_storage(world.rpc, world.registry.address, [0], header.number).to_json(),
    )


def test_a_tampered_shape_fails_the_schema() -> None:
    with pytest.raises(AssertionError):
        valid(
            "checkpoint",
            {
                "chainId": 1,
                "contract": "0x00",
                "blockNumber": 1,
                "blockHash": "0x",
                "timestamp": 1,
                "signatures": [],
            },
        )


def test_a_trust_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    TRUST.save(path)
    valid("trustFile", json.loads(path.read_text()))
    assert TrustFile.load(path) == TRUST


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, '"format" must be'),
        ({"chainId": "1"}, "chainId must be an integer"),
        ({"chainId": 0}, "chainId must be a positive"),
        ({"contract": "0x1234"}, "contract must be a 0x-prefixed 20-byte address"),
        ({"threshold": 4}, "threshold must be between 1 and the 3 signers"),
        ({"threshold": 0}, "threshold must be between"),
        ({"maxAgeSeconds": 0}, "maxAgeSeconds must be a positive"),
        ({"signers": []}, "at least one"),
        ({"signers": "0xabc"}, "signers must be a list"),
        ({"signers": [{"address": "0x" + "11" * 20}]}, "signers[0] must be {address, name}"),
    ],
)
def test_a_bad_trust_file_says_what_to_fix(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        TrustFile.from_json({**TRUST.to_json(), **change})
    assert message in str(error.value)


def test_a_mistyped_checksum_and_a_repeated_signer_are_refused(tmp_path: Path) -> None:
    obj = TRUST.to_json()
    first = obj["contract"]
    at = next(i for i, c in enumerate(first) if i > 1 and c.isalpha())
    flipped = first[:at] + first[at].swapcase() + first[at + 1 :]
    with pytest.raises(InvalidInput, match="fails its checksum"):
        TrustFile.from_json({**obj, "contract": flipped})
    with pytest.raises(InvalidInput, match="listed twice"):
        TrustFile.from_json({**obj, "signers": [obj["signers"][0], *obj["signers"]]})
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="cannot read it as JSON"):
        TrustFile.load(tmp_path / "bad.json")


def test_checksums_and_rlp_as_the_reference_libraries_make_them() -> None:
    """Our EIP-55 checksum and strict RLP decoder agree with eth-utils and pyrlp."""
    for _ in range(50):
        address = os.urandom(20)
        assert checksummed(address) == to_checksum_address(address)
    samples = [b"", b"\x00", b"\x7f", b"\x80", os.urandom(55), os.urandom(56), os.urandom(1000)]
    items: list[Any] = [*samples, [], [samples, [samples[:2], []]], [os.urandom(32)] * 17]
    for item in items:
        assert decode_rlp(rlp.encode(item), "t", "x") == rlp.decode(rlp.encode(item))
    for bad in (
        b"\x81\x05",
        b"\xb8\x05hello",
        b"\x83ab",
        b"\xc2\x80",
        b"\x80\x80",
        b"\xb9\x00\x40" + bytes(64),
    ):
        with pytest.raises(ProofInvalid, match="not valid RLP"):
            decode_rlp(bad, "t", "x")
    nested: list[Any] = []
    for _ in range(20):
        nested = [nested]
    with pytest.raises(ProofInvalid, match="not valid RLP"):
        decode_rlp(rlp.encode(nested), "t", "x")  # nested deeper than any proof needs
