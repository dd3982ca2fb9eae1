"""Signing keys at rest: encrypted keystores under the data folder, never plain text.

Keystores are eth-account's (scrypt) JSON files in ``data_dir/keys``. They are unlocked with
``Settings.keystore_secret``; when that is unset, a random secret is generated once into
``data_dir/secret`` (mode 600), which suits a single development machine.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.errors import InvalidInput

SCRYPT_N = 2**15  # ~0.1 s per unlock on this machine; eth-account's default 2**18 takes ~1 s


def keystore_secret(settings: Settings) -> str:
    if settings.keystore_secret is not None:
        return settings.keystore_secret.get_secret_value()
    path = settings.data_dir / "secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def keystore_path(settings: Settings, name: str) -> Path:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput(f"key name {name!r} may hold only letters, digits, - and _")
    return settings.data_dir / "keys" / f"{name}.json"


def save_key(settings: Settings, name: str, account: LocalAccount) -> Path:
    """Encrypt ``account``'s key into the keystore ``name``."""
    path = keystore_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    encrypted = Account.encrypt(account.key, keystore_secret(settings), iterations=SCRYPT_N)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(encrypted, f)
    tmp.replace(path)
    return path


def load_key(settings: Settings, name: str) -> LocalAccount | None:
    path = keystore_path(settings, name)
    if not path.exists():
        return None
    try:
        key = Account.decrypt(json.loads(path.read_text()), keystore_secret(settings))
    except ValueError as exc:
        raise InvalidInput(
            f"cannot unlock keystore {path}: TRADELEDGER_KEYSTORE_SECRET does not match the "
            "secret it was written with"
        ) from exc
    account: LocalAccount = Account.from_key(key)
    return account


def load_or_create_key(settings: Settings, name: str) -> LocalAccount:
    """The key in keystore ``name``, generated and saved on first use."""
    account = load_key(settings, name)
    if account is None:
        account = Account.create()
        save_key(settings, name, account)
    return account
