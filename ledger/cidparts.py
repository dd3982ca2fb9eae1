"""How a binary CID travels to and from the contracts: a 4-byte prefix and a 32-byte digest.

The contracts accept CIDv1 with a 32-byte multihash digest (``0x01 codec 0x12 0x20`` +
digest, e.g. raw leaves ``0x01551220`` or dag-pb ``0x01701220``); passing it as two static
words instead of ``bytes`` keeps a registration under its gas budget.
"""

from __future__ import annotations

from ledger.errors import InvalidInput

CID_LENGTH = 36


def split_cid(cid: bytes) -> tuple[bytes, bytes]:
    """``(prefix, digest)`` of a binary CIDv1 with a 32-byte digest."""
    if len(cid) != CID_LENGTH or cid[0] != 0x01 or cid[3] != 0x20:
        raise InvalidInput(
            f"CID 0x{cid.hex()} is not a binary CIDv1 with a 32-byte sha2-256 digest: "
            "compute it with ledger.hashing (ipfs add --cid-version=1)"
        )
    return cid[:4], cid[4:]


def join_cid(prefix: bytes, digest: bytes) -> bytes:
    return bytes(prefix) + bytes(digest)
