/**
 * @file What every example shares: the quick (small-size) switch, the folder its figures go to,
 * saving a figure as SVG (and PNG), and the one-line JSON summary that `tests/examples.test.ts`
 * checks against the lectures' values. Nothing here is needed to use tensorgrad.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tg from "../src/index.ts";

export interface Example {
  /** The file's name without `.ts`, e.g. "04-gradient-descent". */
  name: string;
  /** `TG_QUICK=1` or `--quick`: small sizes, for the tests (a few seconds at most). */
  quick: boolean;
  /** Where figures go: `examples/out/<name>/` (or `$TG_OUT`). */
  outDir: string;
  /** Writes `<file>.svg`, and `<file>.png` unless `TG_PNG=0`; returns the SVG's path. */
  save(file: string, svg: string): Promise<string>;
  /** Prints the example's key numbers as the last line of its output (JSON). */
  report(values: Record<string, unknown>): void;
}

/** Call as `const ex = example(import.meta.url);` at the top of an example. */
export function example(moduleUrl: string): Example {
  const file = fileURLToPath(moduleUrl);
  const name = basename(file, ".ts");
  const quick = process.env.TG_QUICK === "1" || process.argv.includes("--quick");
  const outDir = process.env.TG_OUT ?? join(dirname(file), "out", name);
  const png = process.env.TG_PNG !== "0";
  return {
    name,
    quick,
    outDir,
    async save(fileName, svg) {
      mkdirSync(outDir, { recursive: true });
      const path = join(outDir, `${fileName}.svg`);
      writeFileSync(path, svg);
      if (png) writeFileSync(join(outDir, `${fileName}.png`), await tg.viz.svgToPng(svg));
      console.log(`  wrote ${path}${png ? " (+ .png)" : ""}`);
      return path;
    },
    report(values) {
      console.log(JSON.stringify(values));
    },
  };
}

/** Rounds for printing: 6 significant digits. */
export const fmt = (v: number): string => String(Number(v.toPrecision(6)));
