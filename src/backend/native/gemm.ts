/** @file The native backend's batched matrix product: float32 in the addon's sgemm, other dtypes in the js kernel. */
import type { TypedArray } from "../../base/dtype.ts";
import type { PackedLinear, StridedView } from "../backend.ts";
import type { LinearGradients } from "../fused.ts";
import { linear as jsLinear } from "../js/linear.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { nativeAddon } from "./addon.ts";
import { outputF32 } from "./alloc.ts";

const addon = nativeAddon();

/** Scratch for sgemm's integer arguments: one typed array instead of twelve N-API number conversions. */
const params = new Float64Array(12);
/** The same for the fused linear layer: sgemm's twelve, then [biasOffset, biasStride, relu]. */
const linearParams = new Float64Array(15);

/** a [B, M, K] · b [B, K, N] → [B, M, N]; float32 in the addon, other dtypes in the js kernel. */
export function matmul(a: StridedView, b: StridedView): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32" || addon === null) return jsMatmul(a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const out = outputF32(B * M * N);
  if (out.length === 0) return out;
  params[0] = B;
  params[1] = M;
  params[2] = N;
  params[3] = K;
  params[4] = a.offset;
  params[5] = a.strides[0]!;
  params[6] = a.strides[1]!;
  params[7] = a.strides[2]!;
  params[8] = b.offset;
  params[9] = b.strides[0]!;
  params[10] = b.strides[1]!;
  params[11] = b.strides[2]!;
  addon.sgemm(a.data as Float32Array, b.data as Float32Array, out, params);
  return out;
}

/**
 * The fused linear layer x [M, K] · wᵀ + bias, then relu, in one sgemm call: the product reads w
 * [N, K] through a transposed view (batch-1 inference takes the few-rows path) and the epilogue
 * does exactly the add and relu kernels' float operations, so the result is bit-identical to the
 * three separate ops, with one output array and one N-API crossing.
 */
export function linear(x: StridedView, w: StridedView, bias: StridedView | null, relu: boolean): TypedArray {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32") || addon === null) return jsLinear(x, w, bias, relu);
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const out = outputF32(M * N);
  if (out.length === 0) return out;
  const p = linearParams;
  p[0] = 1;
  p[1] = M;
  p[2] = N;
  p[3] = K;
  p[4] = x.offset;
  p[5] = 0;
  p[6] = x.strides[0]!;
  p[7] = x.strides[1]!;
  p[8] = w.offset;
  p[9] = 0;
  p[10] = w.strides[1]!;
  p[11] = w.strides[0]!;
  p[12] = bias === null ? 0 : bias.offset;
  p[13] = bias === null ? 0 : bias.strides[0]!;
  p[14] = relu ? 1 : 0;
  addon.sgemm(x.data as Float32Array, w.data as Float32Array, out, p, bias === null ? null : (bias.data as Float32Array));
  return out;
}

/** The native backend's packed weight: the addon's ArrayBuffer (header, then the kernel's B slivers). */
interface NativePackedLinear extends PackedLinear {
  readonly data: ArrayBuffer;
}

const packParams = new Float64Array(5);
const packedParams = new Float64Array(7);

/** w [N, K] float32 packed once by the addon (the selected micro-kernel's slivers over the whole depth); null for other dtypes. */
export function packLinear(w: StridedView): PackedLinear | null {
  if (w.dtype !== "float32" || addon === null) return null;
  const [N, K] = w.shape as [number, number];
  packParams[0] = N;
  packParams[1] = K;
  packParams[2] = w.offset;
  packParams[3] = w.strides[0]!;
  packParams[4] = w.strides[1]!;
  const packed: NativePackedLinear = { backend: "native", outFeatures: N, inFeatures: K, data: addon.packLinear(w.data as Float32Array, packParams) };
  return packed;
}

/**
 * `linear` with a weight from packLinear: no transpose or packing of w per call (batch-1
 * inference streams its slivers once), the same operations per element as `linear`, so the
 * same bits.
 */
export function linearPacked(x: StridedView, w: PackedLinear, bias: StridedView | null, relu: boolean): TypedArray {
  const packed = w as NativePackedLinear;
  if (addon === null || packed.backend !== "native" || !(packed.data instanceof ArrayBuffer))
    throw new Error("native linearPacked: the weight was not packed by the native backend's packLinear");
  if (x.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) throw new Error("native linearPacked: x and bias must be float32");
  const M = x.shape[0]!;
  const out = outputF32(M * w.outFeatures);
  if (out.length === 0) return out;
  const p = packedParams;
  p[0] = M;
  p[1] = x.offset;
  p[2] = x.strides[0]!;
  p[3] = x.strides[1]!;
  p[4] = bias === null ? 0 : bias.offset;
  p[5] = bias === null ? 0 : bias.strides[0]!;
  p[6] = relu ? 1 : 0;
  addon.linearPacked(x.data as Float32Array, packed.data, bias === null ? null : (bias.data as Float32Array), out, p);
  return out;
}

const backwardParams = new Float64Array(15);

/**
 * The fused linear layer's gradients from g [M, N] (x [M, K], w [N, K]; y the relu'd output or
 * null) in one addon call: relu's mask, the two products and the bias sum with the reluBackward,
 * matmul and reduce kernels' bits, each result where `needs` asks. Null for other dtypes.
 */
export function linearBackward(g: StridedView, x: StridedView, w: StridedView, y: StridedView | null, needs: readonly [boolean, boolean, boolean]): LinearGradients | null {
  if (addon === null || x.shape.length !== 2 || [g, x, w, y].some((v) => v !== null && v.dtype !== "float32")) return null;
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const dx = needs[0] ? outputF32(M * K) : null;
  const dw = needs[1] ? outputF32(N * K) : null;
  const db = needs[2] ? outputF32(N) : null;
  const p = backwardParams;
  p.fill(0);
  p[0] = M;
  p[1] = N;
  p[2] = K;
  for (const [i, v] of [g, x, w, y].entries()) if (v !== null) p.set([v.offset, ...v.strides], 3 + 3 * i);
  addon.linearBackward(g.data as Float32Array, x.data as Float32Array, w.data as Float32Array, y === null ? null : (y.data as Float32Array), dx, dw, db, p);
  return { dx, dw, db };
}
