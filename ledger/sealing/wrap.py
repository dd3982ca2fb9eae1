"""Per-recipient wraps of a document key: HPKE (RFC 9180), bound to the document.

Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, base mode, single shot, by
``pyhpke`` (over pyca/cryptography's X25519, HKDF and AES-GCM). A wrap seals the 32-byte
document key to one organisation's X25519 public key with

    info = "tradeledger-seal-v1 wrap" | SHA-256 fingerprint of the document (32 bytes)

so it opens only as the key of that very document: a wrap copied onto another document
fails. A wrap is 113 bytes: version 0x01 | recipient public key (32) | enc (32) |
sealed key (48). Wraps live apart from the sealed content (in an ``Envelope``), so adding
a recipient later (``add_recipient``: open one's own wrap, wrap again for the newcomer)
leaves the stored ciphertext, and its CID, as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKeyPair, PyHPKEError

from ledger.errors import InvalidInput, SealBroken
from ledger.sealing.keys import KEY_SIZE, DocumentKey

SUITE = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES256_GCM)
SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"
INFO = b"tradeledger-seal-v1 wrap"
WRAP_VERSION = 1
PUBLIC_SIZE = 32
ENC_SIZE = 32
SEALED_KEY_SIZE = KEY_SIZE + 16
WRAP_SIZE = 1 + PUBLIC_SIZE + ENC_SIZE + SEALED_KEY_SIZE


def hpke_seal(
    public_key: bytes,
    plaintext: bytes,
    info: bytes,
    aad: bytes = b"",
    ephemeral: tuple[bytes, bytes] | None = None,
) -> tuple[bytes, bytes]:
    """RFC 9180 single-shot SealBase (SetupBaseS, then Seal) to an X25519 public key:
    returns (enc, ciphertext).
    ``ephemeral`` (private, public) replaces the fresh ephemeral key: for test vectors only."""
    pkr = _public(public_key)
    eks = None
    if ephemeral is not None:
        eks = KEMKeyPair(
            SUITE.kem.deserialize_private_key(ephemeral[0]),
            SUITE.kem.deserialize_public_key(ephemeral[1]),
        )
    try:
        enc, ctx = SUITE.create_sender_context(pkr, info, eks=eks)
        return enc, ctx.seal(plaintext, aad)
    except (PyHPKEError, ValueError) as exc:
        raise InvalidInput(f"cannot wrap for this public key ({exc}): it is not X25519") from exc


def hpke_open(
    private_key: bytes, enc: bytes, ciphertext: bytes, info: bytes, aad: bytes = b""
) -> bytes:
    """RFC 9180 single-shot OpenBase (SetupBaseR, then Open) with an X25519 private key;
    ``SealBroken`` if it fails."""
    try:
        skr = SUITE.kem.deserialize_private_key(private_key)
        return SUITE.create_recipient_context(enc, skr, info).open(ciphertext, aad)
    except (PyHPKEError, ValueError):
        raise SealBroken(
            "the wrapped key does not open with this organisation's key for this document: it "
            "is for another document or recipient, or it was altered"
        ) from None


def _public(public_key: bytes) -> Any:
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_SIZE:
        raise InvalidInput(
            f"an encryption public key is {PUBLIC_SIZE} bytes of X25519; got "
            f"{len(public_key) if isinstance(public_key, bytes) else type(public_key).__name__}: "
            "give the organisation's registered X25519 key"
        )
    return SUITE.kem.deserialize_public_key(public_key)


def _public_of(private_key: bytes) -> bytes:
    try:
        return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
    except ValueError:
        raise InvalidInput("an X25519 private key is 32 bytes") from None


def _fingerprint(sha256: str | bytes) -> bytes:
    raw = bytes.fromhex(sha256) if isinstance(sha256, str) else sha256
    if len(raw) != 32:
        raise InvalidInput("a document fingerprint is the 32-byte SHA-256 of the plain file")
    return raw


@dataclass(frozen=True, slots=True)
class Wrap:
    """A document key sealed to one recipient public key."""

    recipient: bytes
    enc: bytes
    sealed_key: bytes

    def to_bytes(self) -> bytes:
        return bytes([WRAP_VERSION]) + self.recipient + self.enc + self.sealed_key

    @classmethod
    def from_bytes(cls, raw: bytes) -> Wrap:
        if len(raw) != WRAP_SIZE or raw[0] != WRAP_VERSION:
            raise InvalidInput(
                f"a wrapped key is {WRAP_SIZE} bytes starting with version {WRAP_VERSION}; got "
                f"{len(raw)} bytes: copy it again"
            )
        a, b = 1 + PUBLIC_SIZE, 1 + PUBLIC_SIZE + ENC_SIZE
        return cls(raw[1:a], raw[a:b], raw[b:])


def wrap_key(key: DocumentKey, recipient: bytes, sha256: str | bytes) -> Wrap:
    """Seal ``key`` to ``recipient`` (an X25519 public key) for the document ``sha256``."""
    enc, sealed = hpke_seal(recipient, key.secret, INFO + _fingerprint(sha256))
    return Wrap(recipient, enc, sealed)


def unwrap_key(wrap: Wrap, private_key: bytes, sha256: str | bytes) -> DocumentKey:
    """The document key of document ``sha256`` from a wrap made for ``private_key``'s owner
    (the wrap must name that key's public key: the label cannot be swapped either)."""
    if _public_of(private_key) != wrap.recipient:
        raise SealBroken(
            "this wrapped key names another recipient's encryption key: use that "
            "organisation's key, or ask the issuer to add yours"
        )
    secret = hpke_open(private_key, wrap.enc, wrap.sealed_key, INFO + _fingerprint(sha256))
    return DocumentKey(secret)


@dataclass(frozen=True)
class Envelope:
    """Every wrap of one document's key, one per recipient public key; kept beside (never
    inside) the sealed content. JSON: ``{"version", "suite", "sha256", "wraps": [hex]}``."""

    sha256: str
    wraps: tuple[Wrap, ...] = field(default=())

    def recipients(self) -> list[bytes]:
        return [w.recipient for w in self.wraps]

    def wrap_for(self, recipient: bytes) -> Wrap:
        for w in self.wraps:
            if w.recipient == recipient:
                return w
        raise SealBroken(
            "the document's key is not wrapped for this organisation's encryption key: ask "
            "the issuer to add it as a recipient"
        )

    def open(self, private_key: bytes, public_key: bytes) -> DocumentKey:
        return unwrap_key(self.wrap_for(public_key), private_key, self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": WRAP_VERSION,
            "suite": SUITE_NAME,
            "sha256": self.sha256,
            "wraps": [w.to_bytes().hex() for w in self.wraps],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Envelope:
        if data.get("version") != WRAP_VERSION or data.get("suite") != SUITE_NAME:
            raise InvalidInput(
                f"an envelope of version {WRAP_VERSION} with suite {SUITE_NAME!r} was expected"
            )
        try:
            sha = _fingerprint(str(data["sha256"])).hex()
            wraps = tuple(Wrap.from_bytes(bytes.fromhex(w)) for w in data["wraps"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"the envelope is malformed ({exc}): export it again") from None
        return cls(sha, wraps)


def seal_envelope(key: DocumentKey, sha256: str, recipients: Iterable[bytes]) -> Envelope:
    """Wrap ``key`` for each recipient (duplicates once) of document ``sha256``."""
    unique = list(dict.fromkeys(recipients))
    if not unique:
        raise InvalidInput("name at least one recipient: the issuer's own organisation")
    return Envelope(sha256, tuple(wrap_key(key, r, sha256) for r in unique))


def add_recipient(
    envelope: Envelope, private_key: bytes, public_key: bytes, newcomer: bytes
) -> Envelope:
    """The envelope with a wrap for ``newcomer``, made by a recipient (``private_key``,
    ``public_key``) from its own wrap; the sealed content is untouched."""
    if newcomer in envelope.recipients():
        return envelope
    key = envelope.open(private_key, public_key)
    return Envelope(envelope.sha256, (*envelope.wraps, wrap_key(key, newcomer, envelope.sha256)))
