"""API keys: a revocation made by another process reaches a running service within its TTL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ledger.db import make_engine, sqlite_url
from ledger.flows.identity import ApiKeys, Role, Unauthenticated


def test_revocation_by_another_process_takes_effect_within_the_ttl(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "service.db")
    service = ApiKeys(make_engine(url), ttl=0.3)
    admin_cli = ApiKeys(make_engine(url))  # e.g. an admin's command on the same database
    actor, token = service.create("Demo exporter key", Role.EXPORTER, 1, None)
    assert service.authenticate(token) == actor
    admin_cli.revoke(actor.key_id)
    assert service.authenticate(token) == actor  # remembered, for at most the TTL
    time.sleep(0.35)
    with pytest.raises(Unauthenticated, match="revoked"):
        service.authenticate(token)


def test_own_revocation_takes_effect_at_once(tmp_path: Path) -> None:
    keys = ApiKeys(make_engine(sqlite_url(tmp_path / "service.db")))
    actor, token = keys.create("Demo customs key", Role.CUSTOMS, 2, None)
    keys.authenticate(token)
    keys.revoke(actor.key_id)
    with pytest.raises(Unauthenticated):
        keys.authenticate(token)
