"""The architecture holds: imports go one way, and across packages only through their surfaces.

``ledger`` is layered: the shared modules at its top (settings, errors, types, CIDs, the
database schema...) import no package of it; ``content``, ``chain`` and ``sealing`` import
only those; ``proofs`` adds ``chain``; ``index`` adds ``chain`` and ``content``; ``flows``
adds ``index`` and ``proofs``. ``ledger`` never imports
``api`` or ``cli``. A module outside a package imports it only through the names its
``__init__`` lists in ``__all__``. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from ledger.config import PROJECT_ROOT

PACKAGES = ("content", "chain", "sealing", "proofs", "index", "flows")
MAY_IMPORT: dict[str | None, set[str]] = {
    None: set(),  # the shared modules at the top of ledger
    "content": set(),
    "chain": set(),
    "sealing": set(),
    "proofs": {"chain"},
    "index": {"chain", "content"},
    "flows": {"chain", "content", "sealing", "index", "proofs"},
}


def _modules() -> list[tuple[Path, str]]:
    """(path relative to the project, source) of every module of ledger, api and cli."""
    paths = sorted(
        p for top in ("ledger", "api", "cli") for p in (PROJECT_ROOT / top).rglob("*.py")
    )
    return [(p.relative_to(PROJECT_ROOT), p.read_text()) for p in paths]


def _imports(path: Path, source: str) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every ``import``/``from ... import`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def _owner(path: Path) -> tuple[str, str | None]:
    """(top folder, ledger package or None) of a module."""
    parts = path.parts
    package = parts[1] if parts[0] == "ledger" and len(parts) > 2 else None
    return parts[0], package


def layout_problems(modules: list[tuple[Path, str]]) -> list[str]:
    surfaces = {p: set(importlib.import_module(f"ledger.{p}").__all__) for p in PACKAGES}
    problems = []
    for where, source in modules:
        top, own = _owner(where)
        for line, module, names in _imports(where, source):
            parts = module.split(".")
            if top == "ledger" and parts[0] in ("api", "cli"):
                problems.append(f"{where}:{line}: ledger imports {module}")
            if parts[0] != "ledger" or len(parts) < 2 or parts[1] not in PACKAGES:
                continue
            target = parts[1]
            if target == own:
                continue
            if top == "ledger" and target not in MAY_IMPORT[own]:
                problems.append(f"{where}:{line}: ledger.{own or '<top>'} may not import {module}")
            if len(parts) > 2:
                problems.append(f"{where}:{line}: imports {module}; use ledger.{target}'s surface")
            for name in names:
                if name not in surfaces[target]:
                    problems.append(f"{where}:{line}: {name} is not in ledger.{target}.__all__")
    return problems


def test_imports_follow_the_layers_and_the_surfaces() -> None:
    problems = layout_problems(_modules())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("ledger/content/x.py", "from ledger.chain import Registry\n", "may not import"),
        ("ledger/index/x.py", "from ledger.flows import Documents\n", "may not import"),
        ("ledger/proofs/x.py", "from ledger.index import Indexer\n", "may not import"),
        ("ledger/chain/x.py", "from ledger.proofs import walk\n", "may not import"),
        ("ledger/x.py", "import ledger.index\n", "may not import"),
        ("ledger/sealing/x.py", "from ledger.content import BlockStore\n", "may not import"),
        ("ledger/flows/x.py", "from ledger.index.records import issuer\n", "surface"),
        ("api/x.py", "from ledger.chain import _private\n", "__all__"),
        ("ledger/chain/x.py", "def f():\n    from api import app\n", "ledger imports api"),
    ],
)
def test_the_check_catches(where: str, source: str, expected: str) -> None:
    """Each rule can fail: a module breaking it is reported."""
    problems = layout_problems([(Path(where), source)])
    assert any(expected in p for p in problems), problems
