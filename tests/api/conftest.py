"""Fixtures of the service tests: a real anvil chain, the deployed contract, the FastAPI app.

``Service`` bundles one ledger: a persistent anvil (its own folder and port), the deployment,
the demo organisations and API keys, and the app served by ``TestClient`` (so the lifespan
runs: chain monitor, indexer and outbox worker threads). The session-wide ``svc`` is shared
by the tests that do not stop anything; ``fresh_svc`` builds a private one for the tests that
stop the chain or restart the app. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from ledger.chain.deployment import ensure_deployed
from ledger.chain.localchain import LocalChain, free_port
from ledger.chain.relay import RegisterRequest, sign_request
from ledger.config import Settings
from ledger.content.hashing import hash_stream
from ledger.flows.demo import ensure_demo
from ledger.flows.documents import Documents
from ledger.flows.runtime import Runtime
from ledger.index import records
from ledger.types import OrgKind

ROLES = ("exporter", "chamber", "customs", "auditor", "admin")
MAX_UPLOAD = 512 * 1024  # small, so the 413 tests stay quick


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def evidence(service: Service, sha256: str, timeout: float = 30.0) -> Response:
    """``GET /v1/documents/{sha256}/evidence`` once its blocks are final (425 before)."""
    got: dict[str, Response] = {}

    def final() -> bool:
        got["r"] = service.http.get(f"/v1/documents/{sha256}/evidence")
        return got["r"].status_code != 425

    wait_until(final, timeout, f"the evidence of {sha256} (its block final)")
    return got["r"]


def doc_bytes(label: str = "") -> bytes:
    """A document no other test registers: a short text with random bytes in it."""
    return f"Certificate of origin {label} ".encode() + os.urandom(24).hex().encode()


@dataclass
class Service:
    settings: Settings
    chain: LocalChain
    client: TestClient | None = None
    creds: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open the app (its lifespan builds the runtime and starts the threads)."""
        assert self.client is None
        self.client = TestClient(create_app(self.settings))
        self.client.__enter__()
        self.creds = ensure_demo(self.rt)

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def http(self) -> TestClient:
        assert self.client is not None, "the app is not running"
        return self.client

    @property
    def rt(self) -> Runtime:
        rt: Runtime = self.http.app.state.runtime  # type: ignore[attr-defined]
        return rt

    @property
    def docs(self) -> Documents:
        docs: Documents = self.http.app.state.documents  # type: ignore[attr-defined]
        return docs

    # ------------------------------------------------------------ helpers

    def auth(self, who: str | None) -> dict[str, str]:
        """Headers of a demo role; None: no key; "bad": a well-formed but unknown key."""
        if who is None:
            return {}
        if who == "bad":
            return {"Authorization": "Bearer tdl_000000000000_not-a-real-secret"}
        if who.startswith("tdl_"):
            return {"Authorization": f"Bearer {who}"}
        return {"Authorization": f"Bearer {self.creds['api_keys'][who]}"}

    def register(
        self,
        content: bytes | None = None,
        who: str | None = "exporter",
        doc_type: int = 861,
        ref: str = "SMGS-0001",
        metadata: str | None = None,
    ) -> Response:
        data: dict[str, Any] = {"doc_type": str(doc_type), "consignment_ref": ref}
        if metadata is not None:
            data["metadata"] = metadata
        return self.http.post(
            "/v1/documents",
            files={"file": ("doc.pdf", content if content is not None else doc_bytes())},
            data=data,
            headers=self.auth(who),
        )

    def registered(self, who: str = "exporter", **kwargs: Any) -> tuple[bytes, dict[str, Any]]:
        """Register a fresh document (201) and return its bytes and record."""
        content = kwargs.pop("content", None) or doc_bytes(who)
        r = self.register(content, who=who, **kwargs)
        assert r.status_code == 201, r.text
        return content, r.json()

    def indexed(self, sha256: str, status: str = "registered", timeout: float = 20.0) -> None:
        """Wait until the index holds ``sha256`` with ``status`` (the index itself: a read
        of the document answers from the outbox before that)."""

        def ok() -> bool:
            found = records.document(self.rt.engine, sha256)
            return found is not None and found.status == status

        wait_until(ok, timeout, f"{sha256} to be indexed as {status}")

    def verdict(self, sha256: str) -> dict[str, Any]:
        r = self.http.post("/v1/verify", json={"sha256": sha256})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


CORRIDOR_CUSTOMS = 3


def make_settings(data_dir: Path, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "rpc_url": f"http://127.0.0.1:{port}",
        "chain": "anvil",
        "max_upload_bytes": MAX_UPLOAD,
        "index_poll_interval": 0.2,
        "receipt_timeout": 20.0,
        "ipfs_rpc_url": None,
        "database_url": None,
        "keystore_secret": "tests-only-keystore-secret",
        "deployer_key": None,
        # the demo's customs office (admitted third on a fresh chain; checked in open_service)
        "corridor_recipients": [CORRIDOR_CUSTOMS],
    }
    values.update(overrides)
    return Settings(**values)


def open_service(data_dir: Path, **overrides: Any) -> Service:
    """Start anvil, deploy the contract and start the app with the demo organisations."""
    port = free_port()
    chain = LocalChain("anvil", port, data_dir / "chain", persistent=True, state_interval=1)
    chain.start()
    try:
        settings = make_settings(data_dir, port, **overrides)
        ensure_deployed(settings)
        service = Service(settings, chain)
        service.start()
        assert service.creds["organisations"]["customs"]["org_id"] == CORRIDOR_CUSTOMS
    except BaseException:
        chain.stop()
        raise
    return service


def close_service(service: Service) -> None:
    try:
        service.stop()
    finally:
        if service.chain.process is not None:
            service.chain.stop()


@pytest.fixture(scope="session")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The shared ledger: nothing that uses it stops the chain or the app."""
    service = open_service(tmp_path_factory.mktemp("ledger"))
    try:
        yield service
    finally:
        close_service(service)


@pytest.fixture
def fresh_svc(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Private ledgers for one test, which may stop and restart their chain and app."""
    opened: list[Service] = []

    def make(**overrides: Any) -> Service:
        service = open_service(tmp_path / f"ledger-{len(opened)}", **overrides)
        opened.append(service)
        return service

    try:
        yield make
    finally:
        for service in opened:
            close_service(service)


# ------------------------------------------------------------------ relayed registrations


@dataclass
class Signer:
    """An exporter organisation whose signing key the test holds (not the service)."""

    account: LocalAccount
    org_id: int


def admit_signer(service: Service, name: str = "Demo Relayed Exporter LLP") -> Signer:
    """Admit an exporter with a key only the test holds (through the registry, as an admin)."""
    rt = service.rt
    account: LocalAccount = Account.create()
    admin = rt.sender("deployer")
    org_id, _ = rt.registry.admit_organisation(admin, name, "KZ", OrgKind.EXPORTER)
    now = int(rt.w3.eth.get_block("latest")["timestamp"])
    rt.registry.add_key(admin, org_id, account.address, now - 60, now + 10 * 365 * 24 * 3600)
    return Signer(account, org_id)


def signed_request(
    service: Service,
    signer: Signer,
    content: bytes,
    *,
    ref: str = "SMGS-RELAY-1",
    doc_type: int = 861,
    deadline: int | None = None,
    sign_with: LocalAccount | None = None,
    nonce: int | None = None,
) -> str:
    """The ``signed_request`` form field: an EIP-712 RegisterRequest signed for ``content``."""
    rt = service.rt
    fingerprint = hash_stream(BytesIO(content))
    request = RegisterRequest(
        signer.account.address,
        fingerprint.sha256_bytes,
        doc_type,
        fingerprint.cid_bytes,
        ref,
        b"",
        rt.registry.key_info(signer.account.address).nonce if nonce is None else nonce,
        deadline if deadline is not None else int(time.time()) + 3600,
    )
    signature = sign_request(
        sign_with or signer.account, request, rt.registry.chain_id, rt.registry.address
    )
    return json.dumps(
        {
            "issuer": request.issuer,
            "doc_type": doc_type,
            "consignment_ref": ref,
            "metadata_cid": None,
            "nonce": request.nonce,
            "deadline": request.deadline,
            "signature": "0x" + signature.hex(),
        }
    )


def post_relay(service: Service, content: bytes, signed: str, who: str | None) -> Response:
    return service.http.post(
        "/v1/documents/relay",
        files={"file": ("relayed.pdf", content)},
        data={"signed_request": signed},
        headers=service.auth(who),
    )


@pytest.fixture(scope="session")
def signer(svc: Service) -> Signer:
    return admit_signer(svc)
