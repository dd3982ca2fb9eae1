"""Where the ledger contract keeps its records: slots and packed fields, from solc's layout.

The shipped artifact carries solc's ``storageLayout`` (``scripts/compile`` writes it), so no
slot number is written down here: ``record_slot("_documents", fingerprint)`` is the slot of
``_documents[fingerprint]`` wherever the contract declares that mapping, nested mappings
taking one key each, and ``member("_keys", "validUntil")`` is where a field of the struct a
mapping holds sits (slots after the record's first, byte offset, size). ``read_string``
decodes a Solidity ``string`` from its slot values. When the contract's storage changes,
recompiling is the whole port.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ledger.chain import load_artifact
from ledger.proofs.codec import keccak
from ledger.proofs.storage import mapping_slot, unpack


@dataclass(frozen=True)
class Member:
    slot: int  # slots after the record's first
    offset: int  # bytes from the right of that slot
    size: int

    def read(self, values: Mapping[int, int], base: int) -> int:
        return unpack(values[base + self.slot], self.offset, self.size)


class Layout:
    """The storage layout of one compiled contract."""

    def __init__(self, layout: Mapping[str, Any]) -> None:
        self.vars = {v["label"]: v for v in layout["storage"]}
        self.types: Mapping[str, Any] = layout["types"]

    def _var(self, label: str) -> Mapping[str, Any]:
        if label not in self.vars:
            raise KeyError(f"the contract declares no state variable {label!r}: recompile?")
        return self.vars[label]

    def record_slot(self, label: str, *keys: bytes | int | str) -> int:
        """The slot of ``label[k1][k2]...`` (a mapping's value; a struct's first slot)."""
        return mapping_slot(int(self._var(label)["slot"]), *keys)

    def _value_type(self, label: str) -> Mapping[str, Any]:
        kind = self._var(label)["type"]
        while self.types[kind]["encoding"] == "mapping":
            kind = self.types[kind]["value"]
        return self.types[kind]

    def member(self, label: str, name: str) -> Member:
        """Field ``name`` of the struct that mapping ``label`` holds."""
        for m in self._value_type(label).get("members", []):
            if m["label"] == name:
                size = int(self.types[m["type"]]["numberOfBytes"])
                return Member(int(m["slot"]), int(m["offset"]), size)
        raise KeyError(f"the records of {label!r} have no field {name!r}: recompile?")


@cache
def ledger_layout() -> Layout:
    """The layout of the shipped ledger contract."""
    return Layout(load_artifact("TradeDocumentLedger")["storageLayout"])


def string_slots(slot: int, head: int) -> list[int]:
    """The slots a ``string`` at ``slot`` spans beyond its own, given that slot's value."""
    if head & 1 == 0:
        return []
    length = (head - 1) // 2
    start = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
    return [start + i for i in range((length + 31) // 32)]


def read_string(slot: int, value: Callable[[int], int]) -> bytes:
    """The bytes of the ``string`` at ``slot``; ``value`` gives a slot's (proven) value."""
    head = value(slot)
    if head & 1 == 0:
        return head.to_bytes(32, "big")[: (head & 0xFF) // 2]
    length = (head - 1) // 2
    data = b"".join(value(s).to_bytes(32, "big") for s in string_slots(slot, head))
    return data[:length]
