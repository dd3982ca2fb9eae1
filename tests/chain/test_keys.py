"""Keystores: keys at rest are encrypted and unlock only with the right secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from ledger.chain.keys import keystore_path, load_key, load_or_create_key
from ledger.config import Settings
from ledger.errors import InvalidInput


def test_key_is_encrypted_at_rest_and_reloads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    account = load_or_create_key(settings, "exporter")
    text = keystore_path(settings, "exporter").read_text()
    assert account.key.hex() not in text and "crypto" in text
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    again = load_key(settings, "exporter")
    assert again is not None and again.address == account.address


def test_wrong_secret_is_refused_with_a_hint(tmp_path: Path) -> None:
    load_or_create_key(Settings(data_dir=tmp_path, keystore_secret=SecretStr("right")), "k")
    with pytest.raises(InvalidInput, match="KEYSTORE_SECRET"):
        load_key(Settings(data_dir=tmp_path, keystore_secret=SecretStr("wrong")), "k")


def test_key_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        keystore_path(Settings(data_dir=tmp_path), "../escape")
