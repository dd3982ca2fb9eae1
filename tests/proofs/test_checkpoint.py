"""Checkpoints are standard EIP-712: eth-account (code no one here wrote) hashes the statement's
typed data to the digest we compute by hand, makes the same signature with the same key and recovers the same
signer; a signer refuses a block with fewer confirmations than asked."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from ledger.errors import ProofInvalid
from ledger.proofs import Checkpoint, recover, statement_at
from tests.proofs.conftest import World

CHECKPOINT = Checkpoint(
    chain_id=31337,
    contract=bytes.fromhex("5FbDB2315678afecb367f032d93F642f64180aa3"),
    block_number=1234,
    block_hash=bytes(range(32)),
    timestamp=1_780_000_000,
)


def test_the_statement_is_eip712_as_eth_account_signs_it() -> None:
    key = Account.create()
    signable = encode_typed_data(full_message=CHECKPOINT.typed_data())
    theirs = key.sign_message(signable)
    assert theirs.message_hash == CHECKPOINT.digest()
    ours = CHECKPOINT.sign(bytes(key.key)).signatures[0]
    assert ours == bytes(theirs.signature)
    assert recover(CHECKPOINT.digest(), ours, 0).hex() == key.address[2:].lower()
    assert Account.recover_message(signable, signature=ours) == key.address


def test_a_signer_signs_only_blocks_deep_enough(world: World) -> None:
    head = int(world.call("eth_blockNumber"), 16)
    statement = statement_at(world.rpc, world.registry.address, head - 2, confirmations=2)
    assert statement.block_number == head - 2 and statement.chain_id == world.trust.chain_id
    with pytest.raises(ProofInvalid, match="fewer than the 3 a checkpoint needs") as error:
        statement_at(world.rpc, world.registry.address, head - 2, confirmations=3)
    assert error.value.problem == "not_final"
