/**
 * @file Evaluation metrics (numbers, not differentiable): accuracy for class indices, one-hot
 * rows and binary outputs, top-k accuracy, mean squared and mean absolute error, and the
 * name → metric table that `compile({ metrics })` and the training loop use.
 */
import { noGrad } from "../autograd/mode.ts";
import { isFloating } from "../base/dtype.ts";
import { formatShape, shapesEqual } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

/** A metric: a name (the History key) and the batch mean of some score of predictions vs targets. */
export interface Metric {
  readonly name: string;
  /** The mean score over the batch; the loop averages it over batches weighted by batch size. */
  fn(pred: Tensor, target: Tensor): number;
}

function check(pred: Tensor, target: Tensor, op: string): void {
  if (!(pred instanceof Tensor) || !(target instanceof Tensor)) throw new TypeError(`${op}: expects two tensors (predictions, targets)`);
  if (pred.shape[0] !== target.shape[0])
    throw new Error(`${op}: predictions ${formatShape(pred.shape)} and targets ${formatShape(target.shape)} have different batch sizes`);
}

/** True when `pred` holds one score per sample (shape [N] or [N, 1]): a binary classifier. */
function isBinary(pred: Tensor): boolean {
  return pred.ndim === 1 || (pred.ndim === 2 && pred.shape[1] === 1);
}

/**
 * The fraction of correct predictions, for each kind of classifier (Keras picks the same way):
 * - class-index targets (int32 [N]) with scores [N, C] → argmax of the scores;
 * - one-hot or probability targets [N, C] (float) → argmax of both;
 * - binary: predictions [N] or [N, 1] (probabilities) vs 0/1 targets → prediction > `threshold` (0.5).
 * @example tg.train.metrics.accuracy(tg.tensor([[0.1, 0.9], [0.8, 0.2]]), tg.tensor([1, 1], { dtype: "int32" })) // 0.5
 */
export function accuracy(pred: Tensor, target: Tensor, opts: { threshold?: number } = {}): number {
  check(pred, target, "accuracy");
  const n = pred.shape[0] ?? 0;
  if (n === 0) return Number.NaN;
  return noGrad(() => {
    if (isBinary(pred) && target.numel() === n) {
      const p = pred.reshape([n]).gt(opts.threshold ?? 0.5);
      const t = target.reshape([n]).to("float32").gt(0.5);
      return p.eq(t).to("float32").mean().item();
    }
    if (pred.ndim !== 2) throw new Error(`accuracy: expects scores [N, C] or binary outputs [N], got predictions ${formatShape(pred.shape)}`);
    const predicted = pred.argmax(1);
    let labels: Tensor;
    if (shapesEqual(pred.shape, target.shape)) labels = target.argmax(1);
    else if (target.ndim === 1 && !isFloating(target.dtype)) labels = target;
    else if (target.ndim === 1) labels = target.to("int32");
    else
      throw new Error(
        `accuracy: targets ${formatShape(target.shape)} fit neither class indices [${n}] nor one-hot rows ${formatShape(pred.shape)}`,
      );
    return predicted.eq(labels).to("float32").mean().item();
  });
}

/**
 * The fraction of samples whose target class is among the `k` highest scores (Keras'
 * top_k_categorical_accuracy; targets as class indices or one-hot rows).
 * @example tg.train.metrics.topKAccuracy(scores, labels, 5)
 */
export function topKAccuracy(pred: Tensor, target: Tensor, k = 5): number {
  check(pred, target, "topKAccuracy");
  if (pred.ndim !== 2) throw new Error(`topKAccuracy: expects scores [N, C], got ${formatShape(pred.shape)}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKAccuracy: k must be a positive integer, got ${k}`);
  const [n, c] = pred.shape as [number, number];
  if (n === 0) return Number.NaN;
  const scores = pred.detach().to("float64").dataSync();
  const labels = shapesEqual(pred.shape, target.shape) ? target.detach().argmax(1).dataSync() : target.detach().to("int32").dataSync();
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    const s = scores[i * c + label]!;
    // the label is in the top k when fewer than k classes score strictly higher (ties favour the label, as Keras' in_top_k)
    let higher = 0;
    for (let j = 0; j < c && higher < k; j++) if (scores[i * c + j]! > s) higher++;
    if (higher < k) hits++;
  }
  return hits / n;
}

function regressionPair(pred: Tensor, target: Tensor, op: string): [Tensor, Tensor] {
  check(pred, target, op);
  const t = target.detach().to(pred.dtype === "float64" ? "float64" : "float32");
  if (shapesEqual(pred.shape, t.shape)) return [pred.detach(), t];
  if (pred.numel() === t.numel()) return [pred.detach().reshape(t.shape), t]; // [N, 1] vs [N]
  throw new Error(`${op}: predictions ${formatShape(pred.shape)} and targets ${formatShape(target.shape)} do not match`);
}

/** Mean squared error `mean((pred − target)²)`, as a number. */
export function mse(pred: Tensor, target: Tensor): number {
  const [p, t] = regressionPair(pred, target, "mse");
  return noGrad(() => p.sub(t).square().mean().item());
}

/** Mean absolute error `mean(|pred − target|)`, as a number. */
export function mae(pred: Tensor, target: Tensor): number {
  const [p, t] = regressionPair(pred, target, "mae");
  return noGrad(() => p.sub(t).abs().mean().item());
}

/** What `compile({ metrics })` accepts: a name, a Metric, or a function `(pred, target) => number` (named by its `name`). */
export type MetricLike = string | Metric | ((pred: Tensor, target: Tensor) => number);

const BY_NAME: Record<string, Metric> = {
  accuracy: { name: "accuracy", fn: (p, t) => accuracy(p, t) },
  mse: { name: "mse", fn: mse },
  mae: { name: "mae", fn: mae },
  topKAccuracy: { name: "topKAccuracy", fn: (p, t) => topKAccuracy(p, t, 5) },
};

const ALIASES: Record<string, string> = {
  acc: "accuracy",
  sparseCategoricalAccuracy: "accuracy",
  sparse_categorical_accuracy: "accuracy",
  categoricalAccuracy: "accuracy",
  categorical_accuracy: "accuracy",
  binaryAccuracy: "accuracy",
  binary_accuracy: "accuracy",
  meanSquaredError: "mse",
  mean_squared_error: "mse",
  meanAbsoluteError: "mae",
  mean_absolute_error: "mae",
  top_k_categorical_accuracy: "topKAccuracy",
  topKCategoricalAccuracy: "topKAccuracy",
  sparse_top_k_categorical_accuracy: "topKAccuracy",
  sparseTopKCategoricalAccuracy: "topKAccuracy",
};

/**
 * Resolves a metric given by name ("accuracy", "mse", "mae", "topKAccuracy" and Keras' snake_case
 * spellings), object or function. History keys are the names as given (`"acc"` logs as
 * `acc`, `"accuracy"` as `accuracy`, like Keras); a function is logged under its `name`.
 */
export function getMetric(m: MetricLike): Metric {
  if (typeof m === "string") {
    const key = ALIASES[m] ?? m;
    const found = BY_NAME[key];
    if (!found)
      throw new Error(`unknown metric ${JSON.stringify(m)}; known: ${[...Object.keys(BY_NAME), ...Object.keys(ALIASES)].join(", ")}, or pass a function (pred, target) => number`);
    return { name: m, fn: found.fn };
  }
  if (typeof m === "function") {
    const name = m.name || "metric";
    return { name, fn: m };
  }
  if (m !== null && typeof m === "object" && typeof m.fn === "function" && typeof m.name === "string") return m;
  throw new TypeError(`metrics: expected a name such as "accuracy", a function (pred, target) => number, or { name, fn }, got ${String(m)}`);
}

/**
 * The confusion matrix of class predictions: `m[t][p]` counts samples of true class t predicted
 * as p. `pred` holds scores [N, C] (argmax taken) or class indices [N].
 * @example tg.train.metrics.confusionMatrix(model.predict(x), y, 10)
 */
export function confusionMatrix(pred: Tensor, target: Tensor, numClasses?: number): number[][] {
  check(pred, target, "confusionMatrix");
  const predicted = (pred.ndim === 2 ? pred.detach().argmax(1) : pred.detach().to("int32")).dataSync();
  const truth = (shapesEqual(pred.shape, target.shape) && pred.ndim === 2 ? target.detach().argmax(1) : target.detach().to("int32")).dataSync();
  const c = numClasses ?? (pred.ndim === 2 ? pred.shape[1]! : Math.max(-1, ...Array.from(predicted), ...Array.from(truth)) + 1);
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (t < 0 || t >= c || p < 0 || p >= c) throw new RangeError(`confusionMatrix: class ${t < 0 || t >= c ? t : p} is outside 0..${c - 1}`);
    m[t]![p]! += 1;
  }
  return m;
}
