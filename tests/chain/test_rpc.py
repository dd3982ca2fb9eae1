"""The lean JSON-RPC client against a real HTTP server on 127.0.0.1 (results, errors, dead and
stale connections) and against a real anvil (see the contract tests, which send through it)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from ledger.chain.localchain import free_port
from ledger.chain.rpc import Rpc, RpcError
from ledger.chain.sender import is_connection_error


class Node(BaseHTTPRequestHandler):
    """Answers eth_chainId, an error with revert data, HTTP 500, and can drop idle connections."""

    protocol_version = "HTTP/1.1"
    served: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.served.append(request["method"])
        if request["method"] == "broken":
            self._answer(500, b"internal")
            return
        if request["method"] == "eth_chainId":
            body: dict[str, Any] = {"result": "0x7a69"}
        else:
            body = {"error": {"code": 3, "message": "execution reverted", "data": "0x1234abcd"}}
        self._answer(200, json.dumps({"jsonrpc": "2.0", "id": request["id"], **body}).encode())
        if self.server.close_after_answer:  # type: ignore[attr-defined]
            self.close_connection = True

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def node() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Node)
    server.close_after_answer = False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Node.served = []
    yield server
    server.shutdown()
    server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_result_and_error(node: ThreadingHTTPServer) -> None:
    rpc = Rpc(url(node))
    assert rpc.call("eth_chainId", []) == "0x7a69"
    with pytest.raises(RpcError, match="execution reverted") as caught:
        rpc.call("eth_call", [{}])
    assert caught.value.data == "0x1234abcd"
    assert caught.value.rpc_response["error"]["code"] == 3  # what web3's errors carry too


def test_a_connection_the_node_closed_is_reopened(node: ThreadingHTTPServer) -> None:
    rpc = Rpc(url(node))
    node.close_after_answer = True  # type: ignore[attr-defined]
    for _ in range(3):  # each call finds its kept-alive connection closed by the node
        assert rpc.call("eth_chainId", []) == "0x7a69"
    assert Node.served == ["eth_chainId"] * 3  # and nothing was sent twice


def test_concurrent_calls_share_a_pool(node: ThreadingHTTPServer) -> None:
    rpc = Rpc(url(node))
    results: list[Any] = []

    def work() -> None:
        results.extend(rpc.call("eth_chainId", []) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["0x7a69"] * 80
    assert 1 <= len(rpc._idle) <= 4  # one connection per concurrent caller at most
    rpc.close()
    assert rpc._idle == []


def test_unreachable_and_broken_nodes_are_connection_errors(node: ThreadingHTTPServer) -> None:
    with pytest.raises(OSError) as refused:
        Rpc(f"http://127.0.0.1:{free_port()}", timeout=1).call("eth_chainId", [])
    assert is_connection_error(refused.value)
    with pytest.raises(ConnectionError, match="HTTP 500") as broken:
        Rpc(url(node)).call("broken", [])
    assert is_connection_error(broken.value)


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="not an http"):
        Rpc("ws://127.0.0.1:8545")
