// The browser verifier (the bundle the pages ship, api/pages/static/proofs.js) on the cases the
// Python verifier runs: honest proofs from real nodes and the tamper matrix. The cases file is
// written by tests/proofs/test_browser.py and named in PROOF_CASES.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { runCase } from "./harness.mjs";

const lib = await import(pathToFileURL(process.env.PROOF_BUNDLE).href);
const cases = JSON.parse(readFileSync(process.env.PROOF_CASES, "utf8"));

for (const c of cases) {
  test(c.name, () => {
    assert.deepEqual(runCase(lib, c), c.expect);
  });
}
