"""Package surfaces that import their modules on first use.

A package's ``__init__`` names its surface (``__all__``) as a map from each module to the
names it offers; ``lazy`` turns that map into the package's ``__getattr__``, so importing
``ledger.chain`` for one name loads only the module that holds it. The command line starts
in a fraction of a second because ``tradeledger cid`` never loads web3 or SQLAlchemy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy(
    package: str, modules: dict[str, list[str]], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: name -> the module of ``modules`` that holds it
    (a name that is a module of the package itself is listed under ``""``; ``"a=b"`` offers
    the module's ``b`` as ``a``)."""
    where = {
        entry.split("=")[0]: (module, entry.split("=")[-1])
        for module, entries in modules.items()
        for entry in entries
    }

    def __getattr__(name: str) -> Any:
        found = where.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = found
        if module == "":
            value = importlib.import_module(f"{package}.{name}")
        else:
            value = getattr(importlib.import_module(f"{package}.{module}"), attribute)
        namespace[name] = value
        return value

    return __getattr__


def names(modules: dict[str, list[str]]) -> list[str]:
    """The ``__all__`` of a surface map."""
    return sorted(entry.split("=")[0] for group in modules.values() for entry in group)
