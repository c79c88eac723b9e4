#!/usr/bin/env node
/**
 * @file The line budget: fails when src/ (TypeScript and the AssemblyScript kernels, generated files
 * excluded) grows past BUDGET lines or a source file past FILE_LIMIT, so growth is a decision:
 * raising BUDGET is a commit that says why. The README's development section states the same figures.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export const BUDGET = 22_560;
export const FILE_LIMIT = 600;

/** The budgeted sources: every .ts file under src/ but build outputs and generated bindings. */
function* sources(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "build" && e.name !== "node_modules") yield* sources(p);
    } else if (e.name.endsWith(".ts") && !e.name.endsWith(".generated.ts")) yield p;
  }
}

function lineCount(text) {
  return text.length === 0 ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

const root = new URL("..", import.meta.url).pathname;
let total = 0;
const tooLong = [];
for (const file of sources(join(root, "src"))) {
  const n = lineCount(readFileSync(file, "utf8"));
  total += n;
  if (n > FILE_LIMIT) tooLong.push(`${relative(root, file)}: ${n} lines`);
}
const problems = [];
if (total > BUDGET) problems.push(`src/ has ${total} lines, over the budget of ${BUDGET} (scripts/check-size.mjs): shrink something, or raise BUDGET in a commit that says why`);
for (const f of tooLong) problems.push(`${f}, over the ${FILE_LIMIT}-line limit per file: split it`);
const readme = readFileSync(join(root, "README.md"), "utf8");
const stated = `${BUDGET.toLocaleString("en-US").replace(/,/g, " ")} lines`;
if (!readme.includes(stated)) problems.push(`README.md's development section must state the budget as "${stated}"`);
if (problems.length > 0) {
  for (const p of problems) console.error(`check-size: ${p}`);
  process.exit(1);
}
console.log(`check-size: src/ ${total} / ${BUDGET} lines, no file over ${FILE_LIMIT}`);
