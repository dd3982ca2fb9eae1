"""Signing keys at rest: encrypted keystores under the data folder, never plain text.

Keystores are eth-account's (scrypt) JSON files in ``data_dir/keys``. They are unlocked with
``Settings.keystore_secret``; when that is unset, a random secret is generated once into
``data_dir/secret`` (mode 600, see ``ledger.datadir``), which suits a single development
machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.datadir import PRIVATE_FILE, keystore_file, keystore_secret, private_dir
from ledger.errors import InvalidInput

SCRYPT_N = 2**15  # ~0.1 s per unlock on this machine; eth-account's default 2**18 takes ~1 s


def keystore_path(settings: Settings, name: str) -> Path:
    return keystore_file(settings, name)


def save_key(settings: Settings, name: str, account: LocalAccount) -> Path:
    """Encrypt ``account``'s key into the keystore ``name``."""
    path = keystore_path(settings, name)
    private_dir(path.parent)
    encrypted = Account.encrypt(account.key, keystore_secret(settings), iterations=SCRYPT_N)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
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
