// Merkle-Patricia proofs in the browser: from a trusted root, through the proof's nodes (each
// new one hashing to its parent's reference; one met before is met again by its hash), to a
// key's value (null: the proof shows the key absent). Mirrors ledger/proofs/mpt.py, problem
// for problem: node_mismatch, incomplete, extra_nodes, malformed.
import { decodeRlp, equal, invalid, keccak, toHex } from "./codec.js";

const EMPTY_ROOT = keccak(Uint8Array.of(0x80));

function nibbles(key) {
  const out = [];
  for (const b of key) out.push(b >> 4, b & 15);
  return out;
}

export class Nodes {
  constructor(raw, part) {
    this.raw = raw;
    this.part = part;
    this.used = 0;
    this.met = new Map();
  }

  fail(problem, message) {
    return invalid(this.part, problem, message);
  }

  take(reference, label) {
    const known = this.met.get(toHex(reference));
    if (known !== undefined) return known;
    if (this.used === this.raw.length) throw this.fail("incomplete", `${label}the proof ends after ${this.used} nodes, before the key's path`);
    if (!equal(keccak(this.raw[this.used]), reference)) {
      throw this.fail("node_mismatch", `${label}node ${this.used} does not hash to what the root or its parent references`);
    }
    const node = decodeRlp(this.raw[this.used], this.part, `${label}node ${this.used}`);
    this.met.set(toHex(reference), node);
    this.used += 1;
    return node;
  }

  /** The value under `key` in the trie of `root` (null: proven absent). */
  walk(root, key, label = "") {
    if (equal(root, EMPTY_ROOT)) return null;
    const path = nibbles(key);
    let reference = root;
    for (;;) {
      const node = Array.isArray(reference) ? reference : this.take(reference, label);
      if (!Array.isArray(node)) throw this.fail("malformed", `${label}a trie node is not a list`);
      if (node.length === 17) {
        if (path.length === 0) return this.value(node[16], label);
        const child = node[path.shift()];
        if (child instanceof Uint8Array && child.length === 0) return null;
        reference = this.reference(child, label);
      } else if (node.length === 2) {
        const encoded = node[0];
        if (!(encoded instanceof Uint8Array)) throw this.fail("malformed", `${label}a trie node has a bad path`);
        const [segment, leaf] = this.hexPrefix(encoded, label);
        if (leaf) return segment.length === path.length && segment.every((n, i) => n === path[i]) ? this.value(node[1], label) : null;
        if (segment.length === 0) throw this.fail("malformed", `${label}an extension node extends by no nibble`);
        if (!segment.every((n, i) => n === path[i])) return null;
        path.splice(0, segment.length);
        reference = this.reference(node[1], label);
      } else throw this.fail("malformed", `${label}a trie node has ${node.length} items`);
    }
  }

  /** Every node was on some key's path. */
  finish() {
    if (this.used !== this.raw.length) {
      throw this.fail("extra_nodes", `${this.raw.length - this.used} node(s) are on no proven key's path: a proof of another key?`);
    }
  }

  hexPrefix(encoded, label) {
    const flag = encoded.length ? encoded[0] >> 4 : 99;
    if (flag > 3 || ((flag === 0 || flag === 2) && encoded[0] & 15)) throw this.fail("malformed", `${label}a trie node has a bad path prefix`);
    return [nibbles(encoded).slice(flag & 1 ? 1 : 2), Boolean(flag & 2)];
  }

  reference(child, label) {
    if (Array.isArray(child) || (child instanceof Uint8Array && child.length === 32)) return child;
    throw this.fail("malformed", `${label}a trie node holds a bad child reference`);
  }

  value(value, label) {
    if (!(value instanceof Uint8Array)) throw this.fail("malformed", `${label}a trie value is not a byte string`);
    return value.length ? value : null;
  }
}

/** The value under `key` that the proof `nodes` (of that key alone) shows. */
export function walk(root, key, nodes, part) {
  const proof = new Nodes(nodes, part);
  const value = proof.walk(root, key);
  proof.finish();
  return value;
}
