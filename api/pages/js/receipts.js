// Receipt proofs in the browser: a receipt proven in a header's receiptsRoot, and the one log
// the proof points at, checked to be the expected event. Mirrors ledger/proofs/receipts.py.
import { decodeRlp, encodeIndex, equal, invalid, readInt, readNodes, toBigInt, toHex } from "./codec.js";
import { walk } from "./mpt.js";

const PART = "receipt";

export const readReceiptProof = (obj) => ({
  txIndex: readInt(obj, "txIndex", PART),
  logPosition: readInt(obj, "logPosition", PART),
  nodes: readNodes(obj, "nodes", PART),
});

export function decodeReceipt(value) {
  const item = decodeRlp(value[0] < 0x80 ? value.subarray(1) : value, PART, "the receipt");
  if (!Array.isArray(item) || item.length !== 4 || !Array.isArray(item[3])) {
    throw invalid(PART, "malformed", "a receipt is [status, gas, bloom, logs]");
  }
  const logs = item[3].map((log, i) => {
    const bytes = (x) => x instanceof Uint8Array;
    if (!Array.isArray(log) || log.length !== 3 || !bytes(log[0]) || log[0].length !== 20 || !Array.isArray(log[1]) ||
        !log[1].every((t) => bytes(t) && t.length === 32) || !bytes(log[2])) {
      throw invalid(PART, "malformed", `log ${i} is not [address, topics, data]`);
    }
    return { address: log[0], topics: log[1], data: log[2] };
  });
  const status = toBigInt(item[0], PART, "status");
  return { status, cumulativeGasUsed: toBigInt(item[1], PART, "cumulativeGasUsed"), logs };
}

export function verifyReceipt(proof, header) {
  const value = walk(header.receiptsRoot, encodeIndex(proof.txIndex), proof.nodes, PART);
  if (value === null) throw invalid(PART, "absent", `block ${header.number} has no transaction ${proof.txIndex}`);
  const receipt = decodeReceipt(value);
  if (receipt.status !== 1n) throw invalid(PART, "failed_transaction", `transaction ${proof.txIndex} reverted`);
  return receipt;
}

/** The log the proof points at; it must come from `address` and begin with `topics` (null: any). */
export function verifyEvent(proof, header, address, topics) {
  const { logs } = verifyReceipt(proof, header);
  if (proof.logPosition >= logs.length) {
    throw invalid("event", "no_such_log", `transaction ${proof.txIndex} has ${logs.length} logs, none at ${proof.logPosition}`);
  }
  const log = logs[proof.logPosition];
  if (!equal(log.address, address)) {
    throw invalid("event", "unexpected_event", `log ${proof.logPosition} comes from ${toHex(log.address)}, not ${toHex(address)}`);
  }
  topics.forEach((wanted, i) => {
    if (wanted !== null && (i >= log.topics.length || !equal(log.topics[i], wanted))) {
      throw invalid("event", "unexpected_event", `log ${proof.logPosition} is not the expected event (topic ${i} differs)`);
    }
  });
  return log;
}
