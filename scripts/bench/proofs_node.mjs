// Node side of scripts/bench/proofs.py: times the browser verifier's whole check (first run
// and median) and, as the baseline, the same trie walks with @ethereumjs/mpt and the same
// signature recoveries with noble directly. Usage: node proofs_node.mjs BUNDLE CASE RUNS
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { verifyMerkleProof } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { hexToBytes } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { median, timeChecks } from "./proofs_check.mjs";

const [bundle, casePath, runsArg] = process.argv.slice(2);
const lib = await import(pathToFileURL(bundle).href);
const input = JSON.parse(readFileSync(casePath, "utf8"));
const runs = Number(runsArg);

const blob = (b) => Buffer.from(b, "base64");

async function reference({ material }) {
  for (const part of ["registration", "status"]) {
    const cp = lib.readCheckpoint(material[part].anchor.checkpoint);
    const digest = lib.checkpointDigest(cp);
    for (let i = 0; i < cp.signatures.length; i++) lib.recover(digest, cp.signatures[i], i);
  }
  const header = RLP.decode(lib.parseBlob(material.registration.anchor.headers[0].rlp, "rlp", "bench"));
  const receipt = material.registration.receipt;
  await verifyMerkleProof(RLP.encode(receipt.txIndex), receipt.nodes.map(blob), { root: header[5] });
  const state = RLP.decode(lib.parseBlob(material.status.anchor.headers[0].rlp, "rlp", "bench"));
  const storage = material.status.storage;
  const account = await verifyMerkleProof(keccak_256(hexToBytes(storage.address)), storage.accountNodes.map(blob), { root: state[3] });
  const storageRoot = RLP.decode(account)[2];
  for (const slot of storage.slots) {
    await verifyMerkleProof(keccak_256(hexToBytes(slot)), storage.storageNodes.map(blob), { root: storageRoot });
  }
}

const ours = timeChecks(lib, input, runs);
await reference(input);
const times = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await reference(input);
  times.push(performance.now() - t);
}
console.log(JSON.stringify({ ...ours, reference_ms: median(times) }));
