/** @file Reductions (sum, mean, max, min, arg*, var, std, logSumExp) and the softmax family. */
import { isGradEnabled } from "../autograd/mode.ts";
import type { ReduceKernel } from "../backend/backend.ts";
import { isFloating } from "../base/dtype.ts";
import { formatShape, normalizeDim, normalizeDims } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkTensor, fromKernel, kernels, record } from "./core.ts";
import { where } from "./elementwise.ts";
import { squeeze } from "./shape.ts";

export type Dims = number | readonly number[] | null | undefined;

/** Output shape of reducing `axes`: kept as 1 or removed. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

function runReduce(op: ReduceKernel & ("sum" | "max" | "min"), x: Tensor, dim: Dims, keepdim: boolean, name: string): Tensor {
  checkTensor(x, name);
  const axes = normalizeDims(dim, x.ndim, name);
  if (op !== "sum" && axes.some((a) => x.shape[a] === 0))
    throw new Error(`${name}: cannot reduce over an empty dim of shape ${formatShape(x.shape)} (the operation has no identity)`);
  const dtype = op === "sum" && x.dtype === "bool" ? "int32" : x.dtype;
  const out = fromKernel(kernels().reduce(op, x, axes), dtype, reducedShape(x.shape, axes, keepdim));
  return record(op === "sum" ? "sum" : op === "max" ? "amax" : "amin", [x], out, { axes, keepdim });
}

/** Sum over `dim` (all dims when omitted). Bool sums count as int32. */
export const sum = (x: Tensor, dim?: Dims, keepdim = false): Tensor => runReduce("sum", x, dim, keepdim, "sum");

/** Mean over `dim` (all dims when omitted); floating tensors only, as in PyTorch. */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  checkTensor(x, "mean");
  if (!isFloating(x.dtype))
    throw new TypeError(`mean: input dtype must be floating point, got ${x.dtype} (convert with .to("float32"))`);
  const axes = normalizeDims(dim, x.ndim, "mean");
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return sum(x, axes, keepdim).div(count);
}

/** Largest values over `dim` (all dims when omitted); ties share the gradient. */
export const amax = (x: Tensor, dim?: Dims, keepdim = false): Tensor => runReduce("max", x, dim, keepdim, "amax");
/** Smallest values over `dim` (all dims when omitted). */
export const amin = (x: Tensor, dim?: Dims, keepdim = false): Tensor => runReduce("min", x, dim, keepdim, "amin");

function argReduce(op: "argmax" | "argmin", x: Tensor, dim: number | null | undefined, keepdim: boolean): Tensor {
  checkTensor(x, op);
  if (dim === null || dim === undefined) {
    if (x.numel() === 0) throw new Error(`${op}: cannot reduce an empty tensor of shape ${formatShape(x.shape)}`);
    const flat = x.reshape([-1]);
    const out = fromKernel(kernels().reduce(op, flat, [0]), "int32", []);
    return keepdim ? out.reshape(x.shape.map(() => 1)) : out;
  }
  const d = normalizeDim(dim, x.ndim, op);
  if (x.ndim > 0 && x.shape[d] === 0) throw new Error(`${op}: cannot reduce over an empty dim of shape ${formatShape(x.shape)}`);
  const axes = x.ndim === 0 ? [] : [d];
  return fromKernel(kernels().reduce(op, x, axes), "int32", reducedShape(x.shape, axes, keepdim));
}

/** Index of the largest value along `dim` (of the flattened tensor when omitted), int32; the first one on ties. */
export const argmax = (x: Tensor, dim?: number | null, keepdim = false): Tensor => argReduce("argmax", x, dim, keepdim);
/** Index of the smallest value along `dim`. */
export const argmin = (x: Tensor, dim?: number | null, keepdim = false): Tensor => argReduce("argmin", x, dim, keepdim);

function extremeWithIndex(op: "max" | "min", x: Tensor, dim: number | undefined, keepdim: boolean) {
  if (dim === undefined) return op === "max" ? amax(x) : amin(x);
  checkTensor(x, op);
  const indices = argReduce(op === "max" ? "argmax" : "argmin", x, dim, true);
  // values via gather, so the gradient goes to the chosen index, as in PyTorch
  const kept = x.ndim === 0 ? x : x.gather(dim, indices);
  if (keepdim || x.ndim === 0) return { values: kept, indices };
  const d = normalizeDim(dim, x.ndim, op);
  return { values: squeeze(kept, d), indices: squeeze(indices, d) };
}

/** `max(x)`: the largest element; `max(x, dim)`: `{ values, indices }` along `dim`. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  return extremeWithIndex("max", x, dim, keepdim);
}

/** `min(x)`: the smallest element; `min(x, dim)`: `{ values, indices }` along `dim`. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
  return extremeWithIndex("min", x, dim, keepdim);
}

/** Variance with Bessel's correction by default (`correction: 1`), as `torch.var`. */
export function variance(x: Tensor, dim?: Dims, keepdim = false, opts: { correction?: number } = {}): Tensor {
  checkTensor(x, "var");
  if (!isFloating(x.dtype)) throw new TypeError(`var: input dtype must be floating point, got ${x.dtype}`);
  const axes = normalizeDims(dim, x.ndim, "var");
  const n = axes.reduce((c, a) => c * x.shape[a]!, 1);
  const centered = x.sub(mean(x, axes, true));
  return sum(centered.mul(centered), axes, keepdim).div(Math.max(0, n - (opts.correction ?? 1)));
}

/**
 * Standard deviation: √var. Where the variance is 0 (constant values) the gradient is 0, as in
 * PyTorch's std_backward, instead of √'s infinite slope times 0 = NaN; the second `where` keeps
 * the unused branch finite so higher-order gradients stay NaN-free too.
 */
export function std(x: Tensor, dim?: Dims, keepdim = false, opts: { correction?: number } = {}): Tensor {
  const v = variance(x, dim, keepdim, opts);
  const flat = v.eq(0);
  return where(flat, 0, where(flat, 1, v).sqrt());
}

/** The largest values along `dims` with ±∞ replaced by 0: a safe shift that leaves results unchanged. */
function stableShift(x: Tensor, axes: readonly number[]): Tensor {
  const m = amax(x.detach(), axes, true);
  return where(m.abs().eq(Number.POSITIVE_INFINITY), 0, m);
}

/** log Σ exp(x) over `dim`, computed stably (no overflow for large x). */
export function logSumExp(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  checkTensor(x, "logSumExp");
  const xf = isFloating(x.dtype) ? x : x.to("float32");
  const axes = normalizeDims(dim, x.ndim, "logSumExp");
  const m = stableShift(xf, axes);
  const out = sum(xf.sub(m).exp(), axes, true).log().add(m);
  return keepdim ? out : squeeze(out, axes);
}

/** softmax along `dim`: exp(x) / Σ exp(x), with the max subtracted first so large inputs do not overflow. */
export function softmax(x: Tensor, dim: number): Tensor {
  checkTensor(x, "softmax");
  const xf = isFloating(x.dtype) ? x : x.to("float32");
  const d = normalizeDim(dim, x.ndim, "softmax");
  const e = xf.sub(stableShift(xf, [d])).exp();
  return e.div(sum(e, d, true));
}

/**
 * log(softmax(x)) along `dim`: (x − max) − log Σ exp(x − max), accurate for large and very
 * negative values. One kernel and one recorded op (`LogSoftmaxBackward0`); gradient:
 * logSoftmaxBackward. Rows with NaN or +∞, or of only −∞, are NaN, as in PyTorch.
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkTensor(x, "logSoftmax");
  const xf = isFloating(x.dtype) ? x : x.to("float32");
  const d = normalizeDim(dim, x.ndim, "logSoftmax");
  const out = fromKernel(kernels().logSoftmax(xf, d), xf.dtype, xf.shape);
  return record("logSoftmax", [xf], out, { dim: d });
}

/**
 * The gradient of `y = logSoftmax(x, dim)` given y: g − exp(y) · Σ_dim g. One backend kernel when
 * no graph is being recorded; under createGraph composed from differentiable ops (exp, sum, mul,
 * sub), so higher-order gradients flow through g and through y back to x.
 */
export function logSoftmaxBackward(g: Tensor, y: Tensor, dim: number): Tensor {
  if (!isGradEnabled() && g.dtype === y.dtype && g.ndim === y.ndim && g.shape.every((n, i) => n === y.shape[i]))
    return fromKernel(kernels().logSoftmaxBackward(g, y, dim), g.dtype, y.shape);
  return g.sub(y.exp().mul(sum(g, dim, true)));
}
