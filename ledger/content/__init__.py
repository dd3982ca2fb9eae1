"""Content: documents' bytes, addressed by IPFS CIDs.

One streaming pass gives a document's SHA-256 and CID (``hashing``, with the UnixFS nodes
of ``unixfs``); the bytes live in the embedded block store (``blockstore``, the default)
or on a real IPFS node (``ipfs``: the ``ContentStore`` interface, ``NodeStore`` and
``open_store``); ``car`` reads and writes CAR archives.

Imports only the shared modules at the top of ``ledger`` (never the chain, index or flows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.surface import lazy, names

SURFACE = {
    "blockstore": ["BlockStore", "CidLike", "as_cid"],
    "car": ["read_car", "write_car"],
    "hashing": ["CHUNK_SIZE", "CidHasher", "Fingerprint", "hash_bytes", "hash_file", "hash_stream"],
    "ipfs": ["ContentStore", "NodeStore", "open_store"],
}
__all__ = names(SURFACE)
__getattr__ = lazy(__name__, SURFACE, globals())

if TYPE_CHECKING:
    from ledger.content.blockstore import BlockStore, CidLike, as_cid
    from ledger.content.car import read_car, write_car
    from ledger.content.hashing import (
        CHUNK_SIZE,
        CidHasher,
        Fingerprint,
        hash_bytes,
        hash_file,
        hash_stream,
    )
    from ledger.content.ipfs import ContentStore, NodeStore, open_store
