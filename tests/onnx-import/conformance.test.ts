/**
 * @file ONNX's own conformance suite (the backend node tests of Debian's libonnx-testdata) through
 * tg.onnx.importModel: every test whose ops are all supported must pass, except those listed
 * with a reason in expected-failures.txt. Skipped when the package is not installed.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { NODE_TESTS, runAll } from "./conformance.ts";

const listed = new Map(
  readFileSync(new URL("expected-failures.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .map((l) => {
      const [name, ...reason] = l.trim().split(/\s+/);
      return [name!, reason.join(" ")] as const;
    }),
);

test("ONNX backend node tests (libonnx-testdata)", { skip: existsSync(NODE_TESTS) ? false : `${NODE_TESTS} is absent: apt-get install libonnx-testdata` }, () => {
  const results = runAll();
  const count = { passed: 0, failed: 0, unsupported: 0 };
  const unexpected: string[] = [];
  for (const [name, r] of results) {
    count[r.status]++;
    if (r.status === "failed" && !listed.has(name)) unexpected.push(`${name}: ${r.reason}`);
    if (r.status !== "failed" && listed.has(name)) unexpected.push(`${name} is listed in expected-failures.txt but is ${r.status}: remove it`);
  }
  for (const name of listed.keys()) if (!results.has(name)) unexpected.push(`${name} (expected-failures.txt) is not a test in ${NODE_TESTS}`);
  console.log(`onnx conformance: ${count.passed} passed, ${count.failed} failed, ${count.unsupported} not supported (of ${results.size})`);
  assert.deepEqual(unexpected, []);
});
