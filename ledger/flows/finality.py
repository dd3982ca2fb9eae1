"""Which blocks are final: the one decision that the reconciler and every piece of evidence
rely on.

A block is final once neither a crash nor a reorganisation can take it away. On the local
anvil run by the supervisor that means inside the newest written snapshot (a kill -9 loses
what came after it) and buried under ``index_confirmations`` blocks; on any other chain,
buried under ``index_confirmations`` blocks and, where the node has the ``finalized`` tag
(``TRADELEDGER_CHAIN=rpc``), at or below its finalized block. Evidence names only final
blocks: ``require_final`` says, before that, when to ask again.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ledger.chain import durable_block
from ledger.errors import NotFinal
from ledger.flows.runtime import Runtime

RETRY_AFTER = 5  # seconds to ask again when a chain gives no better estimate


def local_durable(rt: Runtime) -> int | None:
    """The newest block a snapshot of the local anvil holds (None: not a supervised local
    chain, whose durability is not the snapshots' to judge)."""
    if rt.settings.chain != "anvil":
        return None
    return durable_block(rt.settings.chain_dir)


def final_block(rt: Runtime, head: int | None = None) -> int:
    """The newest final block (-1: none yet); ``head`` is the chain's head if known."""
    if head is None:
        head = int(rt.w3.eth.block_number)
    final = head - rt.settings.index_confirmations
    durable = local_durable(rt)
    if durable is not None:
        return min(final, durable)
    if rt.settings.chain == "rpc":
        finalized = _finalized(rt)
        if finalized is not None:
            return min(final, finalized)
    return final


def require_final(rt: Runtime, block_number: int, what: str) -> None:
    """``NotFinal`` (saying when to ask again) unless block ``block_number`` is final."""
    final = final_block(rt)
    if block_number <= final:
        return
    wait = _retry_after(rt)
    raise NotFinal(
        f"{what} is in block {block_number}, which is not final yet (final up to block "
        f"{final}): its evidence will be ready in about {wait} s; ask again then",
        wait,
    )


def _finalized(rt: Runtime) -> int | None:
    provider: Any = rt.w3.provider
    try:
        block = provider.make_request("eth_getBlockByNumber", ["finalized", False]).get("result")
    except Exception:  # a node without the tag (or a failing one): confirmations alone
        return None
    return int(block["number"], 16) if isinstance(block, dict) else None


def _retry_after(rt: Runtime) -> int:
    """Seconds until a block mined now is likely final: on the local chain, the snapshots'
    loss window (``snapshot.status``), else ``RETRY_AFTER``."""
    if local_durable(rt) is None:
        return RETRY_AFTER
    try:
        status = json.loads((rt.settings.chain_dir / "snapshot.status").read_text())
        return max(1, math.ceil(float(status["loss_window_seconds"])) + 1)
    except (OSError, ValueError, KeyError, TypeError):
        return RETRY_AFTER
