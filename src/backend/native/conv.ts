/** @file The native backend's 2-D window kernels (float32): im2col, col2im, max pooling and its backward (bit-identical to js), and the fused convolution with its two gradients. */
import type { TypedArray } from "../../base/dtype.ts";
import { poolTiles, type StridedView, type Window2d, windowInts } from "../backend.ts";
import type { ConvWeightGradients, FusedArgs, PooledValues } from "../fused.ts";
import { jsBackend } from "../js/index.ts";
import { nativeAddon } from "./addon.ts";
import { outputF32, outputI32 } from "./alloc.ts";

const addon = nativeAddon();

const windowParams = new Float64Array(19);

function fillWindowParams(offset: number, nchw: readonly number[], strides: readonly number[], win: Window2d): Float64Array {
  const p = windowParams;
  let k = 0;
  p[k++] = offset;
  for (const d of nchw) p[k++] = d;
  for (const s of strides) p[k++] = s;
  for (const v of windowInts(win)) p[k++] = v;
  return p;
}

export function im2col(x: StridedView, win: Window2d): TypedArray {
  if (addon === null || x.dtype !== "float32") return jsBackend.im2col(x, win);
  const [N, C] = x.shape as [number, number, number, number];
  const out = outputF32(N * C * win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1]);
  if (out.length === 0) return out;
  addon.im2col(x.data as Float32Array, out, fillWindowParams(x.offset, x.shape, x.strides, win));
  return out;
}

export function col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray {
  if (addon === null || cols.dtype !== "float32") return jsBackend.col2im(cols, win, inSize);
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (win.kernel[0] * win.kernel[1]);
  const out = outputF32(N * C * inSize[0] * inSize[1]);
  if (out.length === 0) return out;
  addon.col2im(cols.data as Float32Array, out, fillWindowParams(cols.offset, [N, C, inSize[0], inSize[1]], cols.strides, win));
  return out;
}

export function maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array } {
  if (addon === null || x.dtype !== "float32") return jsBackend.maxPool2d(x, win);
  const [N, C] = x.shape as [number, number, number, number];
  const n = N * C * win.outSize[0] * win.outSize[1];
  const values = outputF32(n);
  const indices = outputI32(n);
  if (n > 0) addon.maxPool2d(x.data as Float32Array, values, indices, fillWindowParams(x.offset, x.shape, x.strides, win));
  return { values, indices };
}

const poolBackParams = new Float64Array(16);

export function maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray {
  if (addon === null || g.dtype !== "float32" || indices.dtype !== "int32") return jsBackend.maxPool2dBackward(g, indices, inSize);
  const [N, C, Ho, Wo] = g.shape as [number, number, number, number];
  const out = outputF32(N * C * inSize[0] * inSize[1]);
  if (out.length === 0) return out;
  const p = poolBackParams;
  p.set([g.offset, indices.offset, N, C, Ho, Wo, inSize[0], inSize[1], ...g.strides, ...indices.strides]);
  addon.maxPool2dBackward(g.data as Float32Array, indices.data as Int32Array, out, p);
  return out;
}

/** Scratch for the fused convolutions' 32 integer arguments (see NativeAddon.conv2d). */
const convParams = new Float64Array(32);
const NO_VIEW: StridedView | null = null;

/** Fills convParams for x [N, C, H, W], O output channels and the views a call reads (null: unused, zeros). */
function fillConvParams(nchw: readonly number[], o: number, win: Window2d, x: StridedView | null, w: StridedView | null, g: StridedView | null, bias: StridedView | null): Float64Array {
  const p = convParams;
  p.fill(0);
  p.set(nchw, 0);
  p[4] = o;
  p.set(windowInts(win), 5);
  const put = (v: StridedView | null, at: number) => {
    if (v === null) return;
    p[at] = v.offset;
    p.set(v.strides, at + 1);
  };
  put(x, 15);
  put(w, 20);
  put(g, 25);
  if (bias !== null) {
    p[30] = bias.offset;
    p[31] = bias.strides[0]!;
  }
  return p;
}

const isF32 = (v: StridedView | null) => v === null || v.dtype === "float32";
/** A float32 view's storage, or null for none (an absent bias or relu output). */
const dataF32 = (v: StridedView | null) => (v === null ? null : (v.data as Float32Array));

const yParams = new Float64Array(5);
/** [offset, 4 strides] of the relu'd output a gradient is masked by (unused when there is none). */
function reluOutputParams(y: StridedView | null): Float64Array {
  if (y !== null) {
    yParams[0] = y.offset;
    yParams.set(y.strides, 1);
  }
  return yParams;
}

/** Floats of one sample's columns above which conv2dBackwardInput leaves a batch of fewer than 4 to the composed path. */
const LARGE_IMAGE_COLUMNS = 1 << 17;

/**
 * The fused convolution x [N, C, H, W] ⋆ w [O, C, kh, kw] + bias → [N, O, Ho, Wo]: per sample (or
 * block of output positions) im2col into an L2-sized scratch and one packed product, bias added
 * (and relu applied, when asked) in the same pass. Null (the front end composes) for other dtypes.
 */
export function conv2d({ x, w, bias, win, relu }: FusedArgs<"conv2d">): TypedArray | null {
  if (addon === null || !isF32(x) || !isF32(w) || !isF32(bias)) return null;
  const O = w.shape[0]!;
  const out = outputF32(x.shape[0]! * O * win.outSize[0] * win.outSize[1]);
  if (out.length > 0) addon.conv2d(x.data as Float32Array, w.data as Float32Array, dataF32(bias), out, fillConvParams(x.shape, O, win, x, w, NO_VIEW, bias), relu);
  return out;
}

/** maxPool2d(relu(conv2d(x, w, bias, win)), pool) in one pass, each band of pool rows' conv output pooled in scratch; null where it does not apply. */
export function conv2dReluMaxPool({ x, w, bias, win, pool }: FusedArgs<"conv2dReluMaxPool">): PooledValues | null {
  if (addon === null || !isF32(x) || !isF32(w) || !isF32(bias) || !poolTiles(pool)) return null;
  const O = w.shape[0]!;
  const n = x.shape[0]! * O * pool.outSize[0] * pool.outSize[1];
  const values = outputF32(n);
  const indices = outputI32(n);
  if (n === 0) return { values, indices };
  const p = fillConvParams(x.shape, O, win, x, w, NO_VIEW, bias);
  addon.conv2d(x.data as Float32Array, w.data as Float32Array, dataF32(bias), values, p, true, indices, new Float64Array([...pool.kernel, ...pool.outSize]));
  return { values, indices };
}

/** The gradient kernels' trailing arguments: none, or a pooled forward's int32 argmax and [offset, 4 strides, ph, pw, hp, wp]. */
type PoolArgs = [indices?: Int32Array, ip?: Float64Array];

/** A pooled forward's indices as PoolArgs, or null where the fused kernels do not apply. */
function poolArgs(indices: StridedView, pool: Window2d): PoolArgs | null {
  if (indices.dtype !== "int32" || !poolTiles(pool)) return null;
  return [indices.data as Int32Array, new Float64Array([indices.offset, ...indices.strides, ...pool.kernel, ...pool.outSize])];
}

/**
 * conv2d's input gradient: g [N, O, Ho, Wo], w [O, C, kh, kw] → [N, C, ...inSize], per sample
 * wᵀ·g' into scratch, then col2im. g' is g masked by the relu'd output y (null: unmasked), or, with
 * `pooled`, the gradient the unfused chain rebuilds per block from the pooled g, values y and argmax.
 */
function inputGradient(a: Omit<FusedArgs<"conv2dBackwardInput">, "y">, y: StridedView | null, pooled: PoolArgs | null): TypedArray | null {
  const { g, w, win, inSize } = a;
  if (addon === null || pooled === null || !isF32(g) || !isF32(w) || !isF32(y)) return null;
  const [N, O] = g.shape as [number, number];
  const C = w.shape[1]!;
  // Its tasks are whole samples (their windows overlap in dx): fewer than four large images would
  // leave threads idle, so the composed path (threaded matmul and col2im) takes them — a choice by
  // shape alone, so results still do not depend on the thread count.
  if (N < 4 && C * win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1] > LARGE_IMAGE_COLUMNS) return null;
  const out = outputF32(N * C * inSize[0] * inSize[1]);
  if (out.length === 0) return out;
  const p = fillConvParams([N, C, inSize[0], inSize[1]], O, win, NO_VIEW, w, g, NO_VIEW);
  addon.conv2dBackwardInput(g.data as Float32Array, w.data as Float32Array, out, p, dataF32(y), reluOutputParams(y), ...pooled);
  return out;
}

/**
 * conv2d's weight (and bias) gradient: g [N, O, Ho, Wo], x [N, C, H, W] → dw [O, C, kh, kw] and db
 * [O] when `bias`; samples summed in chunks fixed by the shapes, so any thread count gives the same
 * bits. g' as in inputGradient.
 */
function weightGradient(a: Omit<FusedArgs<"conv2dBackwardWeight">, "y">, y: StridedView | null, pooled: PoolArgs | null): ConvWeightGradients | null {
  const { g, x, win, bias } = a;
  if (addon === null || pooled === null || !isF32(g) || !isF32(x) || !isF32(y)) return null;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const O = g.shape[1]!;
  const dw = outputF32(O * C * win.kernel[0] * win.kernel[1]);
  const db = bias ? outputF32(O) : null;
  const p = fillConvParams([N, C, H, W], O, win, x, NO_VIEW, g, NO_VIEW);
  addon.conv2dBackwardWeight(g.data as Float32Array, x.data as Float32Array, dw, db, p, dataF32(y), reluOutputParams(y), ...pooled);
  return { dw, db };
}

/** The fused table's conv2dBackwardInput and conv2dBackwardWeight (g masked by y when given). */
export const conv2dBackwardInput = (a: FusedArgs<"conv2dBackwardInput">) => inputGradient(a, a.y, []);
export const conv2dBackwardWeight = (a: FusedArgs<"conv2dBackwardWeight">) => weightGradient(a, a.y, []);
/** conv2dReluMaxPool's gradients: the same kernels on the gradient the unfused chain rebuilds from the pooled g, values and argmax. */
export const conv2dReluMaxPoolBackwardInput = (a: FusedArgs<"conv2dReluMaxPoolBackwardInput">) => inputGradient(a, a.pooled, poolArgs(a.indices, a.pool));
export const conv2dReluMaxPoolBackwardWeight = (a: FusedArgs<"conv2dReluMaxPoolBackwardWeight">) => weightGradient(a, a.pooled, poolArgs(a.indices, a.pool));
