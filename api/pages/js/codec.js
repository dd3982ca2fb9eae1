// The wire form of proof material in the browser: hex identifiers, base64 blobs, canonical
// RLP, integers, and the one error type. Mirrors ledger/proofs/codec.py: the same malformed input fails with the same
// part and problem.
import { keccak_256 } from "@noble/hashes/sha3.js";

/** A proof that cannot be relied on: kind "invalid" (INVALID) or "stale" (UNVERIFIABLE). */
export class ProofError extends Error {
  constructor(kind, part, problem, message) {
    super(`${part}: ${message}`);
    this.kind = kind;
    this.part = part;
    this.problem = problem;
  }
}

export const invalid = (part, problem, message) => new ProofError("invalid", part, problem, message);

export const keccak = (bytes) => keccak_256(bytes);

export function parseHex(value, name, part, size) {
  if (typeof value !== "string" || !value.startsWith("0x") || value.length % 2) {
    throw invalid(part, "malformed", `${name} must be a 0x-prefixed hex string`);
  }
  if (!/^[0-9a-fA-F]*$/.test(value.slice(2))) throw invalid(part, "malformed", `${name} is not hexadecimal`);
  const out = new Uint8Array((value.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(value.substr(2 + 2 * i, 2), 16);
  if (size !== undefined && out.length !== size) {
    throw invalid(part, "malformed", `${name} must be ${size} bytes, not ${out.length}`);
  }
  return out;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A base64 string (standard alphabet, padded, nothing else) as bytes: trie nodes, header RLP. */
export function parseBlob(value, name, part) {
  if (typeof value !== "string" || !BASE64.test(value)) throw invalid(part, "malformed", `${name} must be a base64 string`);
  const text = atob(value);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export const toHex = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function readField(obj, key) {
  return obj !== null && typeof obj === "object" && !Array.isArray(obj) ? obj[key] : undefined;
}

export const readBytes = (obj, key, part, size) => parseHex(readField(obj, key), key, part, size);

export function readInt(obj, key, part) {
  const value = readField(obj, key);
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(part, "malformed", `${key} must be a non-negative integer`);
  return value;
}

export function readList(obj, key, part) {
  const value = readField(obj, key);
  if (!Array.isArray(value)) throw invalid(part, "malformed", `${key} must be a list`);
  return value;
}

export const readNodes = (obj, key, part) =>
  readList(obj, key, part).map((v, i) => parseBlob(v, `${key}[${i}]`, part));

const MAX_RLP_DEPTH = 16; // headers, trie nodes and receipts nest 4 deep at most

/** A canonical RLP item: a Uint8Array or an array of items; anything else is malformed. */
export function decodeRlp(bytes, part, what) {
  const fail = () => invalid(part, "malformed", `${what} is not valid RLP`);
  function length(at, n) {
    if (n === 0 || at + n > bytes.length || bytes[at] === 0) throw fail();
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[at + i];
    if (len < 56) throw fail();
    return len;
  }
  function item(at, depth) {
    if (at >= bytes.length || depth > MAX_RLP_DEPTH) throw fail();
    const p = bytes[at];
    let start, len, list;
    if (p < 0x80) return [bytes.subarray(at, at + 1), at + 1];
    if (p <= 0xb7) [start, len, list] = [at + 1, p - 0x80, false];
    else if (p <= 0xbf) [start, len, list] = [at + 1 + p - 0xb7, length(at + 1, p - 0xb7), false];
    else if (p <= 0xf7) [start, len, list] = [at + 1, p - 0xc0, true];
    else [start, len, list] = [at + 1 + p - 0xf7, length(at + 1, p - 0xf7), true];
    const end = start + len;
    if (end > bytes.length) throw fail();
    if (!list) {
      if (len === 1 && bytes[start] < 0x80) throw fail();
      return [bytes.subarray(start, end), end];
    }
    const items = [];
    for (let pos = start; pos < end; ) {
      const [child, next] = item(pos, depth + 1);
      if (next > end) throw fail();
      items.push(child);
      pos = next;
    }
    return [items, end];
  }
  const [result, end] = item(0, 0);
  if (end !== bytes.length) throw fail();
  return result;
}

/** An RLP scalar (big-endian, no leading zero) as a BigInt. */
export function toBigInt(raw, part, what) {
  if (!(raw instanceof Uint8Array) || raw[0] === 0) throw invalid(part, "malformed", `${what} is not an RLP integer`);
  let n = 0n;
  for (const b of raw) n = (n << 8n) | BigInt(b);
  return n;
}

export function bigToBytes32(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The RLP of a non-negative integer (as the receipts trie's keys are). */
export function encodeIndex(n) {
  if (n === 0) return Uint8Array.of(0x80);
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes.length === 1 && bytes[0] < 0x80) return Uint8Array.of(bytes[0]);
  return Uint8Array.of(0x80 + bytes.length, ...bytes);
}
