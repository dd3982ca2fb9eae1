"""A lean JSON-RPC client for the transaction hot path: one keep-alive connection per thread.

web3's HTTP provider spends about 1 ms of CPU per call (requests, proxy look-ups in the
environment, middlewares, result formatters); sending a signed registration and reading
its receipt need none of that. ``Rpc.call`` posts one request on an idle ``http.client``
connection of its pool (or a new one) and returns the ``result`` exactly as the node sent it (hex
strings). A node's error answer becomes ``RpcError`` (with the revert data, if any); a
dead or unreachable node becomes ``OSError``, which ``ledger.chain.sender`` reports as
``ChainUnavailable``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit


class RpcError(Exception):
    """The node answered with a JSON-RPC error (for a call: its revert data is in ``data``)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('message', 'JSON-RPC error')} (code {error.get('code')})")
        self.rpc_response = {"error": error}  # the shape web3's exceptions carry
        self.code = error.get("code")
        self.data = error.get("data")


class Rpc:
    """Calls to one JSON-RPC endpoint over HTTP; safe to share between threads."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) JSON-RPC URL")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path or "/"
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []  # at most one per concurrent caller
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        """The node's ``result`` for ``method(params)``; ``RpcError`` if it answers an error."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        answer = json.loads(self._exchange(json.dumps(body)))
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """The results of several calls sent in one request, in order; a call the node
        refused has its ``RpcError`` in its place (raised if the whole batch is refused)."""
        body = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        answer = json.loads(self._exchange(json.dumps(body)))
        if not isinstance(answer, list):
            raise RpcError(answer.get("error") or {"message": f"not a batch answer: {answer!r}"})
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        results: list[Any] = []
        for i in range(len(calls)):
            item = by_id.get(i, {"error": {"message": f"no answer to call {i} of the batch"}})
            results.append(RpcError(item["error"]) if "error" in item else item.get("result"))
        return results

    def _exchange(self, body: str) -> bytes:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        try:
            return self._post(conn or self._connect(), body)
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            if conn is None:
                raise
            # The node closed an idle keep-alive connection before reading this request:
            # nothing was done, so the request is sent once more on a fresh connection.
            return self._post(self._connect(), body)

    def close(self) -> None:
        """Close the idle connections (calls still running close theirs when they end)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout)

    def _post(self, conn: http.client.HTTPConnection, body: str) -> bytes:
        """Post ``body`` on ``conn``; the connection goes back to the pool only if it worked."""
        try:
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
        except http.client.HTTPException as exc:
            conn.close()
            if isinstance(exc, ConnectionError):
                raise
            raise ConnectionError(f"bad HTTP answer from {self.url}: {exc!r}") from exc
        except BaseException:
            conn.close()
            raise
        if response.status != 200:
            conn.close()
            raise ConnectionError(f"{self.url} answered HTTP {response.status}: {raw[:200]!r}")
        with self._lock:
            self._idle.append(conn)
        return raw
