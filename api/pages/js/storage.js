// Storage proofs in the browser: an account proven in a header's stateRoot, then each wanted
// slot in its storageRoot (absent: zero). Mirrors ledger/proofs/storage.py.
import { bigToBytes32, concat, decodeRlp, equal, invalid, keccak, readBytes, readList, readNodes, toBigInt, toHex } from "./codec.js";
import { walk } from "./mpt.js";

const PART = "storage";

export function readStorageProof(obj) {
  const slots = new Map();
  readList(obj, "slots", PART).forEach((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw invalid(PART, "malformed", `slots[${i}] must be an object`);
    const slot = toHex(readBytes(item, "slot", PART, 32));
    if (slots.has(slot)) throw invalid(PART, "malformed", `slot ${slot} is proven twice`);
    slots.set(slot, readNodes(item, "nodes", PART));
  });
  return {
    address: readBytes(obj, "address", "account", 20),
    accountNodes: readNodes(obj, "accountNodes", "account"),
    slots,
  };
}

/** The slot of m[k1][k2]... for a mapping m declared at `slot` (keys: 32-byte words or 20-byte addresses). */
export function mappingSlot(slot, ...keys) {
  let at = bigToBytes32(BigInt(slot));
  for (const key of keys) {
    const word = key.length === 20 ? concat(new Uint8Array(12), key) : key;
    at = keccak(concat(word, at));
  }
  return at;
}

export function verifyAccount(proof, header, address) {
  if (!equal(proof.address, address)) throw invalid("account", "wrong_account", `proves ${toHex(proof.address)}, not ${toHex(address)}`);
  const value = walk(header.stateRoot, keccak(address), proof.accountNodes, "account");
  if (value === null) throw invalid("account", "absent", `no account ${toHex(address)} at block ${header.number}`);
  const item = decodeRlp(value, "account", "the account");
  if (!Array.isArray(item) || item.length !== 4 || !item.every((x) => x instanceof Uint8Array) || item[2].length !== 32 || item[3].length !== 32) {
    throw invalid("account", "malformed", "an account is [nonce, balance, root, code]");
  }
  return { nonce: toBigInt(item[0], "account", "nonce"), balance: toBigInt(item[1], "account", "balance"), storageRoot: item[2], codeHash: item[3] };
}

/** Map of slot (0x-hex, 32 bytes) -> value (BigInt) of `address` as of the header's block. */
export function verifyStorage(proof, header, address, slots) {
  const account = verifyAccount(proof, header, address);
  const values = new Map();
  for (const slotBytes of slots) {
    const slot = toHex(slotBytes);
    const nodes = proof.slots.get(slot);
    if (nodes === undefined) throw invalid(PART, "missing_slot", `no proof of slot ${hexNumber(slot)}`);
    const where = `slot ${hexNumber(slot)}`;
    const raw = walk(account.storageRoot, keccak(slotBytes), nodes, PART, `${where}: `);
    values.set(slot, raw === null ? 0n : toBigInt(decodeRlp(raw, PART, where), PART, where));
  }
  return values;
}

const hexNumber = (slot) => "0x" + (BigInt(slot).toString(16));
