"""Solidity's storage layout from Python, checked on the real contract: a document's record
and its key's record sit where ``mapping_slot`` says, their packed fields read back with
``unpack`` as the contract's own getters return them, and a nested mapping (OpenZeppelin's
roles) is found the same way, all through verified storage proofs."""

from __future__ import annotations

from ledger.proofs import fetch_header, mapping_slot, prove_storage, unpack, verify_storage
from tests.proofs.conftest import World

DEFAULT_ADMIN_ROLE = bytes(32)


def proven(world: World, *slots: int) -> dict[int, int]:
    header = fetch_header(world.rpc, world.head)
    proof = prove_storage(world.rpc, world.registry.address, slots, world.head)
    return verify_storage(proof, header, world.contract, slots)


def test_a_document_record_unpacks_as_the_contract_reads_it(world: World) -> None:
    fingerprint = world.fingerprints[7]
    slot = mapping_slot(world.doc_slot, fingerprint)
    key_slot = mapping_slot(world.key_slot, world.exporter.address)
    values = proven(world, slot, key_slot)
    record = world.registry.document(fingerprint)
    assert record is not None
    value = values[slot]
    assert unpack(value, 0, 20) == int(record.issuer, 16)
    assert unpack(value, 20, 5) == record.registered_at
    assert unpack(value, 25, 2) == record.doc_type == 861
    assert unpack(value, 27, 1) == int(record.status)
    key = world.registry.key_info(world.exporter.address)
    assert unpack(values[key_slot], 0, 4) == key.org_id
    assert unpack(values[key_slot], 5, 5) == key.valid_from


def test_a_nested_mapping_slot(world: World) -> None:
    slots = [mapping_slot(base, DEFAULT_ADMIN_ROLE, world.admin.address) for base in range(8)]
    values = proven(world, *slots)
    holders = [s for s in slots if values[s] == 1]
    assert len(holders) == 1, "the admin holds DEFAULT_ADMIN_ROLE in exactly one roles mapping"
    outsider = mapping_slot(slots.index(holders[0]), DEFAULT_ADMIN_ROLE, world.outsider.address)
    assert proven(world, outsider)[outsider] == 0
