"""Fixtures of the browser tests: anvil, the deployed contract, ``tradeledger serve --demo``
on a free port, and headless Chromium (Debian's, driven by Playwright).

Everything is real: the service runs as its own process exactly as an operator starts it,
and the browser talks to it over HTTP. Screenshots go to ``test-artifacts/pages/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.chain.deployment import ensure_deployed
from ledger.chain.localchain import LocalChain, free_port, stop_pid
from ledger.config import PROJECT_ROOT, Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "pages"
STALE_AFTER = 1.5  # seconds without the chain before verification says UNVERIFIABLE


@dataclass
class Service:
    """The served ledger: its chain, its process, its URL and the demo API keys."""

    chain: LocalChain
    process: subprocess.Popen[bytes]
    url: str
    keys: dict[str, str]
    log: Path

    def api(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def register(
        self, content: bytes, doc_type: int = 861, ref: str = "SMGS-T-1"
    ) -> dict[str, Any]:
        """Register a document through the API as the demo exporter; returns its record."""
        with self.api("exporter") as c:
            r = c.post(
                "/v1/documents",
                files={"file": ("doc.pdf", content)},
                data={"doc_type": str(doc_type), "consignment_ref": ref},
            )
        assert r.status_code in (201, 202), r.text
        record: dict[str, Any] = r.json()
        return record

    def health(self) -> int:
        try:
            return httpx.get(f"{self.url}/health", timeout=5).status_code
        except httpx.HTTPError:
            return 0


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """anvil + deployment + ``tradeledger serve --demo`` on free ports."""
    data = tmp_path_factory.mktemp("ledger")
    chain = LocalChain("anvil", free_port(), data / "chain", persistent=False)
    chain.start()
    port = free_port()
    env = {
        **os.environ,
        "TRADELEDGER_DATA_DIR": str(data),
        "TRADELEDGER_RPC_URL": chain.url,
        "TRADELEDGER_PORT": str(port),
        "TRADELEDGER_CHAIN_STALE_AFTER": str(STALE_AFTER),
    }
    ensure_deployed(Settings(data_dir=data, rpc_url=chain.url, demo=True))
    log = data / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "tradeledger"), "serve", "--demo"],
            env=env,
            cwd=data,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    svc = Service(chain, process, f"http://127.0.0.1:{port}", {}, log)
    try:
        wait_for(lambda: svc.health() == 200 or process.poll() is not None, 60, "the service")
        assert process.poll() is None, log.read_text()
        creds = json.loads((data / "demo-credentials.json").read_text())
        svc.keys = creds["api_keys"]
        yield svc
    finally:
        stop_pid(process.pid)
        chain.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: run scripts/setup")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, service: Service) -> Iterator[Any]:
    """A fresh browser context (own cookies and session storage) on the service."""
    context = browser.new_context(
        base_url=service.url, locale="en-GB", viewport={"width": 1100, "height": 900}
    )
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot to test-artifacts/pages/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
