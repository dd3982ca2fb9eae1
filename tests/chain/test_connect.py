"""Connecting: an unreachable chain is a ChainUnavailable error that says what to do."""

from __future__ import annotations

import pytest

from ledger.chain.localchain import free_port
from ledger.chain.sender import connect
from ledger.errors import ChainUnavailable


def test_unreachable_chain() -> None:
    with pytest.raises(ChainUnavailable, match="scripts/chain start"):
        connect(f"http://127.0.0.1:{free_port()}", timeout=1.0)
