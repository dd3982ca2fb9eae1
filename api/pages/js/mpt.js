// Merkle-Patricia proofs in the browser: from a trusted root, through the proof's nodes, to a
// key's value (null: the proof shows the key absent). Mirrors ledger/proofs/mpt.py, problem
// for problem: node_mismatch, incomplete, extra_nodes, malformed.
import { decodeRlp, equal, invalid, keccak } from "./codec.js";

const EMPTY_ROOT = keccak(Uint8Array.of(0x80));

function nibbles(key) {
  const out = [];
  for (const b of key) out.push(b >> 4, b & 15);
  return out;
}

export function walk(root, key, nodes, part, label = "") {
  const fail = (problem, message) => invalid(part, problem, label + message);
  const path = nibbles(key);
  if (equal(root, EMPTY_ROOT) && nodes.length === 0) return null;
  let reference = root;
  let used = 0;
  let value;
  for (;;) {
    let node;
    if (Array.isArray(reference)) node = reference; // embedded in its parent
    else {
      if (used === nodes.length) throw fail("incomplete", `the proof ends after ${used} nodes, before the key's path`);
      if (!equal(keccak(nodes[used]), reference)) {
        const where = used === 0 ? "the root" : `node ${used - 1}`;
        throw fail("node_mismatch", `node ${used} does not hash to what ${where} references`);
      }
      node = decodeRlp(nodes[used], part, `node ${used}`);
      used += 1;
    }
    if (!Array.isArray(node)) throw fail("malformed", `node ${used - 1} is not a list`);
    if (node.length === 17) {
      if (path.length === 0) {
        value = leafValue(node[16], part);
        break;
      }
      const child = node[path.shift()];
      if (child instanceof Uint8Array && child.length === 0) {
        value = null;
        break;
      }
      reference = childReference(child, part, used);
    } else if (node.length === 2) {
      const encoded = node[0];
      if (!(encoded instanceof Uint8Array)) throw fail("malformed", `node ${used - 1} has a bad path`);
      const [segment, leaf] = hexPrefix(encoded, part);
      if (leaf) {
        value = segment.length === path.length && segment.every((n, i) => n === path[i]) ? leafValue(node[1], part) : null;
        break;
      }
      if (segment.length === 0) throw fail("malformed", `node ${used - 1} extends by no nibble`);
      if (!segment.every((n, i) => n === path[i])) {
        value = null;
        break;
      }
      path.splice(0, segment.length);
      reference = childReference(node[1], part, used);
    } else throw fail("malformed", `node ${used - 1} has ${node.length} items`);
  }
  if (used !== nodes.length) {
    throw fail("extra_nodes", `${nodes.length - used} node(s) follow the end of the key's path: a proof of another key?`);
  }
  return value;
}

function hexPrefix(encoded, part) {
  const flag = encoded.length ? encoded[0] >> 4 : 99;
  if (flag > 3 || ((flag === 0 || flag === 2) && encoded[0] & 15)) {
    throw invalid(part, "malformed", "a trie node has a bad path prefix");
  }
  return [nibbles(encoded).slice(flag & 1 ? 1 : 2), Boolean(flag & 2)];
}

function childReference(child, part, used) {
  if (Array.isArray(child) || (child instanceof Uint8Array && child.length === 32)) return child;
  throw invalid(part, "malformed", `node ${used - 1} holds a bad child reference`);
}

function leafValue(value, part) {
  if (!(value instanceof Uint8Array)) throw invalid(part, "malformed", "a trie value is not a byte string");
  return value.length ? value : null;
}
