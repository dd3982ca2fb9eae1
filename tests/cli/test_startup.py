"""The command line starts fast (issue 12.8): web3, eth-account, SQLAlchemy, FastAPI and the
IPFS client are loaded only by the commands that need them, never for --help, `cid` or a
`verify` over the API. (The timings themselves are in scripts/bench/cli.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Service

HEAVY = ("web3", "eth_account", "sqlalchemy", "fastapi", "ipfshttpclient")
PROBE = """
import json, sys
sys.argv = ["tradeledger", *json.loads(sys.argv[1])]
from cli.main import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def loaded(*args: str, env: dict[str, str] | None = None) -> list[str]:
    """The heavy libraries a `tradeledger *args` process loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


def test_help_and_cid_load_no_heavy_library(tmp_path: Path) -> None:
    small = tmp_path / "small.pdf"
    small.write_bytes(b"%PDF-1.4 tiny")
    assert loaded("--help") == []
    assert loaded("cid", str(small)) == []
    assert loaded("verify", "--help") == []
    assert loaded("admin", "--help") == []


@pytest.mark.chain
def test_verify_over_the_api_loads_no_heavy_library(service: Service, tmp_path: Path) -> None:
    env = {"TRADELEDGER_API_URL": service.url, "TRADELEDGER_DATA_DIR": str(tmp_path)}
    assert loaded("verify", "--sha256", "ab" * 32, env=env) == []
    # the admin commands are HTTP calls too (issue 17.1)
    env["TRADELEDGER_API_KEY"] = service.api_key("admin")
    assert loaded("admin", "org", "list", env=env) == []
    assert loaded("admin", "key", "admit", "1", "0x1234", env=env) == []
    # and the command that talks to a chain node itself does load web3
    assert "web3" in loaded("chain", "status", env={"TRADELEDGER_RPC_URL": service.rpc_url})
