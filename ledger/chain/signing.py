"""Signing EIP-1559 (type 2) transactions quickly.

eth-account validates and normalises every field of a transaction dictionary through
layers of formatters (about 0.4 ms a transaction); the service signs the same shape of
transaction many times a second. ``sign_dynamic_fee`` RLP-encodes the fields and signs the
digest with libsecp256k1 directly (RFC 6979, low ``s``, as eth-account does), so its bytes
are identical to eth-account's; ``tests/chain/test_signing.py`` checks that. Other shapes
(legacy, access lists, blobs) return ``None`` and the caller uses eth-account.
"""

from __future__ import annotations

from typing import Any

import coincurve
import rlp
from eth_utils import keccak, to_bytes

_FIELDS = {
    "chainId",
    "nonce",
    "maxPriorityFeePerGas",
    "maxFeePerGas",
    "gas",
    "to",
    "value",
    "data",
    "from",
    "type",
}


class Signer:
    """One private key that signs type-2 transactions."""

    def __init__(self, private_key: bytes) -> None:
        self._key = coincurve.PrivateKey(bytes(private_key))

    def sign_dynamic_fee(self, tx: dict[str, Any]) -> tuple[bytes, bytes] | None:
        """``(raw transaction, its hash)``, or ``None`` if ``tx`` is not a plain type-2 one."""
        if (
            not set(tx) <= _FIELDS
            or "maxFeePerGas" not in tx
            or tx.get("type", 2) not in (2, "0x2")
        ):
            return None
        to = tx.get("to") or b""
        fields: list[Any] = [
            int(tx["chainId"]),
            int(tx["nonce"]),
            int(tx["maxPriorityFeePerGas"]),
            int(tx["maxFeePerGas"]),
            int(tx["gas"]),
            to if isinstance(to, bytes) else to_bytes(hexstr=to),
            int(tx.get("value", 0)),
            _bytes(tx.get("data", b"")),
            [],
        ]
        digest = keccak(b"\x02" + rlp.encode(fields))
        signature = self._key.sign_recoverable(digest, hasher=None)  # r (32) | s (32) | v (1)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        raw = b"\x02" + rlp.encode([*fields, signature[64], r, s])
        return raw, keccak(raw)


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return to_bytes(hexstr=value)
    return bytes(value)
