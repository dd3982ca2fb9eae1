"""The service with a real IPFS node (the js-ipfs daemon) as its content store."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pytest

from ledger.content.ipfs import NodeStore
from ledger.sealing import sealed_size
from tests.api.conftest import Service, doc_bytes, wait_until
from tests.content.conftest import Daemon, free_port

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("jsipfs-repo"), free_port())
    d.start()
    try:
        yield d
    finally:
        d.stop()


def test_register_and_read_back_through_ipfs(
    ipfs: Daemon, fresh_svc: Callable[..., Service]
) -> None:
    svc = fresh_svc(ipfs_rpc_url=ipfs.url, ipfs_timeout=20.0, max_upload_bytes=4 * 2**20)
    t0 = time.monotonic()
    health = svc.http.get("/health").json()
    # /health must not wait out the IPFS timeout (js-ipfs holds lookups of absent content)
    assert time.monotonic() - t0 < 5
    assert health["store"] == {"ok": True, "kind": "ipfs-node"}

    # bigger than one 256 KiB chunk, so the node builds a DAG, not a single block
    content = doc_bytes("ipfs") * 20_000
    assert len(content) > 256 * 1024
    r = svc.http.post(
        "/v1/documents",
        files={"file": ("coo.pdf", content)},
        data={"doc_type": "861", "consignment_ref": "SMGS-IPFS-1"},
        headers=svc.auth("exporter"),
    )
    assert r.status_code == 201, r.text
    rec = r.json()

    node = NodeStore(ipfs.url, timeout=10.0)
    try:
        # the node holds the sealed object, nothing of the plain file; the chain's CID is
        # what the node's own `add --only-hash --cid-version=1` gives for the stored bytes
        assert node.has(rec["cid"]) and node.is_pinned(rec["cid"])
        stored = b"".join(node.get(rec["cid"]))
        assert stored.startswith(b"TDLSEAL") and content[:64] not in stored
        assert len(stored) == sealed_size(len(content))
        assert str(node.only_hash(io.BytesIO(stored)).to_v1()) == rec["cid"]
    finally:
        node.close()

    c = svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth("customs"))
    assert c.status_code == 200 and c.content == content
    svc.indexed(rec["sha256"])
    assert svc.verdict(rec["sha256"])["verdict"] == "VALID"

    # a batch: its manifest lives on the node too, and the indexer reads it from there
    files = [doc_bytes(f"ipfs-batch-{i}") for i in range(2)]
    r = svc.http.post(
        "/v1/documents/batch",
        files=[("files", (f"{i}.pdf", f)) for i, f in enumerate(files)],
        data={"doc_type": "380", "consignment_ref": "SMGS-IPFS-B"},
        headers=svc.auth("chamber"),
    )
    assert r.status_code == 201, r.text
    for member, data in zip(r.json()["documents"], files, strict=True):
        svc.indexed(member["sha256"])
        got = svc.http.get(f"/v1/documents/{member['sha256']}/content", headers=svc.auth("auditor"))
        assert got.content == data


def test_ipfs_node_down_and_back(ipfs: Daemon, fresh_svc: Callable[..., Service]) -> None:
    """With the node gone, writes and content reads answer 503 with Retry-After (nothing is
    acknowledged), verification still answers from the chain; once back, all works again."""
    svc = fresh_svc(ipfs_rpc_url=ipfs.url, ipfs_timeout=5.0)
    content, rec = svc.registered()
    svc.indexed(rec["sha256"])

    ipfs.stop()
    try:
        health = svc.http.get("/health")
        assert health.status_code == 503 and health.json()["store"]["ok"] is False
        late = doc_bytes("while IPFS is down")
        for r in (
            svc.register(late),
            svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth("customs")),
        ):
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"].isdigit() and "IPFS" in r.json()["detail"]
        assert svc.verdict(rec["sha256"])["verdict"] == "VALID"
        assert svc.http.get("/health").json()["pending"] == 0
    finally:
        ipfs.start()

    wait_until(lambda: svc.http.get("/health").status_code == 200, 30, "/health with IPFS back")
    c = svc.http.get(f"/v1/documents/{rec['sha256']}/content", headers=svc.auth("customs"))
    assert c.status_code == 200 and c.content == content
    assert svc.register(late).status_code == 201
