"""After a real run of the service (anvil, ``tradeledger deploy``-style deployment,
``tradeledger serve --demo`` as its own process under a loose 022 umask, one document
registered), nothing in the data folder is open to other users, and files an older version
left readable were tightened at start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ledger.chain.deployment import ensure_deployed
from ledger.chain.localchain import LocalChain, free_port, stop_pid
from ledger.config import Settings
from tests.api.conftest import doc_bytes, wait_until
from tests.test_datadir import loose_entries, mode

pytestmark = pytest.mark.chain


def test_the_data_folder_is_private_after_a_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = os.umask(0o022)
    try:
        # An older version's folder: world-readable, with a readable file in it.
        (data / "exports").mkdir(parents=True)
        (data / "exports" / "audit.csv").write_text("sha256,issuer\n")
        data.chmod(0o755)
        chain = LocalChain("anvil", free_port(), data / "chain", persistent=True)
        chain.start()
    finally:
        os.umask(old)
    port = free_port()
    env = {
        **os.environ,
        "TRADELEDGER_DATA_DIR": str(data),
        "TRADELEDGER_RPC_URL": chain.url,
        "TRADELEDGER_PORT": str(port),
    }
    log = tmp_path / "serve.log"  # outside the data folder: the test's, not the service's
    process = None
    try:
        ensure_deployed(Settings(data_dir=data, rpc_url=chain.url, demo=True))
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "tradeledger"), "serve", "--demo"],
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=0o022,
            )
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert process is not None and process.poll() is None, log.read_text()
            try:
                return httpx.get(f"{url}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, 90, "the service")
        key = json.loads((data / "demo-credentials.json").read_text())["api_keys"]["exporter"]
        r = httpx.post(
            f"{url}/v1/documents",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("invoice.pdf", doc_bytes("modes"))},
            data={"doc_type": "380", "consignment_ref": "SMGS-MODES-1"},
            timeout=60,
        )
        assert r.status_code == 201, r.text
    finally:
        if process is not None:
            stop_pid(process.pid, signal.SIGTERM)
        chain.stop()  # the supervisor takes a last snapshot on the way out

    for made in (
        "ledger.db",
        "secret",
        "deployment.json",
        "demo-credentials.json",
        "owner.lock",
        "chain/identity.json",
        "chain/snapshot.status",
    ):
        assert (data / made).exists(), made
    assert any((data / "chain" / "snapshots").glob("*.snap"))
    assert any((data / "keys").iterdir()) and any((data / "blocks").rglob("bafk*"))
    assert loose_entries(data) == []
    assert mode(data / "exports" / "audit.csv") == 0o600  # tightened at start
