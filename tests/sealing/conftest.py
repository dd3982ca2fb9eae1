"""Fixtures of the sealing tests: the js-ipfs daemon of tests/content (a real node, started
on a free port for the session and stopped by its PID)."""

from tests.content.conftest import daemon, node

__all__ = ["daemon", "node"]
