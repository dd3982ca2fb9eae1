"""Storing what a caller uploads: streamed once into the content store, within the size limit.

The bytes are hashed (SHA-256 and CID) while they are written, so a document is read only
once. ``sync=False`` leaves the flush to the caller, who makes the content and the outbox
job durable together (see ``ledger.flows.jobs``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from io import BytesIO
from typing import Any, BinaryIO, cast

from ledger.content import Fingerprint
from ledger.errors import InvalidInput
from ledger.sealing import DocumentKey, Kind, Sealer

Source = BinaryIO | Iterable[bytes]


class TooLarge(InvalidInput):
    """The upload is larger than ``max_upload_bytes`` (HTTP 413)."""


class LimitedReader:
    """A file-like view of ``source`` that refuses to yield more than ``limit`` bytes."""

    def __init__(self, source: Source, limit: int) -> None:
        self._read = source.read if hasattr(source, "read") else _chunks_reader(iter(source))
        self.limit = limit
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._read(n)
        self.count += len(data)
        if self.count > self.limit:
            raise TooLarge(
                f"the document is larger than the limit of {self.limit} bytes: split it or ask the "
                "operator to raise TRADELEDGER_MAX_UPLOAD_BYTES"
            )
        return data


def _chunks_reader(chunks: Iterator[bytes]) -> Any:
    buffer = bytearray()

    def read(n: int = -1) -> bytes:
        while n < 0 or len(buffer) < n:
            try:
                buffer.extend(next(chunks))
            except StopIteration:
                break
        size = len(buffer) if n < 0 else min(n, len(buffer))
        out = bytes(buffer[:size])
        del buffer[:size]
        return out

    return read


class Uploads:
    """Puts uploads into one content store, each at most ``limit`` bytes."""

    def __init__(self, store: Any, limit: int) -> None:
        self.store = store
        self.limit = limit

    def put(self, source: Source, sync: bool = True) -> Fingerprint:
        """Store ``source``; with ``sync=False`` it is durable after the caller's next flush."""
        fingerprint: Fingerprint = self.store.put(LimitedReader(source, self.limit), sync=sync)
        if fingerprint.size == 0:
            raise InvalidInput("the file is empty: upload the document's bytes")
        return fingerprint

    def put_sealed(
        self, source: Source, key: DocumentKey, kind: Kind = Kind.CONTENT, sync: bool = True
    ) -> Fingerprint:
        """Store ``source`` sealed with ``key`` in the same single pass: the answer's
        ``sha256`` and ``size`` are the plain file's (its fingerprint), its ``cid`` the
        stored sealed object's. The store never sees a plain byte."""
        sealer = Sealer(cast(BinaryIO, LimitedReader(source, self.limit)), key, kind)
        stored: Fingerprint = self.store.put(sealer, sync=sync)
        if sealer.size == 0:
            raise InvalidInput("the file is empty: upload the document's bytes")
        return Fingerprint(sealer.sha256, stored.cid, sealer.size)

    def put_many(self, sources: Iterable[Source]) -> list[Fingerprint]:
        """Store every source in turn (each read to its end before the next is asked for);
        the embedded store does it with the disk syncs of one, unpinned until ``pin_many``.
        (An IPFS node pins what it adds.)"""
        put_many = getattr(self.store, "put_many", None)
        if put_many is None:
            return [self.put(source) for source in sources]
        fingerprints: list[Fingerprint] = put_many(
            (LimitedReader(source, self.limit) for source in sources), pin=False
        )
        if any(fp.size == 0 for fp in fingerprints):
            raise InvalidInput("a file of the batch is empty: upload every document's bytes")
        return fingerprints

    def pin_many(self, cids: list[str]) -> None:
        """Pin what ``put_many`` stored (only once the batch is accepted, so a refused batch
        leaves nothing pinned)."""
        pin_many = getattr(self.store, "pin_many", None)
        if pin_many is not None:
            pin_many(cids)

    def put_json(
        self, value: dict[str, Any] | None, sync: bool = True, key: DocumentKey | None = None
    ) -> str | None:
        """Store a JSON document in canonical form (sorted keys, no spaces), sealed as
        metadata with ``key`` if given; its CID."""
        if value is None:
            return None
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if key is not None:
            return self.put_sealed(BytesIO(body.encode()), key, Kind.METADATA, sync).cid
        return self.put(BytesIO(body.encode()), sync).cid
