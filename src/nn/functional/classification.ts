/** @file Multi-class losses: negative log likelihood and cross entropy (class-index or probability targets, label smoothing). */
import * as ops from "../../ops/index.ts";
import { isFloating } from "../../base/dtype.ts";
import { formatShape, shapesEqual } from "../../base/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg, checkReduction, checkTensorArg, checkVector, type Reduction } from "../util.ts";

export interface NLLLossOptions {
  /** Per-class weight, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing, not even to the mean's denominator (default −100). */
  ignoreIndex?: number;
  /** "mean" (default: weighted mean over the non-ignored targets), "sum" or "none". */
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NLLLossOptions {
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/** Per-element facts about class-index targets: safe gather indices, weights (0 where ignored), their sum. */
interface Targets {
  index: Tensor;
  weight: Tensor;
  keep: Tensor;
  weightSum: number;
}

/**
 * Checks `target` (int32, shape [N, d1, ...] for input [N, C, d1, ...]) and its values, and
 * computes each element's class weight. Weights are constants: PyTorch does not differentiate them.
 */
function classTargets(input: Tensor, target: Tensor, weight: Tensor | null, ignoreIndex: number, op: string): Targets {
  const c = input.shape[1]!;
  const expected = [input.shape[0]!, ...input.shape.slice(2)];
  if (!shapesEqual(target.shape, expected))
    throw new Error(
      `${op}: target shape ${formatShape(target.shape)} does not fit input shape ${formatShape(input.shape)} (class-index targets have shape ${formatShape(expected)}; probability targets the input's shape)`,
    );
  if (target.dtype !== "int32")
    throw new TypeError(
      `${op}: class-index targets must be int32, got dtype ${target.dtype} with shape ${formatShape(target.shape)} (use .to("int32"); probability targets have the input's shape ${formatShape(input.shape)})`,
    );
  const t = target.dataSync();
  const w = weight ? weight.detach().dataSync() : null;
  const index = new Int32Array(t.length);
  const wt = new Float64Array(t.length);
  const keep = new Uint8Array(t.length);
  let weightSum = 0;
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v === ignoreIndex) continue;
    if (v < 0 || v >= c) throw new RangeError(`${op}: target ${v} is out of bounds for ${c} classes (valid: 0..${c - 1}, or ignoreIndex ${ignoreIndex})`);
    index[i] = v;
    keep[i] = 1;
    wt[i] = w ? w[v]! : 1;
    weightSum += wt[i]!;
  }
  return {
    index: new Tensor(index, "int32", target.shape),
    weight: new Tensor(wt, "float64", target.shape).to(input.dtype),
    keep: new Tensor(keep, "bool", target.shape),
    weightSum,
  };
}

function checkClassWeight(weight: Tensor | null | undefined, c: number, op: string): Tensor | null {
  if (weight === undefined || weight === null) return null;
  checkFloatArg(weight, op, "weight");
  checkVector(weight, c, op, "weight (one value per class)");
  return weight;
}

/** Input [C] with target [] is a batch of one; returns the batched pair and how to undo it. */
function batched(input: Tensor, target: Tensor, op: string): [Tensor, Tensor, boolean] {
  if (input.ndim === 0) throw new Error(`${op}: input must have a class dim, got a 0-d tensor`);
  if (input.ndim > 1) return [input, target, false];
  return [input.unsqueeze(0), target.unsqueeze(0), true];
}

/** The weighted NLL over class-index targets, given log-probabilities (already batched). */
function nllCore(logp: Tensor, t: Targets, reduction: Reduction): Tensor {
  const picked = logp.gather(1, t.index.unsqueeze(1)).squeeze(1);
  const losses = ops.where(t.keep, picked.mul(t.weight).neg(), 0);
  if (reduction === "none") return losses;
  const total = losses.sum();
  return reduction === "sum" ? total : total.div(t.weightSum);
}

/**
 * Negative log likelihood of log-probabilities `input` ([N, C], [C], or [N, C, d1, ...]) at
 * the int32 class indices `target` ([N], [], or [N, d1, ...]): `−weight[t]·input[i, t]`. The
 * mean divides by the summed weights of the non-ignored targets, as PyTorch does.
 * @example tg.F.nllLoss(logits.logSoftmax(1), labels)
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLLossOptions = {}): Tensor {
  const op = "nllLoss";
  const reduction = checkReduction(opts.reduction ?? "mean", op);
  checkFloatArg(input, op, "input");
  checkTensorArg(target, op, "target");
  const [x, tgt, unbatched] = batched(input, target, op);
  const weight = checkClassWeight(opts.weight, x.shape[1]!, op);
  const out = nllCore(x, classTargets(x, tgt, weight, opts.ignoreIndex ?? -100, op), reduction);
  return unbatched && reduction === "none" ? out.reshape([]) : out;
}

/**
 * Cross entropy of raw scores `logits` ([N, C], [C], or [N, C, d1, ...]), computed stably through
 * `logSoftmax`. `target` is either int32 class indices ([N] / [N, d1, ...]) or class
 * probabilities / one-hot rows with the logits' own shape (float). Options follow PyTorch:
 * per-class `weight`, `ignoreIndex` (index targets only), `reduction`, `labelSmoothing`.
 * @example tg.F.crossEntropy(tg.tensor([[2, 1, 0.1]]), tg.tensor([0], { dtype: "int32" })) // 0.4170
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  const reduction = checkReduction(opts.reduction ?? "mean", op);
  checkFloatArg(logits, op, "input");
  checkTensorArg(target, op, "target");
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== "number" || !(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const probTarget = shapesEqual(logits.shape, target.shape);
  if (probTarget && !isFloating(target.dtype))
    throw new TypeError(
      `${op}: a target with the input's shape ${formatShape(logits.shape)} holds class probabilities and must be floating point, got dtype ${target.dtype} (one-hot labels: .to("float32"); class indices have shape [N])`,
    );
  if (probTarget && ignoreIndex >= 0) throw new Error(`${op}: ignoreIndex is not supported for probability targets`);
  const [x, tgt, unbatched] = batched(logits, target, op);
  const c = x.shape[1]!;
  const weight = checkClassWeight(opts.weight, c, op);
  const wShape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const logp = x.logSoftmax(1);
  let out: Tensor;
  if (probTarget) {
    let q = tgt.to(x.dtype);
    if (eps > 0) q = q.mul(1 - eps).add(eps / c);
    let prod = logp.mul(q);
    if (weight) prod = prod.mul(weight.reshape(wShape));
    if (reduction === "none") out = prod.sum(1).neg();
    else if (reduction === "sum") out = prod.sum().neg();
    else out = prod.sum().neg().div(x.numel() / c);
  } else {
    const t = classTargets(x, tgt, weight, ignoreIndex, op);
    out = nllCore(logp, t, reduction);
    if (eps > 0) {
      // PyTorch: (1 − ε)·nll + ε/C · Σ_c −w_c·log p_c, the smoothing term normalised like the nll
      const smooth = ops.where(t.keep, (weight ? logp.mul(weight.detach().reshape(wShape)) : logp).sum(1).neg(), 0);
      let s: Tensor;
      if (reduction === "none") s = smooth;
      else if (reduction === "sum") s = smooth.sum();
      else {
        const kept = t.keep.sum().item();
        s = smooth.sum().div(weight ? t.weightSum : kept);
      }
      out = out.mul(1 - eps).add(s.mul(eps / c));
    }
  }
  return unbatched && reduction === "none" ? out.reshape([]) : out;
}
