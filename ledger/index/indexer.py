"""The event indexer: follows the ledger contract's events into the index tables.

``Indexer.sync`` reads logs with ``eth_getLogs`` in block ranges up to the head minus the
confirmations, decodes them itself (``ledger.index.events``) and writes each range in one
database transaction together with the progress in ``sync_state``. Every event lands in
``events``; the derived tables (organisations, keys, documents, batches, batch_members,
attestations) follow from them. A batch's members are indexed from its manifest when the
content store holds it.

Before syncing it checks the chain: a different chain id, contract or deployment block
hash (a reset chain) means ``rebuild``; a stored block hash the chain no longer has means
a reorganisation: rows above the common ancestor are deleted, the columns that later
events had changed on older rows (status, revocations, key retirement) are reset and
replayed from the stored events, and indexing resumes from the ancestor.

Rules where the chain allows overlaps: the first record of a fingerprint wins (a member of
an unrecorded batch may later be registered on its own; the index keeps the earlier batch
record and applies the later revocations or supersessions to it), and a document in two
batches gets one ``batch_members`` row per batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from ledger.chain import Registry
from ledger.content import ContentStore
from ledger.db import (
    events,
    sync_state,
)
from ledger.errors import DeploymentError, LedgerError
from ledger.index.events import Event, EventDecoder, RecordedMember, decode_record_call
from ledger.index.rollback import INDEX_TABLES, rollback
from ledger.index.writer import RangeWriter

log = logging.getLogger(__name__)

DEFAULT_RANGE = 2000
Progress = Callable[[int, int], None]  # (last indexed block, target block)


@dataclass(frozen=True)
class IndexStatus:
    """How far the index is: its last block, the chain head (None if unreachable), the lag."""

    indexed_block: int
    head: int | None
    lag: int | None


class RpcError(LedgerError):
    """The node answered a JSON-RPC call with an error."""


class Indexer:
    """Indexes one deployed contract into one database."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        deployment_block: int,
        confirmations: int = 0,
        store: ContentStore | None = None,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.address = registry.address
        self.deployment_block = deployment_block
        self.confirmations = confirmations
        self.store = store
        self.decoder = EventDecoder(registry.contract.abi)
        self._provider: Any = registry.w3.provider
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ JSON-RPC

    def _rpc(self, method: str, params: list[Any]) -> Any:
        reply = self._provider.make_request(method, params)
        if "error" in reply:
            raise RpcError(f"{method} failed: {reply['error']}")
        return reply["result"]

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        if not hasattr(self._provider, "make_batch_request"):
            return [self._rpc(m, p) for m, p in calls]
        replies = self._provider.make_batch_request(calls)
        if not isinstance(replies, list):
            raise RpcError(f"batch of {calls[0][0]} failed: {replies.get('error')}")
        out = []
        for (method, _), reply in zip(calls, replies, strict=True):
            if "error" in reply:
                raise RpcError(f"{method} failed: {reply['error']}")
            out.append(reply["result"])
        return out

    def _headers(self, numbers: Iterable[int]) -> dict[int, dict[str, Any] | None]:
        nums = sorted(set(numbers))
        found: dict[int, dict[str, Any] | None] = {}
        for i in range(0, len(nums), 500):
            chunk = nums[i : i + 500]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]
            found.update(zip(chunk, self._batch(calls), strict=True))
        return found

    def _block_hash(self, number: int) -> str | None:
        header = self._headers([number])[number]
        return None if header is None else str(header["hash"]).lower()

    def head(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    # ------------------------------------------------------------------ status

    def _state(self, conn: Connection, lock: bool = False) -> Any:
        query = select(sync_state).where(sync_state.c.id == 1)
        if lock:  # PostgreSQL: one writer per range even with several indexers (SQLite: no-op)
            query = query.with_for_update()
        return conn.execute(query).first()

    def indexed_block(self) -> int:
        with self.engine.connect() as conn:
            state = self._state(conn)
        return self.deployment_block - 1 if state is None else int(state.block_number)

    def status(self) -> IndexStatus:
        indexed = self.indexed_block()
        try:
            head = self.head()
        except Exception as exc:
            log.warning("index status: chain unreachable: %s", exc)
            return IndexStatus(indexed, None, None)
        return IndexStatus(indexed, head, max(0, head - indexed))

    # ------------------------------------------------------------------ sync

    def sync(self, max_blocks: int = DEFAULT_RANGE, progress: Progress | None = None) -> int:
        """Index up to head - confirmations; returns the number of events indexed."""
        with self._lock:
            self._check_chain()
            target = self.head() - self.confirmations
            count = 0
            start = self.indexed_block() + 1
            span = max(1, max_blocks)
            while start <= target:
                end = min(start + span - 1, target)
                before = self._range_tip(start, end)
                if before is None:  # the chain moved under us: check it again next time
                    break
                try:
                    logs = self._rpc(
                        "eth_getLogs",
                        [{"address": self.address, "fromBlock": hex(start), "toBlock": hex(end)}],
                    )
                except RpcError:
                    if end == start:
                        raise
                    span = max(1, (end - start + 1) // 2)  # too many results: smaller ranges
                    continue
                written = self._write_range(start, end, logs, before)
                if written is None:  # the chain moved under us: check it again next time
                    break
                count += written
                if progress is not None:
                    progress(end, target)
                start = end + 1
            return count

    def _range_tip(self, start: int, end: int) -> str | None:
        """The hash of ``end`` if ``start`` follows the last indexed block on the chain."""
        headers = self._headers([start, end])
        first, last = headers[start], headers[end]
        if first is None or last is None:
            return None
        if start > self.deployment_block:
            with self.engine.connect() as conn:
                state = self._state(conn)
            if state is not None and str(first["parentHash"]).lower() != state.block_hash:
                log.info("block %d no longer follows the index: a reorganisation", start)
                return None
        return str(last["hash"]).lower()

    def _write_range(
        self, start: int, end: int, logs: list[dict[str, Any]], tip: str
    ) -> int | None:
        """Write one range's events; None if the chain changed while it was read."""
        blocks = {int(entry["blockNumber"], 16) for entry in logs if not entry.get("removed")}
        wanted = (
            blocks | {end} | ({self.deployment_block} if start == self.deployment_block else set())
        )
        headers = self._headers(wanted)
        if any(h is None for h in headers.values()):
            return None
        canonical = {n: str(h["hash"]).lower() for n, h in headers.items() if h is not None}
        if canonical[end] != tip:
            return None  # a reorganisation while the logs were read
        times = {n: int(h["timestamp"], 16) for n, h in headers.items() if h is not None}
        decoded: list[Event] = []
        for entry in logs:
            if entry.get("removed"):
                continue
            number = int(entry["blockNumber"], 16)
            if str(entry["blockHash"]).lower() != canonical[number]:
                log.info("block %d changed while indexing: a reorganisation, retrying", number)
                return None
            ev = self.decoder.decode(entry, times[number])
            if ev is not None:
                decoded.append(ev)
        decoded.sort(key=lambda e: (e.block_number, e.log_index))
        with self.engine.begin() as conn:
            state = self._state(conn, lock=True)
            if (state.block_number if state else self.deployment_block - 1) != start - 1:
                return None  # another indexer wrote meanwhile
            writer = RangeWriter(conn, self.store)
            writer.recorded = self._recorded_members(decoded)
            writer.prepare(decoded)
            for ev in decoded:
                writer.apply(ev)
            writer.flush()
            self._save_state(conn, state, end, canonical[end])
        return len(decoded)

    def _recorded_members(self, evs: list[Event]) -> dict[tuple[str, str], RecordedMember]:
        """The members that ``recordBatchMember`` calls in these events carried."""
        hashes = sorted({e.tx_hash for e in evs if e.name == "BatchMemberRecorded"})
        txs = self._batch([("eth_getTransactionByHash", [h]) for h in hashes])
        found = {}
        for tx_hash, tx in zip(hashes, txs, strict=True):
            if tx is None or str(tx.get("to") or "").lower() != self.address.lower():
                continue
            member = decode_record_call(str(tx.get("input") or tx.get("data") or ""))
            if member is not None:
                found[(tx_hash, member.fingerprint)] = member
        return found

    def _save_state(self, conn: Connection, state: Any, number: int, block_hash: str) -> None:
        values = {"block_number": number, "block_hash": block_hash}
        if state is None:
            start_hash = self._block_hash(self.deployment_block)
            assert start_hash is not None
            conn.execute(
                sync_state.insert().values(
                    id=1,
                    chain_id=self.registry.chain_id,
                    contract=self.address,
                    start_block=self.deployment_block,
                    start_hash=start_hash,
                    **values,
                )
            )
        else:
            conn.execute(update(sync_state).where(sync_state.c.id == 1).values(**values))

    # ------------------------------------------------------------------ chain checks

    def _check_chain(self) -> None:
        """Rebuild after a reset chain; roll back after a reorganisation."""
        (chain_hex,) = self._batch([("eth_chainId", [])])
        chain_id = int(chain_hex, 16)
        if chain_id != self.registry.chain_id:
            raise DeploymentError(
                f"the chain's id is {chain_id}, the deployment's {self.registry.chain_id}: "
                "point TRADELEDGER_RPC_URL at the deployment's chain"
            )
        with self.engine.connect() as conn:
            state = self._state(conn)
        if state is None:
            self._require_code()
            return
        if (
            state.chain_id != chain_id
            or state.contract != self.address
            or state.start_block != self.deployment_block
            or self._block_hash(state.start_block) != state.start_hash
        ):
            self._require_code()
            log.warning("the chain was reset or the contract changed: rebuilding the index")
            self._clear()
            return
        if self._block_hash(state.block_number) == state.block_hash:
            return
        ancestor = self._common_ancestor(state.block_number, state.block_hash)
        if ancestor is None:
            log.warning("no common ancestor with the chain: rebuilding the index")
            self._clear()
            return
        log.warning("reorganisation: rolling the index back to block %d", ancestor)
        block_hash = self._block_hash(ancestor)
        assert block_hash is not None
        with self.engine.begin() as conn:
            rollback(conn, ancestor, block_hash)

    def _require_code(self) -> None:
        """Clear the index and raise unless the contract's code is on chain (asked only on
        the first sync and when the chain looks reset: the code is ~24 KB)."""
        (code,) = self._batch([("eth_getCode", [self.address, "latest"])])
        if code in ("0x", "0x0", None):
            self._clear()
            raise DeploymentError(
                f"no contract at {self.address} on this chain (was it reset?): redeploy with "
                "scripts/deploy; the index was cleared"
            )

    def _common_ancestor(self, last: int, last_hash: str) -> int | None:
        """The highest block whose stored hash the chain still has (None: not even the start)."""
        offset = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(events.c.block_number, events.c.block_hash)
                    .where(events.c.block_number < last)
                    .distinct()
                    .order_by(events.c.block_number.desc())
                    .limit(64)
                    .offset(offset)
                ).all()
                state = self._state(conn)
            if not rows:
                start_ok = self._block_hash(state.start_block) == state.start_hash
                return int(state.start_block) if start_ok else None
            chain = self._headers(r.block_number for r in rows)
            for r in rows:
                header = chain[r.block_number]
                if header is not None and str(header["hash"]).lower() == r.block_hash:
                    return int(r.block_number)
            offset += len(rows)

    # ------------------------------------------------------------------ rebuild and loop

    def _clear(self) -> None:
        with self.engine.begin() as conn:
            for table in (*INDEX_TABLES, sync_state):
                conn.execute(delete(table))

    def rebuild(self, max_blocks: int = DEFAULT_RANGE, progress: Progress | None = None) -> int:
        """Drop every index row and index again from the deployment block."""
        with self._lock:
            self._clear()
        return self.sync(max_blocks, progress)

    def run(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Sync until ``stop`` is set; chain or store outages are logged and retried."""
        failing = False
        while not stop.is_set():
            try:
                self.sync()
                if failing:
                    log.info("indexer: the chain answers again")
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning(
                        "indexer: sync failed, retrying every %.1f s: %s", poll_interval, exc
                    )
                failing = True
            stop.wait(poll_interval)
