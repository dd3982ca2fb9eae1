// Offline verification of the ledger's proof material in the browser: block headers, receipt
// and storage proofs, checkpoints and trust files. Bundled with @noble/hashes (keccak) and
// @noble/curves (secp256k1) into ../static/proofs.js by scripts/build-js; the same verdicts,
// part for part, as the Python verifier in ledger/proofs/.
export { ProofError, parseBlob, parseHex, toHex } from "./codec.js";
export { decodeHeader, expectHash, readChain, readHeader, verifyChain } from "./headers.js";
export { walk } from "./mpt.js";
export { decodeReceipt, readReceiptProof, verifyEvent, verifyReceipt } from "./receipts.js";
export { mappingSlot, readStorageProof, verifyAccount, verifyStorage } from "./storage.js";
export { checkpointDigest, readCheckpoint, readTrust, recover, verifyCheckpoint } from "./checkpoint.js";
export { readAnchor, verifyAnchor } from "./anchor.js";
