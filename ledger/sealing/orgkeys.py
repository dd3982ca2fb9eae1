"""Organisations' encryption keys at rest: X25519 keys in encrypted keystores.

The gateway holds its own organisation's X25519 private key (the one recipients' wraps are
made for) the way it holds signing keys: in ``data_dir/keys/<name>.x25519.json`` (mode
600), encrypted with the keystore secret (``ledger.datadir.keystore_secret``: from the
environment or a file outside the data folder; generated into it in demo mode only). The
file::

    {"version": 1, "kind": "x25519-encryption-key", "public_key": hex (32 bytes),
     "crypto": {"kdf": "scrypt", "kdfparams": {"n", "r", "p", "salt"},
                "cipher": "aes-256-gcm", "nonce": hex, "ciphertext": hex}}

The private key is AES-256-GCM-encrypted under scrypt(secret, salt), with the public key
as associated data, so neither can be swapped. The public key, 32 raw bytes, is what the
contract's registry of encryption keys takes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ledger.config import Settings
from ledger.datadir import keystore_file, keystore_secret, write_private
from ledger.errors import IntegrityError, InvalidInput

KIND = "x25519-encryption-key"
SUFFIX = ".x25519.json"
SCRYPT_N = 2**15  # ~0.1 s, as the signing keystores
_AAD = b"tradeledger x25519 keystore v1 "


@dataclass(frozen=True, slots=True, repr=False)
class OrgKey:
    """An organisation's X25519 key pair (raw 32-byte private and public keys)."""

    private: bytes
    public: bytes

    def __repr__(self) -> str:
        return f"OrgKey(public={self.public.hex()})"

    @classmethod
    def generate(cls) -> OrgKey:
        return cls.from_private(X25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_private(cls, private: bytes) -> OrgKey:
        if len(private) != 32:
            raise InvalidInput("an X25519 private key is 32 bytes")
        key = X25519PrivateKey.from_private_bytes(private)
        return cls(private, key.public_key().public_bytes_raw())


def org_key_path(settings: Settings, name: str) -> Path:
    return keystore_file(settings, name, SUFFIX)


def _kdf(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret.encode())


def save_org_key(settings: Settings, name: str, key: OrgKey) -> Path:
    """Encrypt ``key`` into keystore ``name`` (replacing it: rotate by saving a new key)."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    params = {"n": SCRYPT_N, "r": 8, "p": 1}
    kek = _kdf(keystore_secret(settings), salt, **params)
    sealed = AESGCM(kek).encrypt(nonce, key.private, _AAD + key.public)
    doc = {
        "version": 1,
        "kind": KIND,
        "public_key": key.public.hex(),
        "crypto": {
            "kdf": "scrypt",
            "kdfparams": {**params, "salt": salt.hex()},
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": sealed.hex(),
        },
    }
    path = org_key_path(settings, name)
    write_private(path, json.dumps(doc, indent=2).encode())
    return path


def load_org_key(settings: Settings, name: str) -> OrgKey | None:
    """The key in keystore ``name``, or None if there is none."""
    path = org_key_path(settings, name)
    if not path.exists():
        return None
    try:
        doc: dict[str, Any] = json.loads(path.read_text())
        crypto, params = doc["crypto"], doc["crypto"]["kdfparams"]
        if doc["kind"] != KIND or crypto["kdf"] != "scrypt" or crypto["cipher"] != "aes-256-gcm":
            raise ValueError("not an X25519 keystore of this format")
        public = bytes.fromhex(doc["public_key"])
        kek = _kdf(
            keystore_secret(settings),
            bytes.fromhex(params["salt"]),
            int(params["n"]),
            int(params["r"]),
            int(params["p"]),
        )
        nonce, sealed = bytes.fromhex(crypto["nonce"]), bytes.fromhex(crypto["ciphertext"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a readable X25519 keystore ({exc})") from None
    try:
        private = AESGCM(kek).decrypt(nonce, sealed, _AAD + public)
    except InvalidTag:
        raise InvalidInput(
            f"cannot unlock keystore {path}: TRADELEDGER_KEYSTORE_SECRET does not match the "
            "secret it was written with (or the file was altered)"
        ) from None
    key = OrgKey.from_private(private)
    if key.public != public:
        raise IntegrityError(f"keystore {path}: its public key does not match its private key")
    return key


def load_or_create_org_key(settings: Settings, name: str) -> OrgKey:
    """The key in keystore ``name``, generated and saved on first use."""
    key = load_org_key(settings, name)
    if key is None:
        key = OrgKey.generate()
        save_org_key(settings, name, key)
    return key
