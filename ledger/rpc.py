"""A lean JSON-RPC client for the transaction hot path: one keep-alive connection per thread.

web3's HTTP provider spends about 1 ms of CPU per call (requests, proxy look-ups in the
environment, middlewares, result formatters); sending a signed registration and reading
its receipt need none of that. ``Rpc.call`` posts one request on the calling thread's own
``http.client`` connection and returns the ``result`` exactly as the node sent it (hex
strings). A node's error answer becomes ``RpcError`` (with the revert data, if any); a
dead or unreachable node becomes ``OSError``, which ``ledger.chain`` reports as
``ChainUnavailable``.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
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
        self._local = threading.local()
        self._ids = itertools.count(1)

    def call(self, method: str, params: list[Any]) -> Any:
        """The node's ``result`` for ``method(params)``; ``RpcError`` if it answers an error."""
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        )
        conn = getattr(self._local, "conn", None)
        reused = conn is not None
        if conn is None:
            conn = self._local.conn = self._connect()
        try:
            raw = self._post(conn, body)
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            self._drop()
            if not reused:
                raise
            # The node closed an idle keep-alive connection before reading this request:
            # nothing was done, so the request is sent once more on a fresh connection.
            conn = self._local.conn = self._connect()
            try:
                raw = self._post(conn, body)
            except BaseException:
                self._drop()
                raise
        except BaseException:
            self._drop()
            raise
        answer = json.loads(raw)
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout)

    def _post(self, conn: http.client.HTTPConnection, body: str) -> bytes:
        try:
            conn.request("POST", self._path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            raw = response.read()
        except http.client.HTTPException as exc:
            if isinstance(exc, ConnectionError):
                raise
            raise ConnectionError(f"bad HTTP answer from {self.url}: {exc!r}") from exc
        if response.status != 200:
            raise ConnectionError(f"{self.url} answered HTTP {response.status}: {raw[:200]!r}")
        return raw

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()
