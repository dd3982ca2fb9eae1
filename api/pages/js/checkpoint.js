// Checkpoints and trust files in the browser: the EIP-712 statement "block N with hash H of
// chain C, contract A", its signers recovered (secp256k1) and held against the trust file.
// Mirrors ledger/proofs/checkpoint.py and trust.py.
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { ProofError, bigToBytes32, concat, equal, invalid, keccak, parseHex, readBytes, readInt, readList, toHex } from "./codec.js";
import { expectHash } from "./headers.js";

const PART = "checkpoint";
const text = (s) => new TextEncoder().encode(s);
const DOMAIN_TYPE = keccak(text("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"));
const CHECKPOINT_TYPE = keccak(text("Checkpoint(uint256 blockNumber,bytes32 blockHash,uint256 timestamp)"));
const NAME = keccak(text("TradeDocumentLedger Checkpoint"));
const VERSION = keccak(text("1"));
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const MAX_CLOCK_SKEW = 300;
const TRUST_FORMAT = "tradeledger-trust/1";

export const readCheckpoint = (obj) => ({
  chainId: readInt(obj, "chainId", PART),
  contract: readBytes(obj, "contract", PART, 20),
  blockNumber: readInt(obj, "blockNumber", PART),
  blockHash: readBytes(obj, "blockHash", PART, 32),
  timestamp: readInt(obj, "timestamp", PART),
  signatures: readList(obj, "signatures", PART).map((s, i) => parseHex(s, `signatures[${i}]`, PART)),
});

export function checkpointDigest(cp) {
  const int = (n) => bigToBytes32(BigInt(n));
  const domain = keccak(concat(DOMAIN_TYPE, NAME, VERSION, int(cp.chainId), concat(new Uint8Array(12), cp.contract)));
  const struct = keccak(concat(CHECKPOINT_TYPE, int(cp.blockNumber), cp.blockHash, int(cp.timestamp)));
  return keccak(concat(Uint8Array.of(0x19, 0x01), domain, struct));
}

/** The address whose key made `signature` (65 bytes r, s, v = 27/28, low s) over `digest`. */
export function recover(digest, signature, index) {
  if (signature.length !== 65 || (signature[64] !== 27 && signature[64] !== 28)) {
    throw invalid(PART, "bad_signature", `signature ${index} is not 65 bytes ending 27/28`);
  }
  const s = BigInt(toHex(signature.subarray(32, 64)));
  if (s > HALF_N) throw invalid(PART, "bad_signature", `signature ${index} has a high s (malleated)`);
  let key;
  try {
    const sig = secp256k1.Signature.fromBytes(concat(Uint8Array.of(signature[64] - 27), signature.subarray(0, 64)), "recovered");
    key = sig.recoverPublicKey(digest).toBytes(false);
  } catch {
    throw invalid(PART, "bad_signature", `signature ${index} recovers no key`);
  }
  return keccak(key.subarray(1)).subarray(12);
}

/** A trust file's JSON, checked; a bad one throws a plain Error saying what to fix. */
export function readTrust(obj) {
  const fail = (message) => new Error(`trust file: ${message}`);
  if (obj === null || typeof obj !== "object" || obj.format !== TRUST_FORMAT) throw fail(`not a trust file (its "format" must be "${TRUST_FORMAT}")`);
  const address = (value, name) => {
    if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw fail(`${name} must be a 0x-prefixed 20-byte address`);
    return parseHex(value.toLowerCase(), name, "trust");
  };
  const int = (key) => {
    if (!Number.isSafeInteger(obj[key])) throw fail(`${key} must be an integer`);
    return obj[key];
  };
  if (!Array.isArray(obj.signers)) throw fail("signers must be a list of {address, name}");
  const signers = obj.signers.map((s, i) => {
    if (s === null || typeof s !== "object" || typeof s.name !== "string") throw fail(`signers[${i}] must be {address, name}`);
    return { address: address(s.address, `signers[${i}].address`), name: s.name };
  });
  const trust = { chainId: int("chainId"), contract: address(obj.contract, "contract"), signers, threshold: int("threshold"), maxAge: int("maxAgeSeconds") };
  if (trust.chainId <= 0) throw fail("chainId must be a positive integer");
  if (signers.length === 0) throw fail("signers must list at least one 20-byte address");
  if (new Set(signers.map((s) => toHex(s.address))).size !== signers.length) throw fail("a signer is listed twice");
  if (trust.threshold < 1 || trust.threshold > signers.length) throw fail(`threshold must be between 1 and the ${signers.length} signers`);
  if (trust.maxAge <= 0) throw fail("maxAgeSeconds must be a positive number of seconds");
  return trust;
}

/** The checkpoint against the trust file and its block's header at time `now` (fresh=false: no age limit). */
export function verifyCheckpoint(cp, header, trust, now, fresh = true) {
  if (cp.chainId !== trust.chainId) throw invalid(PART, "wrong_chain", `is for chain ${cp.chainId}; the trust file is for chain ${trust.chainId}`);
  if (!equal(cp.contract, trust.contract)) throw invalid(PART, "wrong_contract", `is for contract ${toHex(cp.contract)}; the trust file is for ${toHex(trust.contract)}`);
  expectHash(header, cp.blockHash, "the checkpoint");
  if (header.number !== cp.blockNumber || header.timestamp !== cp.timestamp) {
    throw invalid(PART, "block_mismatch", `signs block ${cp.blockNumber} at ${cp.timestamp}, but that hash is block ${header.number} at ${header.timestamp}`);
  }
  const digest = checkpointDigest(cp);
  const trusted = new Map();
  const unknown = new Map();
  cp.signatures.forEach((signature, i) => {
    const address = recover(digest, signature, i);
    const signer = trust.signers.find((s) => equal(s.address, address));
    if (signer) trusted.set(toHex(address), signer.name);
    else unknown.set(toHex(address), address);
  });
  if (trusted.size < trust.threshold) {
    const also = unknown.size ? `; also signed by ${[...unknown.keys()].join(", ")}, which it does not list` : "";
    throw invalid(PART, unknown.size ? "unknown_signer" : "below_threshold", `signed by ${trusted.size} of the trust file's keys, ${trust.threshold} needed${also}`);
  }
  const age = now - cp.timestamp;
  const date = new Date(cp.timestamp * 1000).toISOString();
  if (fresh && age > trust.maxAge) {
    throw new ProofError("stale", PART, "too_old", `block ${cp.blockNumber} of ${date} is ${age} s old; the trust file accepts at most ${trust.maxAge} s: get a fresher bundle`);
  }
  if (age < -MAX_CLOCK_SKEW) {
    throw new ProofError("stale", PART, "in_future", `block ${cp.blockNumber} of ${date} is ${-age} s ahead of this computer's clock: check the clock`);
  }
  return { blockNumber: cp.blockNumber, blockHash: cp.blockHash, timestamp: cp.timestamp, age, signers: [...trusted.values()], unknownSigners: [...unknown.values()] };
}
