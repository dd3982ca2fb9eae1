"""Batch manifests: the JSON document, stored on IPFS, that lists the members of a batch.

Its CID travels in the ``BatchAnchored`` event, so anyone holding the content store can
rebuild every member's fields and Merkle proof from the chain alone.

    {"version": 1, "root": "0x…", "members": [
        {"fingerprint": "<sha256 hex>", "doc_type": 861, "cid": "bafk…",
         "consignment_ref": "SMGS-…", "metadata_cid": "bafk…" | null}, …]}

Members appear in the order their leaves were given to the tree; proofs are recomputed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cached_property

from ledger.chain.merkle import BatchMember, MerkleTree
from ledger.cid import Cid
from ledger.errors import InvalidInput

VERSION = 1
RECENT = 8  # manifests kept parsed, with their trees: the service writes one, its indexer reads it
_RECENT: dict[bytes, Manifest] = {}
_RECENT_LOCK = threading.Lock()


@dataclass(frozen=True)
class ManifestEntry:
    fingerprint: str  # SHA-256 hex, lower case, no 0x
    doc_type: int
    cid: str  # base32 CIDv1
    consignment_ref: str
    metadata_cid: str | None = None

    def member(self) -> BatchMember:
        return BatchMember(
            bytes.fromhex(self.fingerprint),
            self.doc_type,
            bytes(Cid.parse(self.cid)),
            self.consignment_ref,
        )


@dataclass(frozen=True)
class Manifest:
    entries: tuple[ManifestEntry, ...]

    @cached_property
    def _tree(self) -> MerkleTree:
        return MerkleTree([e.member().leaf() for e in self.entries])

    def tree(self) -> MerkleTree:
        """The batch's Merkle tree (built once per manifest)."""
        return self._tree

    def to_json(self) -> bytes:
        body = {
            "version": VERSION,
            "root": "0x" + self.tree().root.hex(),
            "members": [e.__dict__ for e in self.entries],
        }
        data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        _remember(data, self)
        return data

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parse and check a manifest (one this process wrote or read lately: from memory)."""
        with _RECENT_LOCK:
            known = _RECENT.get(bytes(data))
        if known is not None:
            return known
        manifest = cls._parse(data)
        _remember(data, manifest)
        return manifest

    @classmethod
    def _parse(cls, data: bytes) -> Manifest:
        try:
            body = json.loads(data)
            if body.get("version") != VERSION:
                raise InvalidInput(f"batch manifest version {body.get('version')} is not {VERSION}")
            entries = tuple(ManifestEntry(**m) for m in body["members"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"not a batch manifest: {exc}") from exc
        manifest = cls(entries)
        if "0x" + manifest.tree().root.hex() != body.get("root"):
            raise InvalidInput("batch manifest's root does not match its members")
        return manifest


def _remember(data: bytes, manifest: Manifest) -> None:
    with _RECENT_LOCK:
        _RECENT[bytes(data)] = manifest
        while len(_RECENT) > RECENT:
            del _RECENT[next(iter(_RECENT))]
