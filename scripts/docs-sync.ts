/**
 * @file Keeps the guide's code blocks identical to the examples they come from. In a guide page,
 * a line `<!-- example: 04-gradient-descent#autograd -->` followed by a ```ts block marks that
 * block as the text between `// #region autograd` and `// #endregion` in
 * `examples/04-gradient-descent.ts`. `npm run docs:sync` rewrites every such block;
 * `tests/docs.test.ts` fails when one is out of date.
 *
 *   node --import tsx scripts/docs-sync.ts           rewrite docs/guide and docs/ja
 *   node --import tsx scripts/docs-sync.ts --check   only report stale blocks (exit 1)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DOC_DIRS = ["docs/guide", "docs/ja"];
const MARKER = /^<!-- example: ([\w-]+)#([\w-]+) -->$/;

/** The lines between `// #region <name>` and the next `// #endregion`, without the markers. */
export function region(source: string, name: string, file = "example"): string {
  const lines = source.split("\n");
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  if (start === -1) throw new Error(`${file}: no "// #region ${name}"`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "// #endregion");
  if (end === -1) throw new Error(`${file}: "// #region ${name}" has no "// #endregion"`);
  return lines.slice(start + 1, end).join("\n");
}

export interface Block {
  example: string;
  region: string;
  /** The code currently in the page, and what the example says it should be. */
  actual: string;
  expected: string;
}

/** Every marked block of a page, and the page with all of them brought up to date. */
export function syncPage(page: string, readExample: (name: string) => string): { blocks: Block[]; synced: string } {
  const lines = page.split("\n");
  const blocks: Block[] = [];
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    const m = MARKER.exec(lines[i]!.trim());
    if (!m) continue;
    const [, example, name] = m as unknown as [string, string, string];
    if (lines[i + 1]?.trim() !== "```ts") throw new Error(`a "${lines[i]}" marker must be followed by a \`\`\`ts block`);
    const close = lines.findIndex((l, j) => j > i + 1 && l.trim() === "```");
    if (close === -1) throw new Error(`the code block after "${lines[i]}" is not closed`);
    const actual = lines.slice(i + 2, close).join("\n");
    const expected = region(readExample(example), name, `examples/${example}.ts`);
    blocks.push({ example, region: name, actual, expected });
    out.push("```ts", ...expected.split("\n"), "```");
    i = close;
  }
  return { blocks, synced: out.join("\n") };
}

export function markdownFiles(): string[] {
  return DOC_DIRS.flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".md"))
      .sort()
      .map((f) => join(d, f)),
  );
}

export const readExample = (name: string): string => readFileSync(join("examples", `${name}.ts`), "utf8");

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const file of markdownFiles()) {
    const page = readFileSync(file, "utf8");
    const { blocks, synced } = syncPage(page, readExample);
    const changed = blocks.filter((b) => b.actual !== b.expected);
    stale += changed.length;
    for (const b of changed) console.log(`${file}: ${b.example}#${b.region} ${check ? "is out of date" : "updated"}`);
    if (!check && synced !== page) writeFileSync(file, synced);
  }
  if (check && stale > 0) process.exit(1);
  console.log(`${stale === 0 ? "all blocks up to date" : `${stale} block(s) ${check ? "stale" : "rewritten"}`}`);
}
