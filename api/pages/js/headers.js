// Block headers in the browser: decode the RLP of every field, re-hash, and link to a trusted
// hash (a checkpoint's, or a child's parent hash). Mirrors ledger/proofs/headers.py.
import { decodeRlp, equal, invalid, keccak, parseBlob, readBytes, readField, readInt, readList, toBigInt, toHex } from "./codec.js";

const PART = "header";
const BASE_FIELDS = 15;
// [name, size in bytes or "int" or "bytes"], in the order of the RLP list; later hard forks append
const FIELDS = [
  ["parentHash", 32], ["sha3Uncles", 32], ["miner", 20], ["stateRoot", 32], ["transactionsRoot", 32],
  ["receiptsRoot", 32], ["logsBloom", 256], ["difficulty", "int"], ["number", "int"], ["gasLimit", "int"],
  ["gasUsed", "int"], ["timestamp", "int"], ["extraData", "bytes"], ["mixHash", 32], ["nonce", 8],
  ["baseFeePerGas", "int"], ["withdrawalsRoot", 32], ["blobGasUsed", "int"], ["excessBlobGas", "int"],
  ["parentBeaconBlockRoot", 32], ["requestsHash", 32],
];
const INDEX = Object.fromEntries(FIELDS.map(([name], i) => [name, i]));

export function decodeHeader(raw) {
  const item = decodeRlp(raw, PART, "the header");
  if (!Array.isArray(item) || item.length < BASE_FIELDS || item.length > FIELDS.length || !item.every((f) => f instanceof Uint8Array)) {
    throw invalid(PART, "malformed", `a header is a list of ${BASE_FIELDS} to ${FIELDS.length} fields`);
  }
  item.forEach((value, i) => {
    const [name, kind] = FIELDS[i];
    if (typeof kind === "number" && value.length !== kind) throw invalid(PART, "malformed", `${name} must be ${kind} bytes`);
    if (kind === "int") toBigInt(value, PART, name);
  });
  const int = (name) => Number(toBigInt(item[INDEX[name]], PART, name));
  return {
    rlp: raw,
    hash: keccak(raw),
    fields: item,
    number: int("number"),
    timestamp: int("timestamp"),
    parentHash: item[INDEX.parentHash],
    stateRoot: item[INDEX.stateRoot],
    receiptsRoot: item[INDEX.receiptsRoot],
  };
}

/** A header object {number, hash, rlp}; the claims must match what the RLP encodes. */
export function readHeader(obj) {
  const header = decodeHeader(parseBlob(readField(obj, "rlp"), "rlp", PART));
  if (readInt(obj, "number", PART) !== header.number) {
    throw invalid(PART, "claim_mismatch", `says block ${obj.number} but encodes ${header.number}`);
  }
  if (!equal(readBytes(obj, "hash", PART, 32), header.hash)) {
    throw invalid(PART, "hash_mismatch", `block ${header.number}'s fields do not hash to its stated hash`);
  }
  return header;
}

export function expectHash(header, trusted, source) {
  if (!equal(header.hash, trusted)) {
    throw invalid(PART, "hash_mismatch", `block ${header.number} hashes to ${toHex(header.hash)}, not to ${toHex(trusted)} as ${source} says: a field was changed`);
  }
}

/** Headers in ascending order, each the parent of the next; the last one trusted. */
export function verifyChain(headers, trustedLast, source) {
  if (headers.length === 0) throw invalid("header chain", "malformed", "the chain of headers is empty");
  expectHash(headers[headers.length - 1], trustedLast, source);
  for (let i = 1; i < headers.length; i++) {
    const [parent, child] = [headers[i - 1], headers[i]];
    if (!equal(child.parentHash, parent.hash) || child.number !== parent.number + 1) {
      throw invalid("header chain", "broken_link", `block ${child.number} does not have block ${parent.number} (${toHex(parent.hash)}) as its parent`);
    }
  }
}

export const readChain = (obj) => readList(obj, "headers", "header chain").map(readHeader);
