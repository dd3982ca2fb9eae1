// An independent check of the project's Merkle-Patricia proofs: @ethereumjs/mpt (code no one
// here wrote) verifies each {root, key, nodes (hex)} of the JSON file named on the command line
// and prints, per check, the proven value as hex, null for a proven absence, or
// {"error": message} where it rejects the proof.
import { readFileSync } from "node:fs";
import { verifyMerkleProof } from "@ethereumjs/mpt";
import { bytesToHex, hexToBytes } from "@ethereumjs/util";

const checks = JSON.parse(readFileSync(process.argv[2], "utf8"));
const results = [];
for (const { root, key, nodes } of checks) {
  try {
    const value = await verifyMerkleProof(hexToBytes(key), nodes.map((n) => hexToBytes("0x" + n)), { root: hexToBytes(root) });
    results.push(value === null ? null : bytesToHex(value));
  } catch (error) {
    results.push({ error: String(error.message || error) });
  }
}
console.log(JSON.stringify(results));
