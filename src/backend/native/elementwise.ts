/**
 * @file The native backend's elementwise kernels and reductions (float32 views; everything else,
 * and calls under NATIVE_ELEMENTWISE_MIN elements, runs the js kernels). Bit-identical to js.
 */
import type { DType, TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import { type BinaryKernel, COMPARISONS, type ReduceKernel, type StridedView, type UnaryKernel } from "../backend.ts";
import type { FusedArgs } from "../fused.ts";
import { jsBackend } from "../js/index.ts";
import { reluBackward as jsReluBackward } from "../js/relu-backward.ts";
import { nativeAddon } from "./addon.ts";
import { outputF32, outputI32 } from "./alloc.ts";

const addon = nativeAddon();

/** Below this many elements an elementwise call stays in js: its loop costs less than the N-API call. */
export const NATIVE_ELEMENTWISE_MIN = 2048;

const BINARY_CODES: Partial<Record<BinaryKernel, number>> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, ne: 7, gt: 8, ge: 9, lt: 10, le: 11 };
const RELU_GRAD = 12;
/** Unary ops whose float32 results are IEEE-exact, so native and js agree bit for bit (exp, tanh… stay in js). */
const UNARY_CODES: Partial<Record<UnaryKernel, number>> = { neg: 0, abs: 1, relu: 2, sqrt: 3, rsqrt: 4, sign: 5 };
export const MAX_DIMS = 16;
const viewParams = new Float64Array(3 + 3 * MAX_DIMS);

/** [nd, offset(s)…, shape…, strides… per view] into the shared scratch. */
function fillViewParams(shape: readonly number[], views: readonly StridedView[]): Float64Array {
  const nd = shape.length;
  viewParams[0] = nd;
  let k = 1;
  for (const v of views) viewParams[k++] = v.offset;
  for (let d = 0; d < nd; d++) viewParams[k++] = shape[d]!;
  for (const v of views) for (let d = 0; d < nd; d++) viewParams[k++] = v.strides[d]!;
  return viewParams;
}

export function binary(op: BinaryKernel, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const code = BINARY_CODES[op];
  const n = sizeOf(shape);
  if (addon === null || code === undefined || a.dtype !== "float32" || b.dtype !== "float32" || n < NATIVE_ELEMENTWISE_MIN || shape.length > MAX_DIMS)
    return jsBackend.binary(op, a, b, shape);
  const out = COMPARISONS.has(op) ? new Uint8Array(n) : outputF32(n);
  addon.binary(code, a.data as Float32Array, b.data as Float32Array, out, fillViewParams(shape, [a, b]));
  return out;
}

/** g · (y > 0 ? 1 : 0) in one pass (the addon's binary op 12), instead of gt, a bool → float copy and mul. */
export function reluBackward({ g, y }: FusedArgs<"reluBackward">): TypedArray {
  const n = sizeOf(g.shape);
  if (addon === null || g.dtype !== "float32" || y.dtype !== "float32" || n < NATIVE_ELEMENTWISE_MIN || g.shape.length > MAX_DIMS) return jsReluBackward(g, y);
  const out = outputF32(n);
  addon.binary(RELU_GRAD, g.data as Float32Array, y.data as Float32Array, out, fillViewParams(g.shape, [g, y]));
  return out;
}

const adamHyper = new Float64Array(9);

/** Adam/AdamW in the addon: the js loop's float32 arithmetic, vectorized and threaded (optim/adam.ts falls back when false). */
export function adamStep({ w, g, m, v, vMax, h }: FusedArgs<"adamStep">): boolean {
  const f32 = (a: TypedArray | null) => a === null || a instanceof Float32Array;
  if (addon === null || !(w instanceof Float32Array) || !f32(g) || !f32(m) || !f32(v) || !f32(vMax) || w.length < NATIVE_ELEMENTWISE_MIN) return false;
  adamHyper.set(h);
  addon.adamStep(w, g as Float32Array, m as Float32Array, v as Float32Array, vMax as Float32Array | null, adamHyper);
  return true;
}

export function unary(op: UnaryKernel, x: StridedView): TypedArray {
  const code = UNARY_CODES[op];
  const n = sizeOf(x.shape);
  if (addon === null || code === undefined || x.dtype !== "float32" || n < NATIVE_ELEMENTWISE_MIN || x.shape.length > MAX_DIMS) return jsBackend.unary(op, x);
  const out = outputF32(n);
  addon.unary(code, x.data as Float32Array, out, fillViewParams(x.shape, [x]));
  return out;
}

export function copy(x: StridedView, dtype: DType): TypedArray {
  const n = sizeOf(x.shape);
  // float32 → float32 (contiguous()) and bool → float32 (masks in gradient rules)
  if (addon === null || (x.dtype !== "float32" && x.dtype !== "bool") || dtype !== "float32" || n < NATIVE_ELEMENTWISE_MIN || x.shape.length > MAX_DIMS)
    return jsBackend.copy(x, dtype);
  const out = outputF32(n);
  addon.copy(x.data as Float32Array | Uint8Array, out, fillViewParams(x.shape, [x]));
  return out;
}

const REDUCE_CODES: Record<ReduceKernel, number> = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 };
const reduceParams = new Float64Array(3 + 4 * MAX_DIMS);

export function reduce(op: ReduceKernel, x: StridedView, axes: readonly number[]): TypedArray {
  const n = sizeOf(x.shape);
  const nr = axes.length;
  if (addon === null || x.dtype !== "float32" || n < NATIVE_ELEMENTWISE_MIN || x.shape.length > MAX_DIMS || axes.some((d) => x.shape[d] === 0))
    return jsBackend.reduce(op, x, axes);
  const kept: number[] = [];
  for (let d = 0; d < x.shape.length; d++) if (!axes.includes(d)) kept.push(d);
  const p = reduceParams;
  let k = 0;
  p[k++] = kept.length;
  p[k++] = nr;
  p[k++] = x.offset;
  for (const d of kept) p[k++] = x.shape[d]!;
  for (const d of kept) p[k++] = x.strides[d]!;
  for (const d of axes) p[k++] = x.shape[d]!;
  for (const d of axes) p[k++] = x.strides[d]!;
  let nOut = 1;
  for (const d of kept) nOut *= x.shape[d]!;
  const out = op === "argmax" || op === "argmin" ? outputI32(nOut) : outputF32(nOut);
  addon.reduce(REDUCE_CODES[op], x.data as Float32Array, out, p);
  return out;
}
