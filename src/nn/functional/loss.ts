/** @file Regression and binary-classification losses: MSE, L1, Huber, binary cross entropy (on probabilities and on logits). */
import * as ops from "../../ops/index.ts";
import { broadcastShapes, formatShape, shapesEqual } from "../../base/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg, checkReduction, checkSameShape, checkTensorArg, type Reduction, reduce } from "../util.ts";

export type { Reduction };

export interface ReductionOptions {
  /** "mean" (default), "sum" or "none" (per-element losses). */
  reduction?: Reduction;
}

export interface HuberLossOptions extends ReductionOptions {
  /** Where the loss switches from quadratic to linear (default 1). */
  delta?: number;
}

export interface BCELossOptions extends ReductionOptions {
  /** Per-element rescaling weight, broadcast against the input. */
  weight?: Tensor | null;
}

export interface BCEWithLogitsLossOptions extends BCELossOptions {
  /** Weight of the positive examples, broadcast against the target (e.g. one value per class). */
  posWeight?: Tensor | null;
}

/** Input and target checks shared by the elementwise losses; returns the target in the input's dtype. */
function pair(input: Tensor, target: Tensor, op: string): Tensor {
  checkFloatArg(input, op, "input");
  checkTensorArg(target, op, "target");
  if (target.dtype === "bool") throw new TypeError(`${op}: target must be numeric, got dtype bool (convert with .to("float32"))`);
  checkSameShape(input, target, op);
  return target.to(input.dtype);
}

/** Checks an optional weight that broadcasts against `shape`. */
function checkWeight(w: Tensor | null | undefined, shape: readonly number[], op: string, what: string): Tensor | null {
  if (w === undefined || w === null) return null;
  checkFloatArg(w, op, what);
  const b = broadcastShapes(shape, w.shape, op);
  if (!shapesEqual(b, shape))
    throw new Error(`${op}: ${what} of shape ${formatShape(w.shape)} must broadcast to the input shape ${formatShape(shape)}`);
  return w;
}

/**
 * Mean squared error `mean((input − target)²)`. The lectures' `mean_squared_error` with its ½
 * is `mseLoss(y, d).div(2)`.
 * @example tg.F.mseLoss(tg.tensor([1.02, 2.29]), tg.tensor([2, 4])) // 1.94225
 */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = checkReduction(opts.reduction ?? "mean", "mseLoss");
  const d = input.sub(pair(input, target, "mseLoss"));
  return reduce(d.mul(d), reduction);
}

/** Mean absolute error `mean(|input − target|)`. */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = checkReduction(opts.reduction ?? "mean", "l1Loss");
  return reduce(input.sub(pair(input, target, "l1Loss")).abs(), reduction);
}

/**
 * Huber loss: `½d²` where `|d| < delta`, else `delta·(|d| − ½delta)`, with `d = input − target`.
 * @example tg.F.huberLoss(tg.tensor([0, 3]), tg.tensor([0.5, 0]), { delta: 1 }) // (0.125 + 2.5) / 2
 */
export function huberLoss(input: Tensor, target: Tensor, opts: HuberLossOptions = {}): Tensor {
  const reduction = checkReduction(opts.reduction ?? "mean", "huberLoss");
  const delta = opts.delta ?? 1;
  if (typeof delta !== "number" || !(delta > 0)) throw new RangeError(`huberLoss: delta must be positive, got ${delta}`);
  const d = input.sub(pair(input, target, "huberLoss"));
  const a = d.abs();
  const loss = ops.where(a.lt(delta), d.mul(d).mul(0.5), a.sub(0.5 * delta).mul(delta));
  return reduce(loss, reduction);
}

/** log(q) clamped below at −100 as PyTorch's BCE does (never NaN). */
function clampedLog(q: Tensor): Tensor {
  const ok = q.gt(Math.exp(-100));
  return ops.where(ok, ops.where(ok, q, 1).log(), -100);
}

/** PyTorch's lower bound on p(1 − p) in BCE's gradient: 1e-12 as a C++ float constant. */
const BCE_GRAD_EPS = Math.fround(1e-12);

/**
 * Per-element BCE. The value is PyTorch's (logs clamped at −100); the gradient is PyTorch's
 * `(p − y) / max(p(1 − p), 1e-12)` everywhere, extremes included. It comes from a carrier term
 * `c − c.detach()` (zero in value) whose derivative is that formula: the plain BCE where
 * p(1 − p) ≥ 1e-12, and `(p²/2 − y·p) / 1e-12` beyond, so higher derivatives stay right too.
 */
function bceElementwise(p: Tensor, y: Tensor): Tensor {
  const value = y.mul(clampedLog(p)).add(ops.sub(1, y).mul(clampedLog(ops.sub(1, p)))).neg();
  const inner = p.mul(ops.sub(1, p)).ge(BCE_GRAD_EPS);
  const safe = ops.where(inner, p, 0.5);
  const plain = y.mul(safe.log()).add(ops.sub(1, y).mul(ops.sub(1, safe).log())).neg();
  const steep = p.mul(p).mul(0.5).sub(y.mul(p)).div(BCE_GRAD_EPS);
  const carrier = ops.where(inner, plain, steep);
  return value.detach().add(carrier.sub(carrier.detach()));
}

/**
 * Binary cross entropy on probabilities: `−w·(y·log p + (1 − y)·log(1 − p))`, each log clamped
 * at −100 so p = 0 or 1 gives a finite loss (PyTorch's rule). Prefer
 * `binaryCrossEntropyWithLogits` on raw scores: it is exact for saturated sigmoids.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BCELossOptions = {}): Tensor {
  const op = "binaryCrossEntropy";
  const reduction = checkReduction(opts.reduction ?? "mean", op);
  const y = pair(input, target, op);
  const weight = checkWeight(opts.weight, input.shape, op, "weight");
  const p = input.detach().dataSync();
  for (let i = 0; i < p.length; i++)
    if (!(p[i]! >= 0 && p[i]! <= 1))
      throw new RangeError(`${op}: every input element must be a probability in [0, 1], got ${p[i]} (apply sigmoid first, or use binaryCrossEntropyWithLogits)`);
  let loss = bceElementwise(input, y);
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}

/**
 * Binary cross entropy on logits x, computed stably as
 * `(1 − y)·x + (1 + (posWeight − 1)·y)·softplus(−x)` with
 * `softplus(z) = max(z, 0) + log(1 + exp(−|z|))` (no overflow for any x).
 * @example tg.F.binaryCrossEntropyWithLogits(tg.tensor([100]), tg.tensor([0])) // 100
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BCEWithLogitsLossOptions = {}): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  const reduction = checkReduction(opts.reduction ?? "mean", op);
  const y = pair(input, target, op);
  const weight = checkWeight(opts.weight, input.shape, op, "weight");
  const posWeight = checkWeight(opts.posWeight, input.shape, op, "posWeight");
  const z = input.neg();
  // maximum (not relu): its tie rule gives softplus'(0) = ½ exactly
  const softplusNegX = z.maximum(0).add(z.abs().neg().exp().add(1).log());
  const logWeight = posWeight ? posWeight.sub(1).mul(y).add(1) : null;
  let loss = ops.sub(1, y).mul(input).add(logWeight ? logWeight.mul(softplusNegX) : softplusNegX);
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}
