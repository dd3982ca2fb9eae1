"""The Trade Document Ledger library: notarising trade documents on an EVM chain.

Shared modules at this level (``config``, ``errors``, ``types``, ``doctypes``, ``cid``,
``db``, ``groupsync``, ``datadir``, ``ownership``) import no package of ``ledger``. The packages, lowest
first: ``content`` (documents' bytes and CIDs), ``chain`` (the chain and the contract) and
``sealing`` (confidential documents' encryption), then ``proofs`` (proofs that need no
network, over ``chain``) and ``index`` (the auditors' index), then ``flows`` (the use cases). Imports only point down, and across packages only to the names a
package's ``__init__`` lists; ``tests/test_layout.py`` checks both. Nothing here knows about
HTTP.
"""
