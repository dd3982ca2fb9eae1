"""The contract reports its version."""

from __future__ import annotations

import pytest

from ledger.chain.registry import CONTRACT_VERSION
from tests.contracts.conftest import World

pytestmark = pytest.mark.chain


def test_version(world: World) -> None:
    assert world.registry.version() == CONTRACT_VERSION == "1.1.0"
