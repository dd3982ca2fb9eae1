"""The contract reports its version."""

from __future__ import annotations

import pytest

from tests.contracts.conftest import World

pytestmark = pytest.mark.chain


def test_version(world: World) -> None:
    assert world.registry.version() == "1.0.0"
