/**
 * @file The training loop behind `model.fit` and the `tensorgrad train` command: mini-batches
 * from a seeded DataLoader, zeroGrad → forward → loss → backward → step, running means of the
 * loss and metrics, validation after each epoch, callbacks and the progress display. It is the
 * PyTorch loop you would write by hand, so both give the same weights for the same seed.
 */
import { noGrad } from "../autograd/mode.ts";
import { TensorDataset } from "../data/dataset.ts";
import { DataLoader } from "../data/loader.ts";
import { nextTick } from "../base/env.ts";
import type { Module } from "../nn/module.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { cat } from "../ops/index.ts";
import { defaultGenerator, Generator } from "../tensor/random.ts";
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type Callback, runCallbacks, type TrainContext } from "./callbacks.ts";
import { History, type Logs } from "./history.ts";
import type { Metric } from "./metrics.ts";
import { ProgressDisplay, type ProgressStream } from "./progress.ts";

/** What to train and how to score it. */
export interface TrainingSpec {
  model: Module;
  optimizer: Optimizer;
  /** The loss of the forward output against the targets (a scalar tensor). */
  loss: (output: Tensor, target: Tensor) => Tensor;
  /** The forward pass (default `model.call(x)`); e.g. a Keras model returns logits here. */
  forward?: (x: Tensor) => Tensor;
  /** Maps forward outputs to what metrics see (e.g. softmax of logits; default: unchanged). */
  toPrediction?: (output: Tensor) => Tensor;
  metrics?: readonly Metric[];
}

export interface FitOptions {
  /** Samples per gradient step (default 32). */
  batchSize?: number;
  /** The epoch to stop after, counting from 0 (default 1); with `initialEpoch`, the total. */
  epochs?: number;
  /** The epoch to start at (resuming; default 0). */
  initialEpoch?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** [x, y] evaluated after each epoch, logged as `val_loss`, `val_<metric>`. */
  validationData?: readonly [Tensor, Tensor] | null;
  callbacks?: readonly Callback[];
  /** 0 silent, 1 progress bar (or a line per epoch when not a terminal), 2 a line per epoch (default 1). */
  verbose?: 0 | 1 | 2;
  /** Where progress goes (default process.stdout). */
  stream?: ProgressStream;
  /** The shuffling generator (default: one seeded by `seed`, else the global one of tg.manualSeed). */
  generator?: Generator;
  seed?: number;
  /** Continue this history (resuming) instead of starting a new one. */
  history?: History;
}

/** Checks that x and y are tensors with the same number of samples. */
export function checkXY(x: Tensor, y: Tensor, op: string): void {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: x must be a Tensor, got ${x === null ? "null" : typeof x}`);
  if (!(y instanceof Tensor)) throw new TypeError(`${op}: y must be a Tensor, got ${y === null ? "null" : typeof y}`);
  if (x.ndim === 0 || y.ndim === 0 || x.shape[0] !== y.shape[0])
    throw new Error(`${op}: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must have the same number of samples (dim 0)`);
}

function checkBatchSize(b: number, op: string): number {
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`${op}: batchSize must be a positive integer, got ${b}`);
  return b;
}

/** Weighted running means of named quantities (weights = batch sizes). */
class Means {
  private readonly sums = new Map<string, number>();
  private count = 0;

  add(values: Logs, n: number): void {
    for (const [k, v] of Object.entries(values)) this.sums.set(k, (this.sums.get(k) ?? 0) + v * n);
    this.count += n;
  }

  logs(): Logs {
    const out: Logs = {};
    for (const [k, s] of this.sums) out[k] = s / this.count;
    return out;
  }
}

function scoreBatch(spec: TrainingSpec, output: Tensor, target: Tensor): Logs {
  const out: Logs = {};
  if (!spec.metrics || spec.metrics.length === 0) return out;
  const pred = noGrad(() => (spec.toPrediction ? spec.toPrediction(output.detach()) : output.detach()));
  for (const m of spec.metrics) out[m.name] = m.fn(pred, target);
  return out;
}

/** Yields to the event loop (progress redraws, signals) between batches. */
const tick = nextTick;

/**
 * Trains `spec.model` on (x, y) for `epochs` epochs and returns the History. Each step is
 * `optimizer.zeroGrad(); loss(forward(xb), yb).backward(); optimizer.step()` on a batch drawn by
 * a DataLoader (shuffled by the seeded generator).
 */
export async function fit(spec: TrainingSpec, x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
  checkXY(x, y, "fit");
  const batchSize = checkBatchSize(opts.batchSize ?? 32, "fit");
  const epochs = opts.epochs ?? 1;
  const initialEpoch = opts.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new RangeError(`fit: initialEpoch must be a non-negative integer, got ${initialEpoch}`);
  if (opts.validationData) {
    const [vx, vy] = opts.validationData;
    checkXY(vx, vy, "fit (validationData)");
  }
  const generator = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize, shuffle: opts.shuffle ?? true, generator });
  const forward = spec.forward ?? ((t: Tensor) => spec.model.call(t) as Tensor);
  const callbacks = opts.callbacks ?? [];
  const progress = new ProgressDisplay({ verbose: opts.verbose ?? 1, stream: opts.stream });
  const history = opts.history ?? new History();
  const samples = x.shape[0]!;
  history.params = { epochs, steps: loader.length, batchSize, samples };
  const ctx: TrainContext = {
    model: spec.model,
    optimizer: spec.optimizer,
    history,
    params: history.params,
    stopTraining: false,
    log: (m) => progress.log(m),
  };
  await progress.begin(epochs, loader.length);
  let lastLogs: Logs = {};
  try {
    await runCallbacks(callbacks, "onTrainBegin", [{}, ctx]);
    for (let epoch = initialEpoch; epoch < epochs && !ctx.stopTraining; epoch++) {
      spec.model.train();
      await runCallbacks(callbacks, "onEpochBegin", [epoch, {}, ctx]);
      progress.epochBegin(epoch);
      const means = new Means();
      const started = performance.now();
      let seen = 0;
      let step = 0;
      for (const [xb, yb] of loader as Iterable<[Tensor, Tensor]>) {
        const n = xb.shape[0]!;
        await runCallbacks(callbacks, "onBatchBegin", [step, { batch: step, size: n }, ctx]);
        spec.optimizer.zeroGrad();
        const output = forward(xb);
        const loss = spec.loss(output, yb);
        if (loss.numel() !== 1) throw new Error(`fit: the loss must be a scalar, got shape ${formatShape(loss.shape)}`);
        loss.backward();
        spec.optimizer.step();
        const lossValue = loss.item();
        means.add({ loss: lossValue, ...scoreBatch(spec, output, yb) }, n);
        seen += n;
        const running = means.logs();
        const speed = seen / ((performance.now() - started) / 1000);
        await runCallbacks(callbacks, "onBatchEnd", [step, { batch: step, size: n, ...running }, ctx]);
        progress.batchEnd(step, running, speed);
        step++;
        if (ctx.stopTraining) break;
        await tick();
      }
      const seconds = (performance.now() - started) / 1000;
      const logs = means.logs();
      if (opts.validationData) {
        const [vx, vy] = opts.validationData;
        const val = await evaluate(spec, vx, vy, { batchSize });
        for (const [k, v] of Object.entries(val)) logs[`val_${k}`] = v;
      }
      progress.epochEnd(epoch, logs, seconds, seen / seconds, step);
      await runCallbacks(callbacks, "onEpochEnd", [epoch, logs, ctx]);
      history.record(epoch, logs);
      lastLogs = logs;
    }
    await runCallbacks(callbacks, "onTrainEnd", [lastLogs, ctx]);
  } finally {
    progress.close();
  }
  return history;
}

/** Runs `fn` on x in batches, in evaluation mode without a graph, restoring the training flag afterwards. */
function inEvalMode<T>(model: Module, fn: () => T): T {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    if (wasTraining) model.train();
  }
}

/**
 * The loss and metrics on (x, y) in evaluation mode (dropout off, batch-norm running
 * statistics), averaged over samples: `{ loss, accuracy, ... }`.
 */
export async function evaluate(spec: TrainingSpec, x: Tensor, y: Tensor, opts: { batchSize?: number } = {}): Promise<Logs> {
  checkXY(x, y, "evaluate");
  const batchSize = checkBatchSize(opts.batchSize ?? 32, "evaluate");
  const forward = spec.forward ?? ((t: Tensor) => spec.model.call(t) as Tensor);
  const means = new Means();
  const n = x.shape[0]!;
  for (let start = 0; start < n; start += batchSize) {
    const len = Math.min(batchSize, n - start);
    const logs = inEvalMode(spec.model, () => {
      const out = forward(x.narrow(0, start, len));
      const yb = y.narrow(0, start, len);
      return { loss: spec.loss(out, yb).item(), ...scoreBatch(spec, out, yb) };
    });
    means.add(logs, len);
    if (start + batchSize < n) await tick();
  }
  return means.logs();
}

/**
 * The model's outputs for x, computed in batches in evaluation mode without a graph.
 * `forward` defaults to `model.call`.
 */
export function predict(model: Module, x: Tensor, opts: { batchSize?: number; forward?: (x: Tensor) => Tensor } = {}): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`predict: x must be a Tensor, got ${x === null ? "null" : typeof x}`);
  const batchSize = checkBatchSize(opts.batchSize ?? 32, "predict");
  const forward = opts.forward ?? ((t: Tensor) => model.call(t) as Tensor);
  const n = x.shape[0] ?? 0;
  if (n <= batchSize) return inEvalMode(model, () => forward(x));
  const parts: Tensor[] = [];
  for (let start = 0; start < n; start += batchSize) parts.push(inEvalMode(model, () => forward(x.narrow(0, start, Math.min(batchSize, n - start)))));
  return cat(parts, 0);
}
