"""Where documents' bytes live: the ``ContentStore`` interface and its two implementations.

- ``BlockStore`` (``ledger.content.blockstore``): the embedded store under ``settings.blocks_dir``,
  the default, no daemon.
- ``NodeStore``: a real IPFS node (Kubo, or js-ipfs in tests) through its RPC API, via
  ipfshttpclient 0.7.0 with its known problems handled here: ``connect()`` refuses every
  current daemon (so ``Client`` is built directly), ``raw_leaves`` and ``cid_version`` are
  always explicit, CIDs are compared as binary (the node prints base58btc), every call has
  a timeout, and lookups of absent content (which would hang) carry a server-side timeout.

``open_store(settings)`` picks one: ``settings.ipfs_rpc_url`` unset means embedded.
"""

from __future__ import annotations

import urllib.parse
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, Protocol

import ipfshttpclient
from ipfshttpclient import exceptions as ipfs_exc

from ledger.cid import Cid
from ledger.config import Settings
from ledger.content.blockstore import BlockStore, CidLike, as_cid
from ledger.content.hashing import CHUNK_SIZE, CidHasher, Fingerprint
from ledger.errors import (
    CidMismatch,
    ContentNotFound,
    IntegrityError,
    InvalidInput,
    StoreTimeout,
    StoreUnavailable,
)

__all__ = ["BlockStore", "CidLike", "ContentStore", "NodeStore", "open_store"]


class ContentStore(Protocol):
    """What the service and CLI need from a store of documents' bytes."""

    def put(
        self, source: BinaryIO | Iterable[bytes], *, pin: bool = True, sync: bool = True
    ) -> Fingerprint:
        """Store the bytes in one pass; return their SHA-256 and CID. With ``sync=False``
        they are durable only after the next ``sync()``."""
        ...

    def sync(self) -> None:
        """Make every earlier ``put(sync=False)`` durable."""
        ...

    def get(self, cid: CidLike) -> Iterator[bytes]:
        """Stream the document back; every byte checked against the CID."""
        ...

    def has(self, cid: CidLike) -> bool: ...

    def pin(self, cid: CidLike) -> None: ...

    def unpin(self, cid: CidLike) -> None: ...


def multiaddr_of(url: str) -> str:
    """``http://127.0.0.1:5001`` → ``/ip4/127.0.0.1/tcp/5001/http`` (what ipfshttpclient takes)."""
    if url.startswith("/"):
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"IPFS RPC URL {url!r} must look like http://127.0.0.1:5001")
    host = parts.hostname
    proto = "ip6" if ":" in host else "ip4" if host.replace(".", "").isdigit() else "dns"
    port = parts.port or (443 if parts.scheme == "https" else 5001)
    return f"/{proto}/{host}/tcp/{port}/{parts.scheme}"


class _TeeReader:
    """A file-like view of the upload that hashes every byte ipfshttpclient reads from it."""

    def __init__(self, source: BinaryIO | Iterable[bytes], hasher: CidHasher | None) -> None:
        self._file = source if hasattr(source, "read") else None
        self._iter = None if self._file is not None else iter(source)
        self._buf = b""
        self._hasher = hasher

    def read(self, n: int = -1) -> bytes:
        if self._file is not None:
            data = self._file.read(n)
        else:
            assert self._iter is not None
            while n < 0 or len(self._buf) < n:
                piece = next(self._iter, None)
                if piece is None:
                    break
                self._buf += piece
            data, self._buf = (self._buf, b"") if n < 0 else (self._buf[:n], self._buf[n:])
        if self._hasher is not None:
            self._hasher.feed(data)
        return bytes(data)


class NodeStore:
    """A real IPFS node through its RPC API (Kubo-compatible: Kubo, js-ipfs)."""

    def __init__(
        self, url: str, timeout: float = 30.0, lookup_timeout: float | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        # lookups that may meet absent content (has, version for health checks) end sooner
        self.lookup_timeout = min(timeout, lookup_timeout or timeout)
        # connect() would refuse any daemon >= 0.8 (VersionMismatch): build the client directly.
        # Its own timeout is a little longer than the server-side one sent with lookups.
        self._client = ipfshttpclient.Client(
            multiaddr_of(url), timeout=timeout + min(timeout, 5.0), chunk_size=1024 * 1024
        )

    def _lookup_opts(self) -> dict[str, str]:
        # Kubo: offline=true answers "not found locally" at once. js-ipfs ignores it and
        # would wait forever: the server-side timeout ends the wait before ours does.
        return {"offline": "true", "timeout": f"{self.lookup_timeout:g}s"}

    def _lookup_wait(self) -> float:
        """Our side's wait for a lookup: a little longer than the node's own timeout."""
        return self.lookup_timeout + min(self.lookup_timeout, 1.0)

    def _call(self, what: str, cid: Cid | None, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():  # ipfshttpclient passes urllib3 a retired argument
                warnings.filterwarnings("ignore", "The 'strict' parameter", FutureWarning)
                return fn(*args, **kwargs)
        except ipfs_exc.TimeoutError as exc:
            raise StoreTimeout(
                f"IPFS node {self.url} did not answer {what} in time: check that it is "
                "healthy, or raise TRADELEDGER_IPFS_TIMEOUT (TRADELEDGER_LOOKUP_TIMEOUT for "
                "lookups)"
            ) from exc
        except ipfs_exc.ConnectionError as exc:
            raise StoreUnavailable(
                f"IPFS node {self.url} cannot be reached for {what}: start it "
                "(scripts/ipfs-daemon start) or fix TRADELEDGER_IPFS_RPC_URL"
            ) from exc
        except ipfs_exc.ErrorResponse as exc:
            msg = str(exc).lower()
            if cid is not None and any(
                s in msg for s in ("timed out", "not found", "deadline exceeded", "aborted")
            ):
                raise ContentNotFound(
                    f"IPFS node {self.url} does not hold {cid} (nor found it in time): add "
                    "the document or import its CAR file there"
                ) from exc
            raise StoreUnavailable(f"IPFS node {self.url} refused {what}: {exc}") from exc
        except ipfs_exc.Error as exc:
            raise StoreUnavailable(f"IPFS node {self.url} failed {what}: {exc}") from exc

    def version(self) -> str:
        info = self._call("version", None, self._client.version, timeout=self._lookup_wait())
        return str(info["Version"])

    def _add_options(self) -> dict[str, Any]:
        # ipfshttpclient sends raw-leaves=false unless told: that is not `ipfs add --cid-version=1`
        return {"raw_leaves": True, "cid_version": 1, "chunker": f"size-{CHUNK_SIZE}"}

    def only_hash(self, source: BinaryIO | Iterable[bytes]) -> Cid:
        """The CID the node computes for these bytes (``add --only-hash``), storing nothing."""
        reply = self._call(
            "add --only-hash",
            None,
            self._client.add,
            _TeeReader(source, None),
            only_hash=True,
            pin=False,
            **self._add_options(),
        )
        return Cid.parse(str(reply["Hash"]))

    def put(
        self, source: BinaryIO | Iterable[bytes], *, pin: bool = True, sync: bool = True
    ) -> Fingerprint:
        """Add to the node (raw leaves, CIDv1, 256 KiB chunks) and check its CID is ours.
        Durability is the node's own affair: ``sync`` changes nothing."""
        hasher = CidHasher()
        reply = self._call(
            "add",
            None,
            self._client.add,
            _TeeReader(source, hasher),
            pin=pin,
            **self._add_options(),
        )
        ours = hasher.finish()
        theirs = Cid.parse(str(reply["Hash"]))
        if theirs.to_v1() != Cid.parse(ours.cid):
            raise CidMismatch(
                f"IPFS node {self.url} stored the document as {theirs.to_v1()} but its CID is "
                f"{ours.cid}: the node does not use raw leaves / 256 KiB chunks / balanced "
                f"layout; fix its settings, then `ipfs pin rm {theirs}` to drop its copy"
            )
        return ours

    def sync(self) -> None:
        """Nothing to do: the node decides when its blocks reach its disk."""

    def has(self, cid: CidLike) -> bool:
        c = as_cid(cid)
        try:
            self._call(
                "block/stat",
                c,
                self._client.block.stat,
                str(c),
                opts=self._lookup_opts(),
                timeout=self._lookup_wait(),
            )
        except ContentNotFound:
            return False
        return True

    def get(self, cid: CidLike) -> Iterator[bytes]:
        """Stream the document; raises ``ContentNotFound`` before the first byte if absent."""
        c = as_cid(cid)
        if not self.has(c):
            raise ContentNotFound(
                f"IPFS node {self.url} does not hold {c}: add the document or import its CAR "
                "file there"
            )
        stream = self._call("cat", c, self._client.cat, str(c), stream=True)
        return self._checked(c, stream)

    def _checked(self, cid: Cid, stream: Iterable[bytes]) -> Iterator[bytes]:
        hasher = CidHasher()
        it = iter(stream)
        while True:
            piece = self._call("cat", cid, next, it, None)
            if piece is None:
                break
            hasher.feed(piece)
            yield piece
        if Cid.parse(hasher.finish().cid) != cid.to_v1():
            raise IntegrityError(
                f"IPFS node {self.url} returned bytes that do not match {cid} (or the CID was "
                "not added with raw leaves / 256 KiB chunks): do not trust this copy"
            )

    def pin(self, cid: CidLike) -> None:
        c = as_cid(cid)
        opts = {"timeout": f"{self.timeout:g}s"}
        self._call("pin/add", c, self._client.pin.add, str(c), opts=opts)

    def unpin(self, cid: CidLike) -> None:
        c = as_cid(cid)
        try:
            self._call("pin/rm", c, self._client.pin.rm, str(c))
        except StoreUnavailable as exc:
            if "not pinned" not in str(exc):
                raise

    def is_pinned(self, cid: CidLike) -> bool:
        c = as_cid(cid)
        try:
            reply = self._call("pin/ls", c, self._client.pin.ls, str(c), type="recursive")
        except StoreUnavailable as exc:
            if "not pinned" in str(exc):
                return False
            raise
        return any(Cid.parse(k) == c.to_v1() for k in reply["Keys"])

    def import_car(self, car_file: BinaryIO) -> list[Cid]:
        """``ipfs dag import``: load a CARv1 file into the node (its roots get pinned)."""
        reply = self._call("dag/import", None, self._client.dag.imprt, car_file)
        return [Cid.parse(r["Root"]["Cid"]["/"]) for r in _as_list(reply) if "Root" in r]

    def export_car(self, cid: CidLike, out: BinaryIO) -> None:
        """``ipfs dag export``: write the document's DAG as a CARv1 file."""
        c = as_cid(cid)
        if not self.has(c):
            raise ContentNotFound(f"IPFS node {self.url} does not hold {c}: nothing to export")
        for piece in self._call("dag/export", c, self._client.dag.export, str(c), stream=True):
            out.write(piece)

    def close(self) -> None:
        self._client.close()


def _as_list(reply: Any) -> list[dict[str, Any]]:
    return reply if isinstance(reply, list) else [reply]


def open_store(settings: Settings) -> BlockStore | NodeStore:
    """The configured content store: embedded unless ``ipfs_rpc_url`` is set."""
    if settings.ipfs_rpc_url:
        return NodeStore(
            settings.ipfs_rpc_url,
            timeout=settings.ipfs_timeout,
            lookup_timeout=settings.lookup_timeout,
        )
    return BlockStore(settings.blocks_dir)


def _both_are_content_stores(a: BlockStore, b: NodeStore) -> list[ContentStore]:
    return [a, b]  # mypy checks here that both implement the protocol
