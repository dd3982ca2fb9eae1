"""Organisations' X25519 keys at rest: encrypted with the keystore secret, mode 600, a
32-byte public key for the contract's registry, refused when the secret or file is wrong."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from ledger.config import Settings
from ledger.errors import InvalidInput
from ledger.sealing import (
    OrgKey,
    load_or_create_org_key,
    load_org_key,
    org_key_path,
    save_org_key,
)


def settings(tmp_path: Path, secret: str = "right") -> Settings:
    return Settings(data_dir=tmp_path / "data", keystore_secret=SecretStr(secret))


def test_round_trip_and_the_file_hides_the_private_key(tmp_path: Path) -> None:
    s = settings(tmp_path)
    key = load_or_create_org_key(s, "kz-customs")
    assert len(key.public) == 32 and len(key.private) == 32
    assert load_or_create_org_key(s, "kz-customs") == key  # created once
    path = org_key_path(s, "kz-customs")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert key.private.hex() not in text and key.public.hex() in text
    assert json.loads(text)["kind"] == "x25519-encryption-key"
    assert key.private.hex() not in repr(key)


def test_generated_secret_when_none_is_configured(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "data", demo=True)  # only a demo generates one
    key = load_or_create_org_key(s, "org")
    assert load_org_key(Settings(data_dir=tmp_path / "data", demo=True), "org") == key
    assert stat.S_IMODE((tmp_path / "data" / "secret").stat().st_mode) == 0o600


def test_wrong_secret_is_refused_with_what_to_do(tmp_path: Path) -> None:
    save_org_key(settings(tmp_path), "org", OrgKey.generate())
    with pytest.raises(InvalidInput, match="TRADELEDGER_KEYSTORE_SECRET does not match"):
        load_org_key(settings(tmp_path, "wrong"), "org")


def test_a_swapped_public_key_is_refused(tmp_path: Path) -> None:
    s = settings(tmp_path)
    save_org_key(s, "org", OrgKey.generate())
    path = org_key_path(s, "org")
    doc = json.loads(path.read_text())
    doc["public_key"] = OrgKey.generate().public.hex()  # someone else's key, same file
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match="cannot unlock"):
        load_org_key(s, "org")


def test_missing_malformed_and_badly_named_keystores(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert load_org_key(s, "nobody") is None
    org_key_path(s, "broken").parent.mkdir(parents=True, exist_ok=True)
    org_key_path(s, "broken").write_text('{"kind": "x25519-encryption-key"}')
    with pytest.raises(InvalidInput, match="not a readable X25519 keystore"):
        load_org_key(s, "broken")
    with pytest.raises(InvalidInput, match="letters, digits"):
        org_key_path(s, "../escape")
    with pytest.raises(InvalidInput, match="32 bytes"):
        OrgKey.from_private(b"short")


def test_rotation_replaces_the_key(tmp_path: Path) -> None:
    s = settings(tmp_path)
    old = load_or_create_org_key(s, "org")
    new = OrgKey.generate()
    save_org_key(s, "org", new)
    assert load_org_key(s, "org") == new != old
