"""The symmetric keys of a sealed document.

A **document key** (32 random bytes, fresh for every document) is what gets wrapped for
each recipient organisation (``wrap``). It never encrypts anything itself: every sealed
object of the document (its content, its metadata) has a **payload key** derived from it
with HKDF-SHA256, salted with the object's own random salt and labelled with its kind, so
the content and the metadata never share a key.

The content's payload key is also the document's **read key**: the key a read link for
paper carries in its URL fragment (``/v/{sha256}#k=<base64url>``). It opens the content and
nothing else (not the metadata, not the document key), and the browser needs only AES-GCM
from Web Crypto to use it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import InvalidInput

KEY_SIZE = 32
FRAGMENT_PREFIX = "k="
_BASE64URL = set(string.ascii_letters + string.digits + "-_")


class Kind(IntEnum):
    """What a sealed object holds; it is in the object's header and in its key's label."""

    CONTENT = 1
    METADATA = 2


_LABELS = {
    Kind.CONTENT: b"tradeledger-seal-v1 content",
    Kind.METADATA: b"tradeledger-seal-v1 metadata",
}


def _check(secret: bytes, what: str) -> bytes:
    if not isinstance(secret, bytes) or len(secret) != KEY_SIZE:
        raise InvalidInput(f"a {what} is {KEY_SIZE} bytes; got {len(secret)}")
    return secret


@dataclass(frozen=True, slots=True, repr=False)
class PayloadKey:
    """The AES-256-GCM key of one sealed object (for the content: the read key)."""

    secret: bytes

    def __post_init__(self) -> None:
        _check(self.secret, "payload key")

    def __repr__(self) -> str:
        return "PayloadKey(<secret>)"

    def text(self) -> str:
        """base64url without padding (43 characters), as a URL fragment carries it."""
        return base64.urlsafe_b64encode(self.secret).rstrip(b"=").decode()

    def fragment(self) -> str:
        """The URL fragment of a read link, without the ``#``: ``k=<base64url>``."""
        return FRAGMENT_PREFIX + self.text()

    @classmethod
    def from_text(cls, text: str) -> PayloadKey:
        """A read key from its base64url text, a ``k=...`` fragment or a ``#k=...`` one."""
        t = text.strip().removeprefix("#").removeprefix(FRAGMENT_PREFIX)
        if len(t) != 43 or not set(t) <= _BASE64URL:
            raise InvalidInput(
                "a read key is 43 base64url characters (A-Z a-z 0-9 - _), as in the link's "
                "'#k=...' part: copy the whole link again"
            )
        try:
            raw = base64.urlsafe_b64decode(t + "=")
        except binascii.Error:
            raise InvalidInput("the read key is not valid base64url: copy the link again") from None
        return cls(_check(raw, "read key"))


@dataclass(frozen=True, slots=True, repr=False)
class DocumentKey:
    """A document's own random key: wrapped for recipients, never stored in the clear."""

    secret: bytes

    def __post_init__(self) -> None:
        _check(self.secret, "document key")

    def __repr__(self) -> str:
        return "DocumentKey(<secret>)"

    @classmethod
    def generate(cls) -> DocumentKey:
        return cls(secrets.token_bytes(KEY_SIZE))

    def payload_key(self, kind: Kind, salt: bytes) -> PayloadKey:
        """HKDF-SHA256(ikm = this key, salt = the object's salt, info = its kind's label)."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_LABELS[kind])
        return PayloadKey(hkdf.derive(self.secret))
