"""Snapshots of the local anvil chain on disk: written atomically, read back checked, and the
choice of which one a restart loads.

anvil rewrites its own ``--state`` file in place, so a kill during that write leaves half a
file. Instead, the chain's supervisor (``ledger.chain.supervisor``) asks anvil for its state
(``anvil_dumpState``: gzip-compressed JSON of every account, block and transaction) and
writes it here as ``snapshots/<sequence>.snap``: one JSON header line (what chain, which
block, when, the payload's length and SHA-256) then anvil's gzip bytes, to a temporary
file, fsync, rename, fsync of the folder. The newest two are kept, so there is always a
previous good one.

At start, ``choose`` takes the newest snapshot that reads back whole (length, SHA-256,
gzip, JSON) and belongs to this folder's chain (``identity.json``: chain id and genesis
hash, written at the first start). An unreadable one is renamed ``*.unreadable`` (kept,
never deleted) and the previous one is used; one of another chain stops the start. Only
the standard library: the supervisor imports this module and must start fast.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT = "tradeledger-anvil-snapshot/1"
SUFFIX = ".snap"
KEEP = 2  # the newest and the previous good one
_PRIVATE_FILE = 0o600
_BEST = re.compile(rb'"best_block_number":\s*"?(0x[0-9a-fA-F]+|\d+)')


class SnapshotError(Exception):
    """A snapshot that cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class Identity:
    """Which chain a data folder's local chain is: its id and its genesis block's hash."""

    chain_id: int
    genesis_hash: str

    def describe(self) -> str:
        return f"chain id {self.chain_id}, genesis {self.genesis_hash}"


@dataclass(frozen=True)
class Header:
    """The first line of a snapshot file."""

    format: str
    sequence: int
    chain_id: int
    genesis_hash: str
    block_number: int
    taken_at: float  # Unix seconds
    length: int
    sha256: str

    @property
    def identity(self) -> Identity:
        return Identity(self.chain_id, self.genesis_hash)

    @property
    def taken_at_text(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.taken_at))


@dataclass(frozen=True)
class Chosen:
    """What a restart loads: the anvil state JSON and a sentence saying where it comes from."""

    state_json: bytes | None  # None: a new chain
    header: Header | None
    message: str


def snapshot_dir(folder: Path) -> Path:
    return folder / "snapshots"


def identity_file(folder: Path) -> Path:
    return folder / "identity.json"


def durable_block(folder: Path) -> int | None:
    """The newest block a written snapshot of the chain in ``folder`` holds, as its
    supervisor's ``snapshot.status`` says (-1 before the first one); None when no supervisor
    writes snapshots there (another kind of chain: durability is not ours to judge)."""
    status = folder / "snapshot.status"
    if not status.exists():
        return None
    try:
        return int(json.loads(status.read_text())["block_number"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


# ------------------------------------------------------------------------------ writing


def write_snapshot(
    folder: Path,
    payload: bytes,
    identity: Identity,
    chunk_pause: float = 0.0,
) -> Header:
    """Write anvil's gzip ``payload`` as the next snapshot, atomically; keep the newest two.

    ``chunk_pause`` (tests only) sleeps between 64 KiB chunks, so a test can kill the writer
    in the middle of a write."""
    directory = snapshot_dir(folder)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = _sequences(directory)
    used = existing + _sequences(directory, SUFFIX + ".unreadable")  # never reuse a number
    sequence = (max(used) + 1) if used else 1
    header = Header(
        format=FORMAT,
        sequence=sequence,
        chain_id=identity.chain_id,
        genesis_hash=identity.genesis_hash,
        block_number=best_block_number(payload),
        taken_at=time.time(),
        length=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    final = directory / f"{sequence:012d}{SUFFIX}"
    tmp = directory / f".{sequence:012d}{SUFFIX}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(json.dumps(asdict(header)).encode() + b"\n")
        step = 1 << 16
        for start in range(0, len(payload), step):
            f.write(payload[start : start + step])
            if chunk_pause:
                f.flush()
                time.sleep(chunk_pause)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, final)
    fsync_dir(directory)
    for old in sorted(existing)[: max(0, len(existing) + 1 - KEEP)]:
        (directory / f"{old:012d}{SUFFIX}").unlink(missing_ok=True)
    return header


def write_identity(folder: Path, identity: Identity) -> None:
    path = identity_file(folder)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write((json.dumps(asdict(identity)) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    fsync_dir(folder)


def read_identity(folder: Path) -> Identity | None:
    path = identity_file(folder)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        return Identity(int(raw["chain_id"]), str(raw["genesis_hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(
            f"{path} is unreadable ({exc}): it names this folder's chain; restore it from a "
            "backup, or remove it to accept whatever chain the snapshots hold"
        ) from exc


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def best_block_number(payload: bytes) -> int:
    """The head block in anvil's gzip state, found by decompressing only up to its field."""
    inflate = zlib.decompressobj(wbits=31)
    tail = b""
    for start in range(0, len(payload), 1 << 16):
        text = tail + inflate.decompress(payload[start : start + (1 << 16)])
        match = _BEST.search(text)
        if match:
            return int(match.group(1), 0)
        tail = text[-64:]
    raise SnapshotError("anvil's state has no best_block_number")


# ------------------------------------------------------------------------------ reading


def read_snapshot(path: Path) -> tuple[Header, bytes]:
    """The header and the anvil state JSON of ``path``, or SnapshotError saying what is wrong."""
    try:
        with path.open("rb") as f:
            first = f.readline()
            payload = f.read()
    except OSError as exc:
        raise SnapshotError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    try:
        raw = json.loads(first)
        header = Header(**raw)
    except (ValueError, TypeError) as exc:
        raise SnapshotError(f"{path.name} has no readable header (empty or cut short)") from exc
    if header.format != FORMAT:
        raise SnapshotError(f"{path.name} is in format {header.format!r}, not {FORMAT!r}")
    if len(payload) != header.length:
        raise SnapshotError(
            f"{path.name} is truncated: {len(payload)} of {header.length} bytes of state"
        )
    if hashlib.sha256(payload).hexdigest() != header.sha256:
        raise SnapshotError(f"{path.name} is corrupt: its state does not match its SHA-256")
    try:
        state = gzip.decompress(payload)
        parsed = json.loads(state)
    except (OSError, EOFError, ValueError) as exc:
        raise SnapshotError(f"{path.name} holds no anvil state: {exc}") from exc
    if not isinstance(parsed, dict) or "accounts" not in parsed:
        raise SnapshotError(f"{path.name} holds no anvil state (no accounts)")
    if not _one_genesis(parsed):
        return header, state
    return header, json.dumps(parsed).encode()


def _one_genesis(state: dict[str, object]) -> bool:
    """Drop the extra genesis blocks from anvil's state; True if there were any.

    An anvil started with ``--load-state`` makes its own genesis block first, and its next
    dump holds both that one and the restored chain's: on a second reload either may end up
    as block 0. The restored chain's genesis is the oldest (the chain's first start); the
    start then checks that block 0 is this folder's (``identity.json``)."""
    blocks = state.get("blocks")
    if not isinstance(blocks, list):
        return False
    genesis = [b for b in blocks if _number(b) == 0]
    if len(genesis) < 2:
        return False
    keep = min(genesis, key=lambda b: int(str(b["header"]["timestamp"]), 0))
    state["blocks"] = [b for b in blocks if _number(b) != 0 or b is keep]
    return True


def _number(block: object) -> int | None:
    try:
        return int(str(block["header"]["number"]), 0)  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def choose(folder: Path) -> Chosen:
    """The state a restart of the chain in ``folder`` loads, saying which and why.

    Newest readable snapshot first; each unreadable one on the way is renamed
    ``*.unreadable`` and named in the message. Raises SnapshotError, with nothing changed,
    when a snapshot belongs to another chain than ``identity.json`` names, or when snapshots
    exist and none is readable."""
    directory = snapshot_dir(folder)
    identity = read_identity(folder)
    sequences = sorted(_sequences(directory), reverse=True) if directory.exists() else []
    if not sequences:
        return Chosen(None, None, "no saved state: a new chain")
    problems: list[tuple[Path, str]] = []
    for sequence in sequences:
        path = directory / f"{sequence:012d}{SUFFIX}"
        try:
            header, state = read_snapshot(path)
        except SnapshotError as exc:
            problems.append((path, str(exc)))
            continue
        if identity is not None and header.identity != identity:
            raise SnapshotError(
                f"{path} is the state of another chain ({header.identity.describe()}) than this "
                f"data folder's ({identity.describe()}, in {identity_file(folder)}): move it "
                "out of the folder, or point TRADELEDGER_DATA_DIR at the folder it belongs to; "
                "nothing was changed"
            )
        restored = (
            f"restored block {header.block_number} from snapshot {path.name} "
            f"(taken {header.taken_at_text})"
        )
        if not problems:
            return Chosen(state, header, restored)
        kept = []
        for bad, _ in problems:
            aside = bad.with_name(bad.name + ".unreadable")
            os.rename(bad, aside)
            kept.append(aside.name)
        fsync_dir(directory)
        why = "; ".join(problem for _, problem in problems)
        return Chosen(
            state,
            header,
            f"the newest snapshot is unreadable ({why}; kept as {', '.join(kept)}): "
            f"{restored}, the previous good one",
        )
    listing = "; ".join(problem for _, problem in problems)
    raise SnapshotError(
        f"no readable chain state in {directory}: {listing}. Nothing was deleted: restore a "
        "snapshot from a backup, or move the folder away to start a new chain"
    )


def _sequences(directory: Path, suffix: str = SUFFIX) -> list[int]:
    found = []
    for entry in directory.iterdir() if directory.exists() else []:
        stem = entry.name.removesuffix(suffix)
        if entry.name.endswith(suffix) and stem.isdigit():
            found.append(int(stem))
    return found
