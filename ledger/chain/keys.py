"""Signing keys at rest: encrypted keystores under the data folder, never plain text.

Keystores are eth-account's (scrypt, at the library's default cost) JSON files in
``data_dir/keys`` (mode 600, see ``ledger.datadir``), one per key, never overwritten: a name
is taken once (``save_key`` refuses an existing one), and keys the service generates are
named after their address. They are unlocked with the keystore secret
(``ledger.datadir.keystore_secret``: from the environment or a file outside the data
folder; generated into it in demo mode only).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.datadir import PRIVATE_FILE, keystore_file, keystore_secret, private_dir
from ledger.errors import Conflict, InvalidInput


def keystore_path(settings: Settings, name: str) -> Path:
    return keystore_file(settings, name)


def save_key(settings: Settings, name: str, account: LocalAccount) -> Path:
    """Encrypt ``account``'s key into a new keystore ``name``; ``Conflict`` if ``name`` is
    taken (an existing keystore is never replaced: it may hold the only copy of a key)."""
    path = keystore_path(settings, name)
    private_dir(path.parent)
    encrypted = Account.encrypt(account.key, keystore_secret(settings))
    # written whole under a name of its own, then linked into place: link() fails rather
    # than replace an existing file, and nobody ever sees a half-written keystore
    tmp = path.with_name(f".{name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(encrypted, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise Conflict(f"keystore {path} exists already: choose another name") from None
    finally:
        tmp.unlink(missing_ok=True)
    _sync_dir(path.parent)
    return path


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key(settings: Settings, name: str) -> LocalAccount | None:
    path = keystore_path(settings, name)
    if not path.exists():
        return None
    try:
        key = Account.decrypt(json.loads(path.read_text()), keystore_secret(settings))
    except ValueError as exc:
        raise InvalidInput(
            f"cannot unlock keystore {path}: the keystore secret (TRADELEDGER_KEYSTORE_SECRET or "
            "TRADELEDGER_KEYSTORE_SECRET_FILE) does not match the secret it was written with"
        ) from exc
    account: LocalAccount = Account.from_key(key)
    return account


def load_or_create_key(settings: Settings, name: str) -> LocalAccount:
    """The key in keystore ``name``, generated and saved on first use (if two processes
    create it at once, both end up with the one that was saved)."""
    account = load_key(settings, name)
    if account is None:
        account = Account.create()
        try:
            save_key(settings, name, account)
        except Conflict:
            found = load_key(settings, name)
            assert found is not None
            return found
    return account


def create_key(settings: Settings, prefix: str) -> tuple[str, LocalAccount]:
    """A new key in a keystore named ``{prefix}-{address}``: unique, whoever else creates
    keys at the same moment. Returns the keystore name and the key."""
    account: LocalAccount = Account.create()
    name = f"{prefix}-{account.address.lower()}"
    save_key(settings, name, account)
    return name, account
