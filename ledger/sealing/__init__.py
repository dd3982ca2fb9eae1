"""Sealing: confidential documents' cryptography (format and threat model: docs/confidential.md).

A document is sealed with a fresh random document key (``keys``) by a streaming AEAD,
age's STREAM over AES-256-GCM in 64 KiB chunks (``stream``): the SHA-256 fingerprint stays
that of the plain file, while what is stored (and what its CID names) is the sealed object.
The document key is wrapped for each recipient organisation with HPKE, bound to the
document's fingerprint, in an envelope kept apart from the ciphertext (``wrap``).
Organisations' X25519 keys rest in encrypted keystores (``orgkeys``). The content's
payload key doubles as the read key a read link carries in its URL fragment; the pages'
``static/unseal.js`` opens it in the browser with Web Crypto.

Imports only the shared modules at the top of ``ledger``: a caller hands a ``Sealer`` (an
iterable of sealed bytes) to any content store's ``put``.
"""

from ledger.sealing.keys import DocumentKey, Kind, PayloadKey
from ledger.sealing.orgkeys import (
    OrgKey,
    load_or_create_org_key,
    load_org_key,
    org_key_path,
    save_org_key,
)
from ledger.sealing.stream import (
    Sealer,
    open_bytes,
    open_stream,
    open_to_file,
    seal_bytes,
    sealed_size,
)
from ledger.sealing.wrap import (
    Envelope,
    Wrap,
    add_recipient,
    seal_envelope,
    unwrap_key,
    wrap_key,
)

__all__ = [
    "DocumentKey",
    "Envelope",
    "Kind",
    "OrgKey",
    "PayloadKey",
    "Sealer",
    "Wrap",
    "add_recipient",
    "load_or_create_org_key",
    "load_org_key",
    "open_bytes",
    "open_stream",
    "open_to_file",
    "org_key_path",
    "save_org_key",
    "seal_bytes",
    "seal_envelope",
    "sealed_size",
    "unwrap_key",
    "wrap_key",
]
