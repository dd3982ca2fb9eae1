"""Compiling the Solidity sources in ``contracts/`` into the artifacts the package ships.

Sources are collected here (imports of npm packages such as ``@openzeppelin/...`` resolved
from ``node_modules``) and handed to solc as standard JSON through py-solc-x, so a native
solc and the project's solc-js wrapper (``scripts/solc``) see exactly the same input. The
settings below are the only compiler settings of the project; ``hardhat.config.js`` reads
them from ``contracts/compiler.json``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from ledger.config import PROJECT_ROOT
from ledger.errors import LedgerError

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
COMPILER = json.loads((CONTRACTS_DIR / "compiler.json").read_text())
SOLC_VERSION: str = COMPILER["version"]
SOLC_WRAPPER = PROJECT_ROOT / "scripts" / "solc"
# Contracts whose artifacts ship with the package.
SHIPPED = {"TradeDocumentLedger": "contracts/TradeDocumentLedger.sol"}

_IMPORT = re.compile(r"""^\s*import\s+(?:[^;]*?\bfrom\s+)?["']([^"']+)["']""", re.MULTILINE)


class CompilationError(LedgerError):
    """solc refused the sources; the message holds its errors."""


def _read_source(unit: str) -> str:
    local = PROJECT_ROOT / unit
    path = local if unit.startswith("contracts/") else NODE_MODULES / unit
    if not path.is_file():
        raise CompilationError(
            f"cannot find imported source {unit!r}: run scripts/setup to install the npm packages"
        )
    return path.read_text()


def collect_sources() -> dict[str, dict[str, str]]:
    """Every source unit reachable from ``contracts/``, keyed by its Hardhat-style name."""
    pending = sorted(
        str(p.relative_to(PROJECT_ROOT).as_posix()) for p in CONTRACTS_DIR.rglob("*.sol")
    )
    sources: dict[str, dict[str, str]] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        content = _read_source(unit)
        sources[unit] = {"content": content}
        for target in _IMPORT.findall(content):
            if target.startswith("."):
                target = str(PurePosixPath(unit).parent / target)
                target = _normalise(target)
            pending.append(target)
    return dict(sorted(sources.items()))


def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def standard_input() -> dict[str, Any]:
    """The standard-JSON input solc compiles (also what Hardhat is configured to use)."""
    return {
        "language": "Solidity",
        "sources": collect_sources(),
        "settings": {
            **COMPILER["settings"],
            "outputSelection": {
                "*": {
                    "*": [
                        "abi",
                        "evm.bytecode.object",
                        "evm.deployedBytecode.object",
                        "storageLayout",
                    ]
                }
            },
        },
    }


def find_solc() -> Path:
    """A native solc of the pinned version if one is installed, else the solc-js wrapper."""
    import solcx  # only here and in compile_contracts: loading an artifact needs no compiler

    native = shutil.which("solc")
    if native and solcx.wrapper.get_solc_version(Path(native)).base_version == SOLC_VERSION:
        return Path(native)
    for installed in solcx.get_installed_solc_versions():
        if str(installed) == SOLC_VERSION:
            return Path(solcx.install.get_executable(installed))
    return SOLC_WRAPPER


def compile_contracts(solc_binary: Path | None = None) -> dict[str, dict[str, Any]]:
    """Compile ``contracts/`` and return the shipped contracts' artifacts."""
    import solcx

    binary = solc_binary or find_solc()
    try:
        output = solcx.compile_standard(
            standard_input(), solc_binary=binary, allow_paths=[str(PROJECT_ROOT)]
        )
    except solcx.exceptions.SolcError as exc:
        raise CompilationError(f"solc failed: {exc}") from exc
    artifacts = {}
    for name, unit in SHIPPED.items():
        out = output["contracts"][unit][name]
        artifacts[name] = {
            "contractName": name,
            "sourceName": unit,
            "compiler": {"version": SOLC_VERSION, "settings": COMPILER["settings"]},
            "abi": out["abi"],
            "bytecode": "0x" + out["evm"]["bytecode"]["object"],
            "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            "storageLayout": out["storageLayout"],
        }
    return artifacts


def write_artifacts(artifacts: dict[str, dict[str, Any]], folder: Path = ARTIFACTS_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        (folder / f"{name}.json").write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")


def load_artifact(name: str) -> dict[str, Any]:
    """A shipped artifact (ABI and bytecode) by contract name."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise CompilationError(f"no shipped artifact {path}: run scripts/compile")
    artifact: dict[str, Any] = json.loads(path.read_text())
    return artifact
