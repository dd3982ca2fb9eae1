// Read links: open a sealed document here, in the browser, with the read key from the link's
// fragment (#k=<base64url>, never sent to any server), by Web Crypto's AES-GCM.
// Format (docs/confidential.md): a 25-byte header "TDLSEAL" | version 1 | kind | salt(16),
// then chunks of 64 KiB + 16-byte tag; chunk i's nonce is i (11 bytes, big-endian) | last
// flag, its associated data the header. Nothing is returned unless every chunk opens.
"use strict";
(() => {
const MAGIC = [0x54, 0x44, 0x4c, 0x53, 0x45, 0x41, 0x4c]; // "TDLSEAL"
const VERSION = 1, CONTENT = 1, HEADER = 25, CHUNK = 65536, TAG = 16, SEALED = CHUNK + TAG;

class SealBroken extends Error {}

// The 32-byte read key from "#k=...", "k=..." (among other fragment parameters) or the bare key.
function readKey(text) {
  let t = String(text || "").trim().replace(/^#/, "");
  const m = /(?:^|&)k=([^&]*)/.exec(t);
  if (m) t = m[1];
  if (!/^[A-Za-z0-9_-]{43}$/.test(t)) {
    throw new SealBroken("the read key is not 43 base64url characters: copy the whole link again");
  }
  const raw = atob(t.replace(/-/g, "+").replace(/_/g, "/") + "=");
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function nonce(index, last) {
  const n = new Uint8Array(12);
  for (let b = 10, x = index; b >= 0 && x > 0; b--, x = Math.floor(x / 256)) n[b] = x % 256;
  n[11] = last ? 1 : 0;
  return n;
}

// The plaintext of a sealed document (ArrayBuffer or Uint8Array) opened with a 32-byte read
// key; rejects with SealBroken for a wrong key or an altered, reordered or truncated object.
async function open(sealed, key, onProgress) {
  if (!(window.crypto && crypto.subtle)) {
    throw new SealBroken("this browser offers no Web Crypto here: open the link over HTTPS");
  }
  const bytes = sealed instanceof Uint8Array ? sealed : new Uint8Array(sealed);
  if (bytes.length < HEADER || MAGIC.some((c, i) => bytes[i] !== c)) {
    throw new SealBroken("this is not a sealed document (no TDLSEAL header)");
  }
  if (bytes[7] !== VERSION) throw new SealBroken(`sealed with format version ${bytes[7]}; this page reads ${VERSION}`);
  if (bytes[8] !== CONTENT) throw new SealBroken("this sealed object is not a document's content");
  const aad = bytes.subarray(0, HEADER);
  const body = bytes.length - HEADER;
  const chunks = Math.max(1, Math.ceil(body / SEALED));
  if (body - (chunks - 1) * SEALED < TAG) {
    throw new SealBroken("the sealed document ends before its final chunk: it was truncated");
  }
  let k;
  try {
    k = await crypto.subtle.importKey("raw", key, { name: "AES-GCM" }, false, ["decrypt"]);
  } catch (e) {
    throw new SealBroken("the read key is not a 32-byte AES key: copy the whole link again");
  }
  const out = new Uint8Array(body - chunks * TAG);
  for (let i = 0; i < chunks; i++) {
    const start = HEADER + i * SEALED, last = i === chunks - 1;
    let plain;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce(i, last), additionalData: aad, tagLength: 128 },
        k, bytes.subarray(start, Math.min(start + SEALED, bytes.length))));
    } catch (e) {
      throw new SealBroken(i === 0
        ? "the document does not open with this read key: the key is wrong or the document was altered"
        : `the document does not open at chunk ${i}: it was altered, reordered or cut short`);
    }
    if (last && i > 0 && plain.length === 0) throw new SealBroken("the document ends with an empty chunk: it was altered");
    out.set(plain, i * CHUNK);
    if (onProgress) onProgress((i + 1) / chunks);
  }
  return out;
}

window.TDLUnseal = { readKey, open, SealBroken };
})();
