"""The shipped artifacts are exactly what contracts/ compiles to, with our solc and Hardhat's."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ledger.chain.compile import SHIPPED, compile_contracts, find_solc, load_artifact
from ledger.config import PROJECT_ROOT


def test_shipped_artifacts_are_reproducible() -> None:
    fresh = compile_contracts()
    for name in SHIPPED:
        shipped = load_artifact(name)
        assert fresh[name]["bytecode"] == shipped["bytecode"], (
            f"run scripts/compile: {name} is stale"
        )
        assert fresh[name]["deployedBytecode"] == shipped["deployedBytecode"]
        assert fresh[name]["abi"] == shipped["abi"]
        assert fresh[name]["storageLayout"] == shipped["storageLayout"]


def test_compiler_is_the_pinned_version() -> None:
    out = subprocess.run(
        [str(find_solc()), "--version"], capture_output=True, text=True, check=True
    )
    assert "0.8.28" in out.stdout


def test_hardhat_compiles_the_same_bytecode(tmp_path: Path) -> None:
    env = {**os.environ, "HARDHAT_OUT": str(tmp_path), "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
    subprocess.run(
        [str(PROJECT_ROOT / "node_modules/.bin/hardhat"), "compile", "--quiet"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name, unit in SHIPPED.items():
        hardhat = json.loads((tmp_path / "artifacts" / unit / f"{name}.json").read_text())
        ours = load_artifact(name)
        assert hardhat["bytecode"] == ours["bytecode"]
        assert hardhat["deployedBytecode"] == ours["deployedBytecode"]
