"""Anchors: how a block header comes to be trusted offline.

An anchor is ``{"headers": [A, ..., B], "checkpoint": C}``: the headers of consecutive blocks,
each the parent of the next, the last of which is the block checkpoint ``C`` signs. The
first header is the block the anchor vouches for. With one header the checkpoint signs that
block itself, which is what a status proof wants (its storage proofs taken at the
checkpoint's block); a registration's older block is either linked by the headers up to a
checkpoint (about 0.6 KB a header, so only over a short gap) or given a checkpoint of its own.

``anchor`` fetches the headers from a node; ``verify_anchor`` checks them against the trust
file. A checkpoint that vouches for a past fact (a registration) need not be fresh:
``fresh=False`` skips the age limit, never the signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.chain import Rpc
from ledger.errors import ProofInvalid
from ledger.proofs.checkpoint import Checkpoint, TrustedCheckpoint, verify_checkpoint
from ledger.proofs.headers import Header, fetch_header, read_chain, verify_chain
from ledger.proofs.trust import TrustFile

PART = "header chain"


@dataclass(frozen=True)
class Anchor:
    headers: tuple[Header, ...]
    checkpoint: Checkpoint

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": [h.to_json() for h in self.headers],
            "checkpoint": self.checkpoint.to_json(),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Anchor:
        checkpoint = obj.get("checkpoint") if isinstance(obj, Mapping) else None
        if not isinstance(checkpoint, Mapping):
            raise ProofInvalid("checkpoint", "malformed", "an anchor needs a checkpoint object")
        return cls(tuple(read_chain(obj)), Checkpoint.from_json(checkpoint))


@dataclass(frozen=True)
class AnchoredBlock:
    """A header now trusted, and the checkpoint that vouches for it."""

    header: Header
    checkpoint: TrustedCheckpoint


def anchor(rpc: Rpc, block: int, checkpoint: Checkpoint) -> Anchor:
    """The headers from ``block`` up to the checkpoint's block, with the checkpoint."""
    if checkpoint.block_number < block:
        raise ProofInvalid(
            PART,
            "malformed",
            f"checkpoint block {checkpoint.block_number} is before block {block}: "
            "a checkpoint vouches only for its block and earlier ones",
        )
    headers = tuple(fetch_header(rpc, n) for n in range(block, checkpoint.block_number + 1))
    return Anchor(headers, checkpoint)


def verify_anchor(
    anchored: Anchor, trust: TrustFile, now: int, fresh: bool = True
) -> AnchoredBlock:
    """The first header of ``anchored``, trusted through its chain and checkpoint."""
    if not anchored.headers:
        raise ProofInvalid(PART, "malformed", "the chain of headers is empty")
    last = anchored.headers[-1]
    trusted = verify_checkpoint(anchored.checkpoint, last, trust, now, fresh)
    verify_chain(anchored.headers, last.hash, "the checkpoint")
    return AnchoredBlock(anchored.headers[0], trusted)
