// The JavaScript side of tests/proofs/cases.py: what the browser verifier makes of one case,
// in the same shape ({ok: facts} or {error: {kind, part, problem}}), so both verifiers are held
// to the same expectations.
const hex = (lib, b) => lib.toHex(b);

function trustedHeader(lib, i) {
  const header = lib.readHeader(i.header);
  lib.expectHash(header, lib.parseHex(i.trustedHash, "trustedHash", "test"), "the test");
  return header;
}

const log = (lib, l) => ({ address: hex(lib, l.address), topics: l.topics.map((t) => hex(lib, t)), data: hex(lib, l.data) });

const RUNNERS = {
  header(lib, i) {
    const h = trustedHeader(lib, i);
    return { number: h.number, timestamp: h.timestamp, stateRoot: hex(lib, h.stateRoot), receiptsRoot: hex(lib, h.receiptsRoot) };
  },
  anchor(lib, i) {
    const block = lib.verifyAnchor(lib.readAnchor(i.anchor), lib.readTrust(i.trust), i.now, i.fresh);
    return {
      number: block.header.number,
      checkpointBlock: block.checkpoint.blockNumber,
      age: block.checkpoint.age,
      signers: [...block.checkpoint.signers].sort(),
      unknownSigners: block.checkpoint.unknownSigners.map((a) => hex(lib, a)).sort(),
    };
  },
  receipt(lib, i) {
    const receipt = lib.verifyReceipt(lib.readReceiptProof(i.receipt), trustedHeader(lib, i));
    return { logs: receipt.logs.map((l) => log(lib, l)) };
  },
  event(lib, i) {
    const topics = i.topics.map((t) => (t === null ? null : lib.parseHex(t, "topic", "test")));
    return log(lib, lib.verifyEvent(lib.readReceiptProof(i.receipt), trustedHeader(lib, i), lib.parseHex(i.address, "address", "test"), topics));
  },
  storage(lib, i) {
    const slots = i.slots.map((s) => lib.parseHex("0x" + BigInt(s).toString(16).padStart(64, "0"), "slot", "test"));
    const values = lib.verifyStorage(lib.readStorageProof(i.storage), trustedHeader(lib, i), lib.parseHex(i.address, "address", "test"), slots);
    return { values: Object.fromEntries([...values].map(([slot, value]) => [slot, "0x" + value.toString(16)])) };
  },
};

export function runCase(lib, c) {
  try {
    return { ok: RUNNERS[c.kind](lib, c.input) };
  } catch (error) {
    if (!(error instanceof lib.ProofError)) throw error;
    return { error: { kind: error.kind, part: error.part, problem: error.problem } };
  }
}
