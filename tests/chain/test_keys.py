"""Keystores: keys at rest are encrypted, unlock only with the right secret, which never
lives in the data folder outside demo mode, and are never overwritten."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from eth_account import Account
from pydantic import SecretStr

from ledger.chain.keys import (
    create_key,
    keystore_path,
    keystore_secret,
    load_key,
    load_or_create_key,
    save_key,
)
from ledger.config import Settings
from ledger.errors import Conflict, InvalidInput, Misconfigured

DEFAULT_SCRYPT_N = 2**18  # eth-account's default cost


def test_key_is_encrypted_at_rest_and_reloads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, demo=True)
    account = load_or_create_key(settings, "exporter")
    text = keystore_path(settings, "exporter").read_text()
    assert account.key.hex() not in text and "crypto" in text
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert keystore_path(settings, "exporter").stat().st_mode & 0o077 == 0
    again = load_key(settings, "exporter")
    assert again is not None and again.address == account.address


def test_scrypt_runs_at_the_library_default_cost(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, keystore_secret=SecretStr("s"))
    load_or_create_key(settings, "k")
    crypto = json.loads(keystore_path(settings, "k").read_text())["crypto"]
    assert crypto["kdf"] == "scrypt" and crypto["kdfparams"]["n"] == DEFAULT_SCRYPT_N


def test_wrong_secret_is_refused_with_a_hint(tmp_path: Path) -> None:
    load_or_create_key(Settings(data_dir=tmp_path, keystore_secret=SecretStr("right")), "k")
    with pytest.raises(InvalidInput, match="KEYSTORE_SECRET"):
        load_key(Settings(data_dir=tmp_path, keystore_secret=SecretStr("wrong")), "k")


def test_key_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        keystore_path(Settings(data_dir=tmp_path), "../escape")


def test_outside_demo_mode_there_is_no_generated_secret(tmp_path: Path) -> None:
    """A copy of the data folder must not be a copy of the keys: no secret beside them."""
    settings = Settings(data_dir=tmp_path / "data")
    with pytest.raises(Misconfigured) as refused:
        load_or_create_key(settings, "k")
    message = str(refused.value)
    assert (
        "TRADELEDGER_KEYSTORE_SECRET" in message and "TRADELEDGER_KEYSTORE_SECRET_FILE" in message
    )
    assert "TRADELEDGER_DEMO=1" in message
    assert not (tmp_path / "data" / "secret").exists()
    assert not keystore_path(settings, "k").exists()


def test_secret_file_outside_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inside = data / "secret.txt"
    inside.parent.mkdir()
    inside.write_text("s3cret\n")
    with pytest.raises(Misconfigured, match="inside the data folder"):
        keystore_secret(Settings(data_dir=data, keystore_secret_file=inside))
    outside = tmp_path / "etc" / "secret"
    outside.parent.mkdir()
    with pytest.raises(Misconfigured, match="cannot read"):
        keystore_secret(Settings(data_dir=data, keystore_secret_file=outside))
    outside.write_text("s3cret\n")
    settings = Settings(data_dir=data, keystore_secret_file=outside)
    assert keystore_secret(settings) == "s3cret"
    account = load_or_create_key(settings, "k")
    same = load_key(Settings(data_dir=data, keystore_secret=SecretStr("s3cret")), "k")
    assert same is not None and same.address == account.address


def test_an_existing_keystore_is_never_replaced(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, keystore_secret=SecretStr("s"))
    first = load_or_create_key(settings, "org-1")
    with pytest.raises(Conflict, match="exists already"):
        save_key(settings, "org-1", Account.create())
    kept = load_key(settings, "org-1")
    assert kept is not None and kept.address == first.address
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["org-1.json"]  # no leftovers


def test_keys_created_at_once_all_keep_their_private_key(tmp_path: Path) -> None:
    """Issue 20.1: keys admitted in the same second got the same keystore name, and the
    second overwrote the first. Names now come from the address; nothing is overwritten."""
    settings = Settings(data_dir=tmp_path, keystore_secret=SecretStr("s"))
    made: list[tuple[str, str]] = []
    start = threading.Barrier(4)

    def make() -> None:
        start.wait()
        name, account = create_key(settings, "org-1")
        made.append((name, account.address))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({name for name, _ in made}) == 4
    for name, address in made:
        loaded = load_key(settings, name)
        assert loaded is not None and loaded.address == address
