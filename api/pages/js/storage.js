// Storage proofs in the browser: an account proven in a header's stateRoot, then the proven
// slots (their paths' nodes merged, each once) in its storageRoot (absent: zero). Mirrors ledger/proofs/storage.py.
import { bigToBytes32, concat, decodeRlp, equal, invalid, keccak, parseHex, readBytes, readList, readNodes, toBigInt, toHex } from "./codec.js";
import { Nodes, walk } from "./mpt.js";

const PART = "storage";

export function readStorageProof(obj) {
  const slots = readList(obj, "slots", PART).map((s, i) => parseHex(s, `slots[${i}]`, PART, 32));
  if (new Set(slots.map(toHex)).size !== slots.length) throw invalid(PART, "malformed", "a slot is listed twice");
  return {
    address: readBytes(obj, "address", "account", 20),
    accountNodes: readNodes(obj, "accountNodes", "account"),
    slots,
    nodes: readNodes(obj, "storageNodes", PART),
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
  const proven = new Set(proof.slots.map(toHex));
  for (const slot of slots) {
    if (!proven.has(toHex(slot))) throw invalid(PART, "missing_slot", `no proof of slot ${hexNumber(toHex(slot))}`);
  }
  const nodes = new Nodes(proof.nodes, PART);
  const values = new Map();
  for (const slotBytes of proof.slots) {
    const slot = toHex(slotBytes);
    const where = `slot ${hexNumber(slot)}`;
    const raw = nodes.walk(account.storageRoot, keccak(slotBytes), `${where}: `);
    values.set(slot, raw === null ? 0n : toBigInt(decodeRlp(raw, PART, where), PART, where));
  }
  nodes.finish();
  return values;
}

const hexNumber = (slot) => "0x" + BigInt(slot).toString(16);
