// Anchors in the browser: headers linked up to the block a checkpoint signs; the first header
// is then trusted. Mirrors ledger/proofs/anchor.py.
import { invalid, readField } from "./codec.js";
import { readCheckpoint, verifyCheckpoint } from "./checkpoint.js";
import { readChain, verifyChain } from "./headers.js";

export function readAnchor(obj) {
  const checkpoint = readField(obj, "checkpoint");
  if (checkpoint === null || typeof checkpoint !== "object" || Array.isArray(checkpoint)) {
    throw invalid("checkpoint", "malformed", "an anchor needs a checkpoint object");
  }
  return { headers: readChain(obj), checkpoint: readCheckpoint(checkpoint) };
}

/** {header, checkpoint}: the anchor's first header, trusted through its chain and checkpoint. */
export function verifyAnchor(anchored, trust, now, fresh = true) {
  if (anchored.headers.length === 0) throw invalid("header chain", "malformed", "the chain of headers is empty");
  const last = anchored.headers[anchored.headers.length - 1];
  const checkpoint = verifyCheckpoint(anchored.checkpoint, last, trust, now, fresh);
  verifyChain(anchored.headers, last.hash, "the checkpoint");
  return { header: anchored.headers[0], checkpoint };
}
