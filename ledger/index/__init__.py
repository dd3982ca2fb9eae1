"""The auditors' index: the contract's events in database tables, rebuildable from the chain.

``indexer`` follows the events (decoded by ``events``, applied by ``writer``, undone after a
reorganisation by ``rollback``); ``records`` reads one document with its history and
attestations; ``queries`` answers auditors' filters and exports; ``consistency`` re-checks
index rows and exports against the chain; ``synthetic`` fills an index with realistic rows
for benchmarks and tests.

Imports the shared modules, the chain and content (manifests); never the flows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.surface import lazy, names

SURFACE = {
    "": ["queries", "records", "synthetic"],
    "consistency": ["Checker", "Report", "check_export", "check_index", "read_export"],
    "indexer": ["DEFAULT_RANGE", "INDEX_TABLES", "Indexer"],
    "records": ["AttestationView", "DocumentView", "HistoryEntry", "Issuer", "Origin"],
}
__all__ = names(SURFACE)
__getattr__ = lazy(__name__, SURFACE, globals())

if TYPE_CHECKING:
    from ledger.index import queries, records, synthetic
    from ledger.index.consistency import Checker, Report, check_export, check_index, read_export
    from ledger.index.indexer import DEFAULT_RANGE, INDEX_TABLES, Indexer
    from ledger.index.records import AttestationView, DocumentView, HistoryEntry, Issuer, Origin
