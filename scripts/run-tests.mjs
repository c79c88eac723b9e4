#!/usr/bin/env node
/** @file Runs every tests/**\/*.test.ts file with Node's built-in test runner (TypeScript via tsx). */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = findTests("tests").filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
// every test imports the wasm host glue, which imports the declarations build-wasm.ts generates (gitignored)
if (!existsSync("src/backend/wasm/kernels.generated.ts")) {
  const built = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-wasm.ts"], { stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
