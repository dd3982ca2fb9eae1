"""A proven log decodes to what web3 (code no one here wrote) decodes from the node's own
receipt: the registration event's fingerprint, issuer, type, CID and consignment reference."""

from __future__ import annotations

from ledger.proofs import decode_event, prove_receipt, verify_event
from tests.proofs.conftest import World


def test_a_proven_registration_event_decodes_as_web3_decodes_it(world: World) -> None:
    tx_hash = world.tx_hashes[42]
    header, proof = prove_receipt(world.rpc, tx_hash)
    abi = next(e for e in world.registry.contract.abi if e.get("name") == "DocumentRegistered")
    receipt = world.registry.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    (theirs,) = world.registry.events(receipt, "DocumentRegistered")
    log = verify_event(proof, header, world.contract, [None, world.fingerprints[42]])
    ours = decode_event(abi, log)
    assert ours == dict(theirs["args"])
    assert ours["consignmentRef"] == "SMGS-PROOF-000042" and ours["docType"] == 861
