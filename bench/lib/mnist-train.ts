/**
 * @file The MNIST protocol W2, W3 and W4 share, for tensorgrad and the in-process peers (TF.js,
 * onnxruntime): the data (BENCHMARKS.md's split), the sample order of every epoch, the counts at a
 * given `--scale`, and the timed loops. A framework plugs in as a small adapter (one training step,
 * a prediction, one inference call), so every framework runs exactly the same loop.
 * `peers/mnist_split.py` mirrors this file for the Python peers: keep the two side by side.
 *
 * Order: epoch e (0, 1, 2, …) visits the 8 000 training samples in the permutation
 * `epochOrder(e, 8000)` — a Fisher–Yates shuffle driven by a 32-bit LCG seeded with e + 1 — so
 * PyTorch, TF.js and tensorgrad see the same batches in the same order.
 */
import * as tg from "../../src/index.ts";
import { median, nowSeconds, type RunOptions, WARMUP_SECONDS } from "./figure.ts";

export const PIXELS = 784;
export const CLASSES = 10;

export interface Split {
  /** float32 [n·784], pixels in [0, 1]. */
  x: Float32Array;
  /** int32 [n], labels 0–9. */
  y: Int32Array;
  n: number;
}

let cached: Promise<{ train: Split; test: Split }> | null = null;

/** The embedded MNIST split (`tg.datasets.mnist`), as plain typed arrays, read once per process. */
export function loadMnist(): Promise<{ train: Split; test: Split }> {
  cached ??= (async () => {
    const [train, test] = await Promise.all([tg.datasets.mnist({ split: "train" }), tg.datasets.mnist({ split: "test" })]);
    const plain = (d: tg.datasets.ImageDataset): Split => ({
      // the datasets' own contiguous storage (no copy: nothing here writes to it)
      x: d.x.dataSync() as Float32Array,
      y: d.y.dataSync() as Int32Array,
      n: d.y.shape[0]!,
    });
    return { train: plain(train), test: plain(test) };
  })();
  return cached;
}

/** The sample order of epoch `epoch` over n samples (mirrored exactly by `epoch_order` in peers/mnist_split.py). */
export function epochOrder(epoch: number, n: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  let state = (epoch + 1) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    // state·(i+1) < 2^32 · 2^13: exact in a double, and in Python's integers
    const j = Math.floor((state * (i + 1)) / 4294967296);
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

/** Copies samples order[start .. start+count) of `split` into `x`/`y` (the batch buffers). */
export function gather(split: Split, order: Int32Array, start: number, count: number, x: Float32Array, y: Int32Array): void {
  for (let k = 0; k < count; k++) {
    const s = order[start + k]!;
    x.set(split.x.subarray(s * PIXELS, (s + 1) * PIXELS), k * PIXELS);
    y[k] = split.y[s]!;
  }
}

/** The test samples a run evaluates on: all 2 000 at scale ≥ 1, else an evenly strided subset. */
export function testIndices(nTest: number, scale: number): Int32Array {
  const count = scale >= 1 ? nTest : Math.max(1, Math.min(nTest, Math.round(nTest * scale)));
  return Int32Array.from({ length: count }, (_, i) => Math.floor((i * nTest) / count));
}

/** Seconds a run may spend on the part after the throughput measurement (the rest of the epochs and the test pass) before that figure is skipped. */
export function accuracyBudgetSeconds(): number {
  const v = Number(process.env.BENCH_ACCURACY_BUDGET_S);
  return v > 0 ? v : 600;
}

// --- the plans: how many samples / batches at a given --scale (mirrored in peers/mnist_split.py) ---

export interface W2Plan {
  batch: number;
  /** Training samples per epoch (8 000 at scale 1: the first nTrain of each epoch's order). */
  nTrain: number;
  /** Epoch 0 warms up, epoch 1 is timed, the accuracy is measured after `epochs`. */
  epochs: number;
}

export function w2Plan(scale: number): W2Plan {
  const batch = 128;
  return { batch, nTrain: scale >= 1 ? 8000 : Math.max(batch, Math.round(8000 * scale)), epochs: 3 };
}

export interface W3Plan {
  batch: number;
  /** Batches before the timed ones. */
  warmupBatches: number;
  /** Batches timed (16 × 64 = 1 024 samples at scale 1). */
  timedBatches: number;
  /** Training samples in the one epoch (warm-up and timed batches included); accuracy after it. */
  nTrain: number;
}

export function w3Plan(scale: number): W3Plan {
  const batch = 64;
  if (scale >= 1) return { batch, warmupBatches: 4, timedBatches: 16, nTrain: 8000 };
  const warmupBatches = Math.max(1, Math.round(4 * scale));
  const timedBatches = Math.max(1, Math.round(16 * scale));
  return { batch, warmupBatches, timedBatches, nTrain: Math.max(Math.round(8000 * scale), (warmupBatches + timedBatches) * batch) };
}

export interface W4Plan {
  /** Single-sample calls timed one by one (after ≥ WARMUP_SECONDS of warm-up); the figure is their median. */
  latencyCalls: number;
  /** Batch-256 calls per timed repeat; throughput = median over `--repeats` repeats. */
  batchCalls: number;
  batch: number;
}

export function w4Plan(scale: number): W4Plan {
  return { latencyCalls: Math.max(20, Math.round(2000 * scale)), batchCalls: Math.max(1, Math.round(4 * scale)), batch: 256 };
}

// --- the loops ---

/** What a framework provides to train on the protocol's batches. */
export interface TrainAdapter {
  /** One optimiser step on the batch (x: n·784 floats, y: n labels), finished when it returns; the loss. */
  step(x: Float32Array, y: Int32Array, n: number): number | Promise<number>;
  /** Predicted classes (argmax of the logits) for n samples, in eval mode without gradients. */
  predict(x: Float32Array, n: number): Int32Array | Promise<Int32Array>;
}

/** Test accuracy on `testIndices(scale)`, predicting in chunks of 500. */
export async function testAccuracy(adapter: TrainAdapter, test: Split, scale: number): Promise<number> {
  const idx = testIndices(test.n, scale);
  const chunk = 500;
  const x = new Float32Array(chunk * PIXELS);
  const y = new Int32Array(chunk);
  let correct = 0;
  for (let start = 0; start < idx.length; start += chunk) {
    const count = Math.min(chunk, idx.length - start);
    gather(test, idx, start, count, x, y);
    const pred = await adapter.predict(x.subarray(0, count * PIXELS), count);
    for (let k = 0; k < count; k++) if (pred[k] === y[k]) correct++;
  }
  return correct / idx.length;
}

export interface TrainResult {
  samplesPerS: number;
  /** null when the run would have taken longer than accuracyBudgetSeconds() (a stderr note says so). */
  accuracy: number | null;
  lastLoss: number;
}

/** The batch buffers a W2 run reuses. */
function w2Buffers(plan: W2Plan): { x: Float32Array; y: Int32Array } {
  return { x: new Float32Array(plan.batch * PIXELS), y: new Int32Array(plan.batch) };
}

/** One W2 epoch: the first plan.nTrain samples of `epochOrder(epoch)`, in batches of plan.batch; its seconds and last loss. */
async function trainW2Epoch(adapter: TrainAdapter, train: Split, plan: W2Plan, epoch: number, buf: { x: Float32Array; y: Int32Array }): Promise<{ seconds: number; lastLoss: number }> {
  const order = epochOrder(epoch, train.n);
  let lastLoss = Number.NaN;
  const t0 = nowSeconds();
  for (let start = 0; start < plan.nTrain; start += plan.batch) {
    const count = Math.min(plan.batch, plan.nTrain - start);
    gather(train, order, start, count, buf.x, buf.y);
    lastLoss = await adapter.step(buf.x.subarray(0, count * PIXELS), buf.y.subarray(0, count), count);
  }
  return { seconds: nowSeconds() - t0, lastLoss };
}

/** W2: epoch 0 warms up, epoch 1 is timed (samples/s), epoch 2 trains on, then the test accuracy. */
export async function runW2(adapter: TrainAdapter, scale: number, note: (msg: string) => void): Promise<TrainResult> {
  const { train, test } = await loadMnist();
  const plan = w2Plan(scale);
  const buf = w2Buffers(plan);
  let lastLoss = Number.NaN;
  let samplesPerS = Number.NaN;
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    const r = await trainW2Epoch(adapter, train, plan, epoch, buf);
    lastLoss = r.lastLoss;
    if (epoch === 1) {
      samplesPerS = plan.nTrain / r.seconds;
      const rest = (plan.epochs - 2) * r.seconds;
      if (rest > accuracyBudgetSeconds()) {
        note(`test_accuracy skipped: ${plan.epochs - 2} more epoch(s) would take ~${Math.round(rest)} s (> BENCH_ACCURACY_BUDGET_S=${accuracyBudgetSeconds()})`);
        return { samplesPerS, accuracy: null, lastLoss };
      }
    }
  }
  if (!Number.isFinite(lastLoss)) throw new Error(`W2: the training loss is ${lastLoss}`);
  return { samplesPerS, accuracy: await testAccuracy(adapter, test, scale), lastLoss };
}

/**
 * PLAYGROUND: W2's throughput measurement alone — epoch 0 warms up, epoch 1 is timed, on the
 * training split it is given (no accuracy). It takes the data as an argument so that the browser
 * Worker (bench/browser/worker.ts) runs this very function, bundled, on the bytes the driver serves.
 */
export async function runW2Throughput(adapter: TrainAdapter, train: Split, scale: number): Promise<{ samplesPerS: number; lastLoss: number }> {
  const plan = w2Plan(scale);
  const buf = w2Buffers(plan);
  await trainW2Epoch(adapter, train, plan, 0, buf);
  const r = await trainW2Epoch(adapter, train, plan, 1, buf);
  if (!Number.isFinite(r.lastLoss)) throw new Error(`PLAYGROUND: the training loss is ${r.lastLoss}`);
  return { samplesPerS: plan.nTrain / r.seconds, lastLoss: r.lastLoss };
}

/** W3: one epoch; its first batches warm up, the next ≥ 1 024 samples are timed, the rest train on; then the test accuracy. */
export async function runW3(adapter: TrainAdapter, scale: number, note: (msg: string) => void): Promise<TrainResult> {
  const { train, test } = await loadMnist();
  const plan = w3Plan(scale);
  const x = new Float32Array(plan.batch * PIXELS);
  const y = new Int32Array(plan.batch);
  const order = epochOrder(0, train.n);
  let lastLoss = Number.NaN;
  let samplesPerS = Number.NaN;
  let b = 0;
  let t0 = nowSeconds();
  for (let start = 0; start < plan.nTrain; start += plan.batch, b++) {
    if (b === plan.warmupBatches) t0 = nowSeconds();
    const count = Math.min(plan.batch, plan.nTrain - start);
    gather(train, order, start, count, x, y);
    lastLoss = await adapter.step(x.subarray(0, count * PIXELS), y.subarray(0, count), count);
    if (b === plan.warmupBatches + plan.timedBatches - 1) {
      const seconds = nowSeconds() - t0;
      samplesPerS = (plan.timedBatches * plan.batch) / seconds;
      const restBatches = Math.ceil(plan.nTrain / plan.batch) - b - 1;
      const rest = (restBatches * seconds) / plan.timedBatches;
      if (rest > accuracyBudgetSeconds()) {
        note(`test_accuracy skipped: the rest of the epoch (${restBatches} batches) would take ~${Math.round(rest)} s (> BENCH_ACCURACY_BUDGET_S=${accuracyBudgetSeconds()})`);
        return { samplesPerS, accuracy: null, lastLoss };
      }
    }
  }
  if (!Number.isFinite(lastLoss)) throw new Error(`W3: the training loss is ${lastLoss}`);
  return { samplesPerS, accuracy: await testAccuracy(adapter, test, scale), lastLoss };
}

/** What a framework provides for W4: one inference call on n samples, its output read back (n·10 logits). */
export interface InferAdapter {
  infer(x: Float32Array, n: number): ArrayLike<number> | Promise<ArrayLike<number>>;
}

export interface W4Result {
  latencyMs: number;
  samplesPerS: number;
}

/**
 * W4: batch-1 latency (median of `latencyCalls` calls each timed alone, cycling through the test
 * digits) and batch-256 throughput (median over `repeats` of `batchCalls` calls), each after
 * ≥ WARMUP_SECONDS of warm-up.
 */
export async function runW4(adapter: InferAdapter, opts: RunOptions): Promise<W4Result> {
  const { test } = await loadMnist();
  const plan = w4Plan(opts.scale);
  let sink = 0;
  const one = (i: number) => test.x.subarray((i % test.n) * PIXELS, ((i % test.n) + 1) * PIXELS);
  const check = (out: ArrayLike<number>, n: number) => {
    if (out.length !== n * CLASSES) throw new Error(`W4: expected ${n * CLASSES} logits, got ${out.length}`);
    sink += out[0]!;
  };
  // batch 1
  let i = 0;
  const warm = nowSeconds();
  do check(await adapter.infer(one(i++), 1), 1);
  while (nowSeconds() - warm < WARMUP_SECONDS || i < 20);
  const times: number[] = [];
  for (let c = 0; c < plan.latencyCalls; c++) {
    const x = one(i++);
    const t0 = nowSeconds();
    const r = adapter.infer(x, 1);
    // a synchronous framework is timed without the microtask an `await` would add
    const out = r instanceof Promise ? await r : r;
    times.push((nowSeconds() - t0) * 1e3);
    check(out, 1);
  }
  // batch 256: the test digits in order, wrapping around (8 distinct batches, built beforehand)
  const batches = Array.from({ length: 8 }, (_, k) => {
    const x = new Float32Array(plan.batch * PIXELS);
    for (let r = 0; r < plan.batch; r++) x.set(one(k * plan.batch + r), r * PIXELS);
    return x;
  });
  let k = 0;
  const warm2 = nowSeconds();
  do check(await adapter.infer(batches[k++ % batches.length]!, plan.batch), plan.batch);
  while (nowSeconds() - warm2 < WARMUP_SECONDS);
  const rates: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const t0 = nowSeconds();
    for (let c = 0; c < plan.batchCalls; c++) {
      const out = adapter.infer(batches[k++ % batches.length]!, plan.batch);
      check(out instanceof Promise ? await out : out, plan.batch);
    }
    rates.push((plan.batchCalls * plan.batch) / (nowSeconds() - t0));
  }
  if (!Number.isFinite(sink)) throw new Error("W4: non-finite logits");
  return { latencyMs: median(times), samplesPerS: median(rates) };
}

/** A stderr line saying that a run at --scale < 1 is a reduced one, not comparable with full figures. */
export function reducedNote(workload: string, scale: number, what: string): string | null {
  return scale >= 1 ? null : `${workload} at --scale ${scale}: reduced run (${what}); its figures are not comparable with full ones`;
}
