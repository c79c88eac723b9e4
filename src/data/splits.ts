/** @file Validation splits: random, k-fold, and time-series (no future data in any training fold). */
import { defaultGenerator, Generator } from "../tensor/random.ts";
import { type Dataset, Subset } from "./dataset.ts";

function shuffled(n: number, g: Generator): number[] {
  return Array.from(g.permutation(n));
}

/**
 * Splits a dataset into non-overlapping random subsets of the given lengths (counts, or
 * fractions summing to 1, as PyTorch's random_split).
 * @example const [train, val] = tg.data.randomSplit(ds, [0.9, 0.1], { seed: 0 });
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], opts: { seed?: number } = {}): Subset<T>[] {
  const n = dataset.length;
  let counts = [...lengths];
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.some((c) => c < 0)) throw new RangeError(`randomSplit: lengths must be non-negative, got [${lengths.join(", ")}]`);
  if (Math.abs(total - 1) < 1e-9 && counts.some((c) => !Number.isInteger(c))) {
    // fractions: floor each, then hand the remainder out round-robin (PyTorch's rule)
    counts = counts.map((f) => Math.floor(n * f));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]!++;
  } else if (total !== n || counts.some((c) => !Number.isInteger(c))) {
    throw new Error(`randomSplit: lengths [${lengths.join(", ")}] must be integers summing to the dataset length ${n}, or fractions summing to 1`);
  }
  const idx = shuffled(n, opts.seed === undefined ? defaultGenerator : new Generator(opts.seed));
  let start = 0;
  return counts.map((c) => {
    const part = idx.slice(start, start + c);
    start += c;
    return new Subset(dataset, part);
  });
}

export interface Fold {
  train: number[];
  val: number[];
}

/**
 * k-fold cross-validation indices over n samples (scikit-learn's KFold: the first n % k folds
 * get one extra sample). Every sample is in exactly one validation fold.
 */
export function kFold(n: number, k: number, opts: { shuffle?: boolean; seed?: number } = {}): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`kFold: k must be an integer ≥ 2, got ${k}`);
  if (!Number.isInteger(n) || n < k) throw new RangeError(`kFold: need at least k=${k} samples, got n=${n}`);
  const idx = opts.shuffle ? shuffled(n, opts.seed === undefined ? defaultGenerator : new Generator(opts.seed)) : Array.from({ length: n }, (_, i) => i);
  const folds: Fold[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    folds.push({ val: idx.slice(start, start + size), train: [...idx.slice(0, start), ...idx.slice(start + size)] });
    start += size;
  }
  return folds;
}

/**
 * Time-series splits (scikit-learn's TimeSeriesSplit): k folds whose training part is always
 * strictly earlier than its validation part, so no future data leaks into training.
 */
export function timeSeriesSplit(n: number, k: number): Fold[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`timeSeriesSplit: k must be a positive integer, got ${k}`);
  const testSize = Math.floor(n / (k + 1));
  if (testSize < 1) throw new RangeError(`timeSeriesSplit: n=${n} samples are too few for k=${k} splits`);
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const valStart = n - (k - f) * testSize;
    folds.push({
      train: Array.from({ length: valStart }, (_, i) => i),
      val: Array.from({ length: testSize }, (_, i) => valStart + i),
    });
  }
  return folds;
}
