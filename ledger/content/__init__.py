"""Content: documents' bytes, addressed by IPFS CIDs.

One streaming pass gives a document's SHA-256 and CID (``hashing``, with the UnixFS nodes
of ``unixfs``); the bytes live in the embedded block store (``blockstore``, the default)
or on a real IPFS node (``ipfs``: the ``ContentStore`` interface, ``NodeStore`` and
``open_store``); ``car`` reads and writes CAR archives.

Imports only the shared modules at the top of ``ledger`` (never the chain, index or flows).
"""

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

__all__ = [
    "CHUNK_SIZE",
    "BlockStore",
    "CidHasher",
    "CidLike",
    "ContentStore",
    "Fingerprint",
    "NodeStore",
    "as_cid",
    "hash_bytes",
    "hash_file",
    "hash_stream",
    "open_store",
    "read_car",
    "write_car",
]
