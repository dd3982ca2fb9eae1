"""What a sent transaction reports (read from the node's raw receipt on JSON-RPC chains) is
what web3 reads from the chain."""

from __future__ import annotations

import pytest

from tests.contracts.conftest import World, fingerprint, random_cid

pytestmark = pytest.mark.chain


def test_sent_matches_the_chain(world: World) -> None:
    r = world.registry
    sent = r.register(world.sender("exporter"), fingerprint(), 861, random_cid(), "SMGS-S")
    on_chain = world.w3.eth.get_transaction_receipt(sent.tx_hash)
    assert dict(sent.receipt) == dict(on_chain)
    assert sent.status == 1
    assert sent.block_number == on_chain["blockNumber"]
    assert sent.block_hash == on_chain["blockHash"].to_0x_hex()
    assert sent.gas_used == on_chain["gasUsed"]
    (event,) = r.events(on_chain, "DocumentRegistered")
    assert r.log_indexes(sent, "DocumentRegistered") == [event["logIndex"]]
    assert r.log_indexes(sent, "DocumentRevoked") == []
    if sent.block_time is not None:  # anvil puts the block's time in its receipts
        assert sent.block_time == world.w3.eth.get_block(sent.block_number)["timestamp"]
