"""Signing keys at rest: encrypted keystores under the data folder, never plain text.

Keystores are eth-account's (scrypt, at the library's default cost) JSON files in
``data_dir/keys``, one per key, never overwritten: a name is taken once (``save_key``
refuses an existing one), and keys the service generates are named after their address.
They are unlocked with the keystore secret: ``Settings.keystore_secret``, or the file
``Settings.keystore_secret_file`` outside the data folder (so that a copy of the data folder
is not a copy of the keys). Only in demo mode may the secret be generated into
``data_dir/secret`` (mode 600).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import Settings
from ledger.errors import Conflict, InvalidInput, Misconfigured

NO_SECRET = (
    "no keystore secret: set TRADELEDGER_KEYSTORE_SECRET, or TRADELEDGER_KEYSTORE_SECRET_FILE "
    "to a file outside the data folder {data_dir} holding it (e.g. `head -c 32 /dev/urandom "
    "| base64 > /etc/tradeledger/secret; chmod 600 /etc/tradeledger/secret`); for a local demo "
    "only, TRADELEDGER_DEMO=1 (or `tradeledger serve --demo`) keeps a generated one in the "
    "data folder"
)


def keystore_secret(settings: Settings) -> str:
    """The secret that encrypts the keystores; ``Misconfigured`` (saying how to give one)
    when there is none, or when its file lies inside the data folder."""
    if settings.keystore_secret is not None:
        return settings.keystore_secret.get_secret_value()
    data_dir = settings.data_dir.resolve()
    if settings.keystore_secret_file is not None:
        path = settings.keystore_secret_file.expanduser().resolve()
        if path.is_relative_to(data_dir):
            raise Misconfigured(
                f"TRADELEDGER_KEYSTORE_SECRET_FILE {path} lies inside the data folder {data_dir}: "
                "a copy of that folder would then hold the keys and their secret; move it out"
            )
        try:
            secret = path.read_text().strip()
        except OSError as exc:
            raise Misconfigured(
                f"cannot read TRADELEDGER_KEYSTORE_SECRET_FILE {path}: {exc.strerror}"
            ) from exc
        if not secret:
            raise Misconfigured(f"TRADELEDGER_KEYSTORE_SECRET_FILE {path} is empty: put the secret in it")
        return secret
    if not settings.demo:
        raise Misconfigured(NO_SECRET.format(data_dir=data_dir))
    path = settings.data_dir / "secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it meanwhile
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
                f.flush()
                os.fsync(f.fileno())
    return path.read_text().strip()


def keystore_path(settings: Settings, name: str) -> Path:
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidInput(f"key name {name!r} may hold only letters, digits, - and _")
    return settings.data_dir / "keys" / f"{name}.json"


def save_key(settings: Settings, name: str, account: LocalAccount) -> Path:
    """Encrypt ``account``'s key into a new keystore ``name``; ``Conflict`` if ``name`` is
    taken (an existing keystore is never replaced: it may hold the only copy of a key)."""
    path = keystore_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    encrypted = Account.encrypt(account.key, keystore_secret(settings))
    # written whole under a name of its own, then linked into place: link() fails rather
    # than replace an existing file, and nobody ever sees a half-written keystore
    tmp = path.with_name(f".{name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
