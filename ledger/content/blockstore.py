"""The embedded IPFS store: content-addressed blocks on disk under ``settings.blocks_dir``.

Layout: ``blocks/<2 chars>/<cid>`` (base32 CIDv1, sharded on the CID's last-but-one two
characters like Kubo's flatfs), ``pins/*.list`` (recursive pins, a CID per line: a
``put_many``'s in ``<uuid>.list``, the others appended to ``journal.list``; an empty file
``pins/<cid>``, which older versions wrote, pins too), ``tmp/`` (writes in flight) and
``.lock``. Only the owner may read any of it: folders 700, blocks 400, pin files 600.
CIDs are those of ``ipfs add --cid-version=1`` (see ``hashing``).

Integrity rules:
- a block is written to ``tmp/``, flushed to disk and only then renamed to its name, so a
  crash never leaves a torn or wrong block under a CID (one ``syncfs`` per batch of up to
  32 blocks instead of one fsync per block, on a background thread while hashing goes on);
  ``put`` syncs again before returning, so what it acknowledged survives a power cut;
- a file node is renamed into place only after its children's renames are on disk, so
  ``has(root)`` means the whole document is there;
- ``put(sync=False)`` defers all that to the caller's ``sync()``, which flushes once and
  then renames: its blocks wait in ``tmp/`` under names that start with their CID, and
  after a crash (or before ``gc``) every temporary file whose bytes match the CID in its
  name is adopted into place, so one flush makes them durable;
- every block read is checked against its CID;
- ``put`` and ``import_car`` hold a shared lock, ``gc`` an exclusive one (``flock``), so GC
  never removes the blocks of a write in flight.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ledger.cid import DAG_PB, RAW, Cid
from ledger.content import car
from ledger.content.hashing import CHUNK_SIZE, Fingerprint, hash_stream
from ledger.content.unixfs import decode_file_node
from ledger.datadir import PRIVATE_DIR, PRIVATE_FILE, private_dir
from ledger.errors import ContentNotFound, IntegrityError, InvalidInput
from ledger.groupsync import GroupSync

CidLike = Cid | str | bytes
STALE_TMP_SECONDS = 3600.0
B32_CHARS = "abcdefghijklmnopqrstuvwxyz234567"
LIST = ".list"  # a pins/ file naming many pinned CIDs, one per line
JOURNAL = "journal" + LIST  # the list single pins are appended to
BATCH = 32  # blocks (8 MiB of leaves) per sync
_FLUSHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blockstore-sync")
_WRITERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blockstore-write")
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if os.name == "posix" else None


def as_cid(cid: CidLike) -> Cid:
    return cid if isinstance(cid, Cid) else Cid.parse(cid)


class BlockStore:
    """Embedded content store: ``put``/``get``/``has``/``pin``/``unpin``/``gc`` + CAR I/O."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blocks = self.root / "blocks"
        self.pins = self.root / "pins"
        self.tmp = self.root / "tmp"
        self._group_sync = GroupSync(self._syncfs_now)
        self._unnamed: list[tuple[Path, Path]] = []  # deferred blocks: (tmp, final)
        self._unnamed_lock = threading.Lock()
        for d in (self.blocks, self.pins, self.tmp):
            private_dir(d)
        if not (self.blocks / "77").exists():  # all 1024 shards at once (77 is the last)
            for a in B32_CHARS:
                for b in B32_CHARS:
                    (self.blocks / (a + b)).mkdir(mode=PRIVATE_DIR, exist_ok=True)
        self._sweep_tmp(STALE_TMP_SECONDS)

    # --- paths and locking ---------------------------------------------------------------
    def _path(self, cid: Cid) -> Path:
        name = str(cid.to_v1())
        return self.blocks / name[-3:-1] / name

    @contextmanager
    def _lock(self, exclusive: bool) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        with os.fdopen(fd, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _sweep_tmp(self, older_than: float) -> None:
        """Adopt every temporary block whose bytes match the CID its name starts with (a
        deferred ``put`` whose rename a crash lost); drop other files older than ``older_than``."""
        limit = time.time() - older_than
        for p in self.tmp.iterdir():
            try:
                if "." in p.name and self._adopt(p):
                    continue
                if p.stat().st_mtime <= limit:
                    p.unlink()
            except FileNotFoundError:
                pass

    def _adopt(self, tmp: Path) -> bool:
        try:
            cid = Cid.parse(tmp.name.split(".", 1)[0])
        except Exception:  # not a name this store gives a deferred block
            return False
        try:
            cid.verify(tmp.read_bytes())
        except IntegrityError:  # torn by a crash mid-write
            return False
        os.replace(tmp, self._path(cid))
        return True

    # --- writing -------------------------------------------------------------------------
    def _write_tmp(self, data: memoryview | bytes, cid: Cid | None = None) -> Path:
        name = uuid.uuid4().hex
        tmp = self.tmp / (name if cid is None else f"{cid.to_v1()}.{name}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return tmp

    def _syncfs(self) -> None:
        """Flush this file system (data and metadata) to disk: one call for many blocks,
        shared by concurrent writers (a caller returns after a flush that began after it
        called, see ``GroupSync``)."""
        self._group_sync()

    def _syncfs_now(self) -> None:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _LIBC is None or _LIBC.syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)

    class _Writer:
        """Block sink of one write: full chunks go to tmp/ on I/O threads, smaller blocks (and
        every block of a deferred write) in the caller's thread; a batch is synced once.

        Batches (at most ``BATCH`` blocks) are flushed in order by one background thread
        (sync, then rename), so hashing goes on while the disk works. A file node always
        starts a new batch: it is renamed only after the sync that follows its children's
        renames. The source's buffers must not be reused (``hash_stream(reuse=False)``).
        """

        def __init__(self, store: BlockStore, deferred: bool = False) -> None:
            self.store = store
            self.deferred = deferred  # no syncs, renames or threads: see BlockStore.sync
            self.staged: list[tuple[Future[Path], Path]] = []
            self.written: list[tuple[Path, Path]] = []  # deferred: (tmp, final)
            self.batch: set[Path] = set()
            self.flushes: deque[Future[None]] = deque()

        def __call__(self, cid: Cid, data: memoryview | bytes) -> None:
            final = self.store._path(cid)
            if final in self.batch or final.exists():  # repeated chunks are written once
                return
            if not self.deferred and (cid.codec == DAG_PB or len(self.staged) >= BATCH):
                self.cut()
            self.batch.add(final)
            if self.deferred:  # nothing to overlap with a sync: no hand-off to a thread
                self.written.append((self.store._write_tmp(data, cid), final))
                return
            written: Future[Path] = Future()
            if len(data) < CHUNK_SIZE:  # a small document's only block: no hand-off
                written.set_result(self.store._write_tmp(data, cid))
            else:
                view = memoryview(data)
                if not isinstance(view.obj, bytes):  # a buffer its owner may change: copy it
                    data = bytes(view)
                written = _WRITERS.submit(self.store._write_tmp, data, cid)
            self.staged.append((written, final))

        def cut(self) -> None:
            if self.staged:
                self.flushes.append(_FLUSHER.submit(self.store._flush, self.staged))
                self.staged = []
                self.batch = set()
            while len(self.flushes) > 1:
                self.flushes.popleft().result()

        def wait(self) -> None:
            """Return once every block handed over so far is renamed into place (deferred:
            written to tmp/ and queued for the store's next ``sync``)."""
            if self.deferred:
                written, self.written, self.batch = self.written, [], set()
                with self.store._unnamed_lock:
                    self.store._unnamed.extend(written)
                return
            if self.staged and not self.flushes:
                # A small document (one batch): flushed in this thread, so its sync is
                # shared with the concurrent writers' instead of queueing behind theirs on
                # the single flusher thread.
                staged, self.staged, self.batch = self.staged, [], set()
                self.store._flush(staged)
                return
            self.cut()
            while self.flushes:
                self.flushes.popleft().result()

        def close(self) -> None:
            self.wait()
            self.store._syncfs()  # the last renames

        def abort(self) -> None:
            for f in self.flushes:
                f.exception()
            for fut, _ in self.staged:
                if fut.exception() is None:
                    fut.result().unlink(missing_ok=True)
            for tmp, _ in self.written:
                tmp.unlink(missing_ok=True)

    def _flush(self, staged: list[tuple[Future[Path], Path]]) -> None:
        tmps = [(fut.result(), final) for fut, final in staged]
        self._syncfs()  # the staged data, and every rename done before this call
        for tmp, final in tmps:
            try:
                os.replace(tmp, final)
            except FileNotFoundError:
                final.parent.mkdir(mode=PRIVATE_DIR, exist_ok=True)
                os.replace(tmp, final)

    def put(
        self, source: BinaryIO | Iterable[bytes], *, pin: bool = True, sync: bool = True
    ) -> Fingerprint:
        """Store a document from a file-like object or an iterable of bytes, in one pass.

        Every block is durable before it gets its name; with ``sync=False`` the last names
        and the pin marker are durable only after the caller's next ``sync()`` (so one
        flush can cover them and the caller's other writes on this file system)."""
        with self._lock(exclusive=False):
            writer = self._Writer(self, deferred=not sync)
            try:
                fp = hash_stream(source, sink=writer, reuse=False)
            except BaseException:
                writer.abort()
                raise
            writer.wait()
            if pin:
                self._append_pin(Cid.parse(fp.cid), sync=False)
            if sync:
                self._syncfs()  # the last renames and the pin marker
        return fp

    def sync(self) -> None:
        """Make every earlier write durable: flush this file system now, then give the
        deferred blocks their names (durable with the next flush; adopted after a crash)."""
        with self._unnamed_lock:
            unnamed, self._unnamed = self._unnamed, []
        self._syncfs_now()
        for tmp, final in unnamed:
            try:
                os.replace(tmp, final)
            except FileNotFoundError:
                if not final.exists():  # gc adopts deferred blocks, it never drops them
                    raise IntegrityError(
                        f"block {final.name} vanished before it was named"
                    ) from None

    def put_many(
        self, sources: Iterable[BinaryIO | Iterable[bytes]], *, pin: bool = True
    ) -> list[Fingerprint]:
        """Store many documents with the syncs of one: one writer (a sync per ``BATCH``
        blocks, not per document), then one pin list, then one last sync."""
        with self._lock(exclusive=False):
            writer = self._Writer(self)
            fps: list[Fingerprint] = []
            try:
                for source in sources:
                    fps.append(hash_stream(source, sink=writer, reuse=False))
            except BaseException:
                writer.abort()
                raise
            writer.wait()
            if pin:
                self._pin_list([fp.cid for fp in fps])
            self._syncfs()
        return fps

    def put_file(self, path: str | os.PathLike[str], *, pin: bool = True) -> Fingerprint:
        p = Path(path)
        if not p.is_file():
            raise InvalidInput(f"{p} is not a readable file")
        with p.open("rb", buffering=0) as f:
            return self.put(f, pin=pin)

    # --- reading -------------------------------------------------------------------------
    def has(self, cid: CidLike) -> bool:
        """True if the document's root block is here (and so, by construction, all of it)."""
        return self._path(as_cid(cid)).exists()

    def read_block(self, cid: Cid) -> bytes:
        try:
            data = self._path(cid).read_bytes()
        except FileNotFoundError:
            raise ContentNotFound(
                f"{cid} is not in the embedded store at {self.root}: add the document "
                "(or import its CAR file) first"
            ) from None
        cid.verify(data)
        return data

    def get(self, cid: CidLike) -> Iterator[bytes]:
        """Stream a document's bytes, checking every block; raises before yielding if absent."""
        root = as_cid(cid)
        first = self.read_block(root)
        return self._walk(root, first)

    def _walk(self, cid: Cid, block: bytes) -> Iterator[bytes]:
        stack: list[tuple[Cid, bytes | None]] = [(cid, block)]
        while stack:
            cur, data = stack.pop()
            if data is None:
                try:
                    data = self.read_block(cur)
                except ContentNotFound:
                    raise IntegrityError(
                        f"block {cur} is missing below a stored root: the store is damaged; "
                        "re-add the document or import its CAR file"
                    ) from None
            if cur.codec == RAW:
                yield data
                continue
            inline, children = decode_file_node(data)
            if inline:
                yield inline
            stack.extend((c, None) for c in reversed(children))

    def dag(self, cid: CidLike) -> Iterator[tuple[Cid, bytes]]:
        """Every (cid, block) of a document in depth-first order (as ``ipfs dag export``)."""
        stack = [as_cid(cid)]
        while stack:
            cur = stack.pop()
            data = self.read_block(cur)
            yield cur, data
            if cur.codec == DAG_PB:
                stack.extend(reversed(decode_file_node(data)[1]))

    # --- pins and garbage collection -----------------------------------------------------
    def _append_pin(self, cid: Cid, sync: bool = True) -> None:
        """Pin ``cid`` by a line appended to ``pins/journal.list``: appending costs a hundredth
        of creating a marker file while the disk flushes (see ``_pin_list``). Each line starts
        with a newline, so a line a crash tore never swallows the next one."""
        fd = os.open(self.pins / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        try:
            os.write(fd, f"\n{cid.to_v1()}\n".encode())
        finally:
            os.close(fd)
        if sync:
            self._syncfs()

    def _pin_list(self, cids: list[str]) -> None:
        """Pin many CIDs with one file (``pins/<uuid>.list``, a CID per line): while the disk
        flushes, creating a file waits for the journal (0.5 to 0.8 ms here, measured). Durable
        after the next sync; a list a crash tore before it only loses pins nobody was told of."""
        if cids:
            self._write_tmp("".join(c + "\n" for c in cids).encode()).rename(
                self.pins / f"{uuid.uuid4().hex}{LIST}"
            )

    def pin(self, cid: CidLike) -> None:
        c = as_cid(cid)
        if not self.has(c):
            raise ContentNotFound(f"cannot pin {c}: it is not in the embedded store; add it first")
        self._append_pin(c)

    def pin_many(self, cids: list[str]) -> None:
        """Pin documents stored earlier with ``put_many(pin=False)``, with one list file, on
        disk when this returns. Under the shared lock, so no ``gc`` runs meanwhile: a root
        still here means its whole document is (a ``gc`` in between removes the root too)."""
        with self._lock(exclusive=False):
            missing = [c for c in cids if not self.has(c)]
            if missing:
                raise ContentNotFound(
                    f"{len(missing)} documents (first {missing[0]}) left the embedded store "
                    "(a gc ran) before they were pinned: upload them again"
                )
            self._pin_list(cids)
            self._syncfs()

    def unpin(self, cid: CidLike) -> None:
        """Drop the pin (blocks stay until ``gc``); unpinning an unpinned CID is a no-op.
        Holds the exclusive lock: no write appends to a list while it is rewritten."""
        name = str(as_cid(cid).to_v1())
        with self._lock(exclusive=True):
            (self.pins / name).unlink(missing_ok=True)
            for path, listed in self._pin_lists():
                if name in listed:
                    rest = [c for c in listed if c != name]
                    self._pin_list(rest)  # the list without it replaces the old one
                    self._syncfs()
                    path.unlink()

    def pinned(self) -> list[Cid]:
        names = {p.name for p in self.pins.iterdir() if not p.name.endswith(LIST)}
        for _, listed in self._pin_lists():
            names.update(listed)
        pinned = []
        for name in sorted(names):
            try:
                pinned.append(Cid.parse(name))
            except InvalidInput:  # the torn tail of a list a crash cut short
                continue
        return pinned

    def _pin_lists(self) -> list[tuple[Path, list[str]]]:
        return [
            (p, [line for line in p.read_text().splitlines() if line])
            for p in self.pins.glob(f"*{LIST}")
        ]

    def _compact_pins(self, roots: list[Cid]) -> None:
        """Fold every pin list and marker into one list (under ``gc``'s exclusive lock)."""
        old = list(self.pins.iterdir())
        if len(old) < 2:
            return
        self._pin_list([str(c.to_v1()) for c in roots])
        self._syncfs()
        for p in old:
            p.unlink()

    def gc(self) -> tuple[int, int]:
        """Delete every block not reachable from a pin; return (blocks, bytes) removed."""
        with self._lock(exclusive=True):
            self._sweep_tmp(0)
            roots = self.pinned()
            self._compact_pins(roots)
            keep: set[str] = set()
            for root in roots:
                stack = [root]
                while stack:
                    cur = stack.pop()
                    name = str(cur.to_v1())
                    if name in keep:
                        continue
                    keep.add(name)
                    if cur.codec == DAG_PB and self._path(cur).exists():
                        stack.extend(decode_file_node(self.read_block(cur))[1])
            count = size = 0
            for shard in self.blocks.iterdir():
                for p in shard.iterdir():
                    if p.name not in keep:
                        size += p.stat().st_size
                        p.unlink()
                        count += 1
            return count, size

    def check(self) -> list[str]:
        """Full scan (fsck): every block matches its CID and every node's children exist."""
        problems: list[str] = []
        for shard in sorted(self.blocks.iterdir()):
            for p in sorted(shard.iterdir()):
                try:
                    cid = Cid.parse(p.name)
                    data = p.read_bytes()
                    cid.verify(data)
                    if cid.codec == DAG_PB:
                        problems += [
                            f"{cid}: child {c} missing"
                            for c in decode_file_node(data)[1]
                            if not self._path(c).exists()
                        ]
                except (IntegrityError, InvalidInput) as exc:
                    problems.append(f"{p.name}: {exc}")
        return problems

    # --- CAR files -----------------------------------------------------------------------
    def export_car(self, cid: CidLike, out: BinaryIO) -> None:
        """Write the document as a CARv1 file (``ipfs dag import`` reads it)."""
        root = as_cid(cid)
        car.write_car(out, [root], self.dag(root))

    def import_car(self, inp: BinaryIO, *, pin: bool = True) -> list[Cid]:
        """Read a CARv1 file (``ipfs dag export``), checking every block; return its roots."""
        with self._lock(exclusive=False):
            writer = self._Writer(self)
            nodes: dict[Cid, bytes] = {}
            try:
                roots, blocks = car.read_car(inp)
                for cid, data in blocks:  # read_car checked each block against its CID
                    if cid.codec == RAW:
                        writer(cid.to_v1(), data)
                    else:
                        nodes[cid.to_v1()] = data
                for root in roots:  # nodes bottom-up, so a parent never precedes a child
                    self._write_nodes(root.to_v1(), nodes, writer)
            except BaseException:
                writer.abort()
                raise
            writer.close()
            if pin:
                for root in roots:
                    self._append_pin(root)
        return roots

    def _write_nodes(self, root: Cid, nodes: dict[Cid, bytes], writer: _Writer) -> None:
        writer.wait()  # leaves are in place; the nodes go in later batches
        order: list[Cid] = []
        stack: list[tuple[Cid, bool]] = [(root, False)]
        while stack:
            cur, expanded = stack.pop()
            if expanded:
                order.append(cur)
            elif cur in nodes:
                stack.append((cur, True))
                stack.extend((c.to_v1(), False) for c in decode_file_node(nodes[cur])[1])
            elif not self._path(cur).exists():
                raise InvalidInput(f"the CAR file lacks block {cur}: export the document again")
        for cid in order:
            writer(cid, nodes[cid])
