/**
 * @file The step-by-step guide (docs/guide, docs/ja): its code blocks are the examples' code,
 * its links resolve, both languages have the same pages and cover every example, and the README
 * links both.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, test } from "node:test";
import { DOC_DIRS, markdownFiles, readExample, region, syncPage } from "../scripts/docs-sync.ts";

const examples = readdirSync("examples")
  .filter((f) => /^\d\d-[\w-]+\.ts$/.test(f))
  .map((f) => f.slice(0, -3));

describe("the guide", () => {
  test("every code block marked `<!-- example: … -->` is exactly its example's region (run `npm run docs:sync`)", () => {
    let blocks = 0;
    for (const file of markdownFiles()) {
      for (const b of syncPage(readFileSync(file, "utf8"), readExample).blocks) {
        blocks++;
        assert.ok(b.actual === b.expected, `${file}: the block of ${b.example}#${b.region} differs from the example — run \`npm run docs:sync\``);
        assert.ok(b.expected.trim().length > 0, `${file}: ${b.example}#${b.region} is empty`);
      }
    }
    assert.ok(blocks >= 50, `only ${blocks} synced blocks`);
  });

  test("English and Japanese have the same pages, the same blocks, and every example", () => {
    const pages = DOC_DIRS.map((d) => readdirSync(d).filter((f) => f.endsWith(".md")).sort());
    assert.deepEqual(pages[0], pages[1]);
    for (const page of pages[0]!) {
      const markers = DOC_DIRS.map((d) => [...readFileSync(join(d, page), "utf8").matchAll(/<!-- example: ([\w#-]+) -->/g)].map((m) => m[1]));
      assert.deepEqual(markers[0], markers[1], `${page}: the same code blocks in both languages`);
    }
    for (const dir of DOC_DIRS) {
      const all = markdownFiles()
        .filter((f) => f.startsWith(dir))
        .map((f) => readFileSync(f, "utf8"))
        .join("\n");
      for (const e of examples) assert.ok(all.includes(`examples/${e}.ts`), `${dir} links examples/${e}.ts`);
    }
  });

  test("relative links resolve", () => {
    for (const file of [...markdownFiles(), "README.md"]) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        assert.ok(existsSync(normalize(join(dirname(file), target))), `${file}: broken link ${target}`);
      }
    }
  });

  test("README: the first two commands stay on top, and both guides are linked", () => {
    const readme = readFileSync("README.md", "utf8");
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.split("\n");
    assert.match(firstBlock[0]!, /^npm ci && npm start/);
    assert.match(firstBlock[1]!, /^npm ci && npm test/);
    assert.ok(readme.includes("(docs/guide/README.md)") && readme.includes("(docs/ja/README.md)"));
  });

  test("region(): the lines between the markers, and clear errors", () => {
    const src = "a\n// #region r\nx = 1;\n  y = 2;\n// #endregion\nb";
    assert.equal(region(src, "r"), "x = 1;\n  y = 2;");
    assert.throws(() => region(src, "nope", "f.ts"), /f\.ts: no "\/\/ #region nope"/);
    assert.throws(() => region("// #region r\nx", "r"), /has no "\/\/ #endregion"/);
    const page = "text\n<!-- example: e#r -->\n```ts\nold\n```\nmore";
    const { blocks, synced } = syncPage(page, () => src);
    assert.equal(blocks[0]!.actual, "old");
    assert.equal(synced, "text\n<!-- example: e#r -->\n```ts\nx = 1;\n  y = 2;\n```\nmore");
  });
});
