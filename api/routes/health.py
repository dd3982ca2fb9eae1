"""/health: is the chain answering, how far is the index, is the store there, what is pending."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from ledger import times
from ledger.content import NodeStore

router = APIRouter(tags=["health"])


@router.get("/health")
def health(rt: RuntimeDep) -> JSONResponse:
    """200 when the chain answers and the index keeps up; 503 (with the same body) otherwise."""
    indexed = rt.health.indexed
    chain_ok = rt.chain_ok()
    head = rt.chain_head()
    lag = max(0, head - indexed) if rt.health.head >= 0 else None
    store_ok = True
    try:
        if isinstance(rt.store, NodeStore):
            # a lookup of absent content waits out the whole RPC timeout on js-ipfs: ask the
            # node its version instead, which answers at once when it is up
            rt.store.version()
        else:
            rt.store.has("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")  # type: ignore[attr-defined]
    except Exception:
        store_ok = False
    body: dict[str, Any] = {
        "status": "ok"
        if chain_ok and store_ok and lag is not None and lag <= rt.settings.index_max_lag
        else "degraded",
        "chain": {
            "ok": chain_ok,
            "rpc_url": rt.settings.rpc_url,
            "head": head,
            "error": rt.health.error,
            "chain_id": rt.registry.chain_id,
            "contract": rt.registry.address,
        },
        "index": {"indexed_block": indexed, "lag": lag},
        "store": {"ok": store_ok, "kind": "ipfs-node" if rt.settings.ipfs_rpc_url else "embedded"},
        "pending": rt.outbox.count_pending(),
        "needs_signature": rt.outbox.count_expired(),
        "time": times.iso(int(time.time())),
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
