#!/usr/bin/env node
/**
 * @file `npm run example -- <name>`: runs one lecture example (examples/NN-name.ts) with tsx.
 * The name may be the number ("04"), the full name ("04-gradient-descent") or a unique part of it
 * ("gradient-descent"). Without a name it lists the examples. Extra arguments (e.g. `--quick`)
 * are passed to the example.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const examples = readdirSync("examples")
  .filter((f) => /^\d\d-[\w-]+\.ts$/.test(f))
  .map((f) => f.slice(0, -3))
  .sort();
const [query, ...rest] = process.argv.slice(2);

if (!query || query === "--list" || query === "--help") {
  console.log("usage: npm run example -- <number or name> [--quick]\n\nexamples:");
  for (const e of examples) console.log(`  ${e}`);
  process.exit(query ? 0 : 1);
}

const matches = examples.filter((e) => e === query || e.startsWith(`${query}-`) || e.includes(query));
const exact = examples.find((e) => e === query || e.startsWith(`${query.padStart(2, "0")}-`));
const chosen = exact ?? (matches.length === 1 ? matches[0] : undefined);
if (!chosen) {
  console.error(matches.length === 0 ? `no example matches "${query}"` : `"${query}" matches several examples: ${matches.join(", ")}`);
  console.error("run `npm run example` for the list");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", `examples/${chosen}.ts`, ...rest], { stdio: "inherit" });
process.exit(result.status ?? 1);
