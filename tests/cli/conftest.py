"""The real service for the CLI tests: anvil, the contracts, demo organisations, uvicorn.

One service per module: a non-persistent anvil on a free port, ``ensure_deployed`` and
``ensure_demo`` on a fresh data folder, and the FastAPI app served by uvicorn in a thread.
``cli`` runs ``tradeledger`` in-process (``CliRunner``) against it, with its own data folder
for the keystores the user commands create.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner, Result

from api.app import create_app
from cli.main import app
from ledger.chain.deployment import ensure_deployed
from ledger.chain.localchain import LocalChain, free_port
from ledger.config import Settings, get_settings
from ledger.flows.demo import ensure_demo
from ledger.flows.runtime import Runtime


@dataclass(frozen=True)
class Service:
    url: str
    rpc_url: str
    settings: Settings
    creds: dict[str, Any]

    def api_key(self, who: str) -> str:
        return str(self.creds["api_keys"][who])

    def org_id(self, who: str) -> int:
        return int(self.creds["organisations"][who]["org_id"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("cli-service")
    chain = LocalChain("anvil", free_port(), tmp / "chain", persistent=False)
    chain.start()
    try:
        settings = Settings(
            data_dir=tmp / "service",
            rpc_url=chain.url,
            chain="anvil",
            host="127.0.0.1",
            port=free_port(),
            demo=True,  # the keystore secret is generated into the data folder
        )
        ensure_deployed(settings)
        rt = Runtime.open(settings)
        try:
            rt.check_chain()
            creds = ensure_demo(rt)
        finally:
            rt.close()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings),
                host="127.0.0.1",
                port=settings.port,
                log_level="warning",
                access_log=False,
            )
        )
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API service did not start")
            time.sleep(0.02)
        try:
            yield Service(f"http://127.0.0.1:{settings.port}", chain.url, settings, creds)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
    finally:
        chain.stop()


Cli = Callable[..., Result]


@pytest.fixture
def cli(service: Service, tmp_path: Path) -> Iterator[Cli]:
    """``cli(*args, key=None)`` runs ``tradeledger --api <service> [--key KEY] *args``."""
    client_dir = tmp_path / "client"
    secret = tmp_path / "etc" / "keystore-secret"  # outside the data folder, as it must be
    secret.parent.mkdir()
    secret.write_text("the exporter's own keystore secret\n")
    runner = CliRunner()
    env = {
        "TRADELEDGER_DATA_DIR": str(client_dir),
        "TRADELEDGER_API_URL": None,
        "TRADELEDGER_API_KEY": None,
        "TRADELEDGER_KEYSTORE_SECRET": None,
        "TRADELEDGER_KEYSTORE_SECRET_FILE": str(secret),
        "TRADELEDGER_DEMO": None,
        "COLUMNS": "250",
    }

    def run(*args: str, key: str | None = None, api: str | None = None) -> Result:
        argv = ["--api", api or service.url]
        if key is not None:
            argv += ["--key", key]
        get_settings.cache_clear()
        saved = {name: os.environ.get(name) for name in env}
        try:
            result = runner.invoke(app, [*argv, *args], env=env, catch_exceptions=True)
        finally:
            get_settings.cache_clear()
        assert {name: os.environ.get(name) for name in env} == saved
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert "Traceback" not in result.output, result.output  # errors are messages
        return result

    yield run
