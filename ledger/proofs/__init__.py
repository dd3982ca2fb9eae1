"""Proofs that need no network: block headers, receipt and storage proofs, checkpoints.

Producing talks to a node (``fetch_header``, ``prove_receipt``, ``prove_storage``,
``statement_at``); verifying needs nothing but the proof material, a trust file and a clock:
a header's fields re-hash to the block hash a checkpoint signed (``headers``), a receipt's
logs are proven in that header's receiptsRoot (``receipts``), storage slots in its stateRoot
(``storage``, with Solidity's slot arithmetic), both through Merkle-Patricia proofs
(``mpt``); the header is linked to a checkpoint signed by the trust file's keys
(``anchor``, ``checkpoint``, ``trust``). Which slot holds which of the ledger's records
comes from the shipped artifact's storage layout (``layout``).
Every failure is a ``ProofInvalid`` or ``ProofStale`` naming its part and problem. The wire
formats are the JSON schema ``schema.json`` beside this file; the browser verifier
(``api/pages/static/proofs.js``) gives the same verdicts on the same material.

Imports only the shared modules at the top of ``ledger`` and ``ledger.chain``'s surface.
"""

from pathlib import Path

from ledger.proofs.anchor import Anchor, AnchoredBlock, anchor, verify_anchor
from ledger.proofs.checkpoint import (
    Checkpoint,
    TrustedCheckpoint,
    recover,
    statement_at,
    verify_checkpoint,
)
from ledger.proofs.codec import checksummed, quantity
from ledger.proofs.headers import (
    Header,
    decode_header,
    encode_header,
    expect_hash,
    fetch_header,
    read_chain,
    read_header,
    verify_chain,
)
from ledger.proofs.layout import Layout, ledger_layout, read_string, string_slots
from ledger.proofs.mpt import walk
from ledger.proofs.receipts import (
    Log,
    Receipt,
    ReceiptProof,
    decode_event,
    encode_receipt,
    prove_receipt,
    verify_event,
    verify_receipt,
)
from ledger.proofs.storage import (
    Account,
    StorageProof,
    mapping_slot,
    prove_storage,
    unpack,
    verify_account,
    verify_storage,
)
from ledger.proofs.trust import Signer, TrustFile, parse_address

SCHEMA = Path(__file__).with_name("schema.json")

__all__ = [
    "SCHEMA",
    "Account",
    "Anchor",
    "AnchoredBlock",
    "Checkpoint",
    "Header",
    "Layout",
    "Log",
    "Receipt",
    "ReceiptProof",
    "Signer",
    "StorageProof",
    "TrustFile",
    "TrustedCheckpoint",
    "anchor",
    "checksummed",
    "decode_event",
    "decode_header",
    "encode_header",
    "encode_receipt",
    "expect_hash",
    "fetch_header",
    "ledger_layout",
    "mapping_slot",
    "parse_address",
    "prove_receipt",
    "prove_storage",
    "quantity",
    "read_chain",
    "read_header",
    "read_string",
    "recover",
    "statement_at",
    "string_slots",
    "unpack",
    "verify_account",
    "verify_anchor",
    "verify_chain",
    "verify_checkpoint",
    "verify_event",
    "verify_receipt",
    "verify_storage",
    "walk",
]
