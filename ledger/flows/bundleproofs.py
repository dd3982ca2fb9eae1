"""Evidence bundle v2: a v1 bundle plus the proofs that let it verify with no network.

``prove_bundle`` takes a v1 bundle (its transaction, block, issuer key, batch root and
attestations serve only as pointers) and a chain node, and adds ``proofs``:

- ``registration``: the headers from the registration's block up to a checkpoint (its own,
  or a later one at most ``MAX_LINK`` blocks on) and the Merkle-Patricia proof of the
  registration's receipt, pointing at its ``DocumentRegistered`` or ``BatchAnchored`` event
  (a batch member's Merkle proof into the anchored root is the v1 ``batch`` field);
- ``attestations``: the same for each attestation's ``AttestationRecorded`` event;
- ``status``: the header of the newest checkpoint's block and ``eth_getProof`` of the slots
  that say the document is (not) revoked or superseded, the batch (not) revoked, the
  issuer's and attesters' keys and organisations, and each attestation's record.

Checkpoints are signed beforehand by the consortium's checkpoint keys (``tradeledger
checkpoint sign``); which slots hold what comes from the compiled storage layout
(``ledger.proofs.layout``). ``status_slots`` is shared with the offline verifier, which
recomputes them from proven values only. The format is ``ledger/proofs/schema.json``'s
``bundle`` and docs/offline.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ledger.chain import Rpc
from ledger.errors import InvalidInput
from ledger.proofs import (
    Anchor,
    Checkpoint,
    Layout,
    anchor,
    fetch_header,
    ledger_layout,
    prove_receipt,
    prove_storage,
    string_slots,
)

BUNDLE_V2 = 2
MAX_LINK = 16  # headers (~0.8 KB each) linking a block to a later checkpoint


def prove_bundle(
    rpc: Rpc, bundle: Mapping[str, Any], checkpoints: Sequence[Checkpoint]
) -> dict[str, Any]:
    """``bundle`` (v1) as a v2 bundle whose facts are proven as of the newest checkpoint."""
    if not checkpoints:
        raise InvalidInput("a v2 bundle needs a checkpoint: `tradeledger checkpoint sign`")
    status_at = max(checkpoints, key=lambda c: c.block_number)
    registration = _event_proof(rpc, bundle["tx_hash"], bundle.get("log_index"), checkpoints)
    attestations = [
        {
            "attestationId": a["attestation_id"],
            **_event_proof(rpc, a["origin"]["tx_hash"], a["origin"]["log_index"], checkpoints),
        }
        for a in bundle.get("attestations") or []
    ]
    block = status_at.block_number
    keys = [bundle["issuer"]["key"]] + [
        a["attester"]["key"] for a in bundle.get("attestations") or []
    ]
    contract = bundle["contract"]

    def value(slot: int) -> int:
        return int(rpc.call("eth_getStorageAt", [contract, hex(slot), hex(block)]), 16)

    slots = status_slots(
        value,
        bytes.fromhex(bundle["sha256"]),
        _root(bundle),
        keys,
        [a["attestation_id"] for a in bundle.get("attestations") or []],
    )
    status = {
        "anchor": Anchor((fetch_header(rpc, block),), status_at).to_json(),
        "storage": prove_storage(rpc, contract, slots, block).to_json(),
    }
    return {
        **bundle,
        "version": BUNDLE_V2,
        "proofs": {"registration": registration, "attestations": attestations, "status": status},
    }


def status_slots(
    value: Callable[[int], int],
    fingerprint: bytes,
    batch_root: bytes | None,
    keys: Sequence[str],
    attestation_ids: Sequence[str],
    layout: Layout | None = None,
) -> list[int]:
    """Every slot the status answer reads, in a fixed order; ``value`` gives a slot's value
    (the node's to the producer, the proven one to the verifier)."""
    lay = layout or ledger_layout()
    slots = [lay.record_slot("_documents", fingerprint)]
    if batch_root is not None:
        slots.append(lay.record_slot("_batches", batch_root))
    slots += [lay.record_slot("_attestations", a) for a in attestation_ids]
    org_id = lay.member("_keys", "orgId")
    name = lay.member("_organisations", "name")
    country = lay.member("_organisations", "country")
    for key in dict.fromkeys(k.lower() for k in keys):
        key_slot = lay.record_slot("_keys", key)
        slots.append(key_slot)
        org = org_id.read({key_slot: value(key_slot)}, key_slot)
        if org:
            base = lay.record_slot("_organisations", org)
            name_slot = base + name.slot
            slots += [name_slot, base + country.slot]
            slots += string_slots(name_slot, value(name_slot))
    return list(dict.fromkeys(slots))


def _event_proof(
    rpc: Rpc, tx_hash: str, log_index: int | None, checkpoints: Sequence[Checkpoint]
) -> dict[str, Any]:
    header, receipt = prove_receipt(rpc, tx_hash, log_index)
    later = [c for c in checkpoints if c.block_number >= header.number]
    near = min(later, key=lambda c: c.block_number) if later else None
    if near is None or near.block_number - header.number > MAX_LINK:
        raise InvalidInput(
            f"no checkpoint within {MAX_LINK} blocks after block {header.number} (of "
            f"{tx_hash}): have the checkpoint keys sign one of it "
            f"(`tradeledger checkpoint sign --block {header.number}`)"
        )
    return {"anchor": anchor(rpc, header.number, near).to_json(), "receipt": receipt.to_json()}


def _root(bundle: Mapping[str, Any]) -> bytes | None:
    batch = bundle.get("batch")
    if not isinstance(batch, Mapping) or not batch.get("root"):
        return None
    return bytes.fromhex(str(batch["root"]).removeprefix("0x"))
