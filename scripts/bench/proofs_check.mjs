// The whole offline check of one registration with the browser's verifier, as
// scripts/bench/proofs.py's check() does it in Python: the registration's block trusted
// through its checkpoint, its event proven in that block, then the status block trusted
// through a fresh checkpoint and the two storage slots proven in it. Runs in Node and in
// the browser (`lib` is the bundle api/pages/static/proofs.js).
export function check(lib, material, expect) {
  const trust = lib.readTrust(expect.trust);
  const contract = lib.parseHex(expect.contract, "contract", "bench");
  const registration = lib.verifyAnchor(lib.readAnchor(material.registration.anchor), trust, expect.now, false);
  const topics = expect.topics.map((t) => lib.parseHex(t, "topic", "bench"));
  lib.verifyEvent(lib.readReceiptProof(material.registration.receipt), registration.header, contract, topics);
  const status = lib.verifyAnchor(lib.readAnchor(material.status.anchor), trust, expect.now, true);
  const slots = expect.slots.map((s) => lib.parseHex("0x" + BigInt(s).toString(16).padStart(64, "0"), "slot", "bench"));
  return lib.verifyStorage(lib.readStorageProof(material.status.storage), status.header, contract, slots);
}

export function median(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** {first_ms, median_ms} of `runs` whole checks of input {material, expect}. */
export function timeChecks(lib, input, runs) {
  const started = performance.now();
  check(lib, input.material, input.expect);
  const first = performance.now() - started;
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    check(lib, input.material, input.expect);
    times.push(performance.now() - t);
  }
  return { first_ms: first, median_ms: median(times) };
}
