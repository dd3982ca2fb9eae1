"""The browser's verifier (``api/pages/static/proofs.js``) gives the Python verifier's verdicts.

Node runs the shipped bundle on the very cases of ``test_matrix.py`` (honest proofs from
anvil and a Hardhat node, and every tampered one), and the bundle is checked to be what
``scripts/build-js`` makes from ``api/pages/js/`` and the pinned npm packages.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ledger.config import PROJECT_ROOT
from tests.proofs.cases import Case

BUNDLE = PROJECT_ROOT / "api" / "pages" / "static" / "proofs.js"
JS = Path(__file__).with_name("js")


def node(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", *args],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_bundle_gives_each_case_its_verdict(cases: list[Case], tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    run = node(
        "--test",
        "--test-reporter=tap",
        str(JS / "verifier.test.mjs"),
        env={"PROOF_CASES": str(path), "PROOF_BUNDLE": str(BUNDLE)},
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert f"# pass {len(cases)}\n" in run.stdout, run.stdout[-2000:]


def test_the_bundle_is_built_from_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "proofs.js"
    subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "build-js"), str(fresh)], check=True, timeout=120
    )
    assert fresh.read_bytes() == BUNDLE.read_bytes(), "run scripts/build-js and commit the bundle"
