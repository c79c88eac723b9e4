/** @file The native backend's batched matrix product: float32 in the addon's sgemm, other dtypes in the js kernel. */
import type { TypedArray } from "../../base/dtype.ts";
import type { PackedLinear, StridedView } from "../backend.ts";
import type { FusedArgs, LinearGradients } from "../fused.ts";
import { linear as jsLinear } from "../js/linear.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { nativeAddon } from "./addon.ts";
import { outputF32 } from "./alloc.ts";

/**
 * Writes the per-call parameters: a loop over the arguments, where `p.set([...])` builds an array
 * and takes Float64Array#set's generic path (about 0.5 µs a call, measurable at batch 1).
 */
function write(p: Float64Array, ...v: number[]): void {
  for (let i = 0; i < v.length; i++) p[i] = v[i]!;
}

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
  write(params, B, M, N, K, a.offset, a.strides[0]!, a.strides[1]!, a.strides[2]!, b.offset, b.strides[0]!, b.strides[1]!, b.strides[2]!);
  addon.sgemm(a.data as Float32Array, b.data as Float32Array, out, params);
  return out;
}

/** A float32 view's storage, or null for none (an absent bias or relu output). */
const dataF32 = (v: StridedView | null) => (v === null ? null : (v.data as Float32Array));

/**
 * The fused linear layer x [M, K] · wᵀ + bias, then relu, in one sgemm call: the product reads w
 * [N, K] through a transposed view (batch-1 inference takes the few-rows path) and the epilogue
 * does exactly the add and relu kernels' float operations, so the result is bit-identical to the
 * three separate ops, with one output array and one N-API crossing.
 */
export function linear({ x, w, bias, relu }: FusedArgs<"linear">): TypedArray {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32") || addon === null) return jsLinear(x, w, bias, relu);
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const out = outputF32(M * N);
  if (out.length === 0) return out;
  const bo = bias === null ? 0 : bias.offset;
  const bs = bias === null ? 0 : bias.strides[0]!;
  write(linearParams, 1, M, N, K, x.offset, 0, x.strides[0]!, x.strides[1]!, w.offset, 0, w.strides[1]!, w.strides[0]!, bo, bs, relu ? 1 : 0);
  addon.sgemm(x.data as Float32Array, w.data as Float32Array, out, linearParams, dataF32(bias));
  return out;
}

/** The native backend's packed weight: the addon's ArrayBuffer (header, then the kernel's B slivers). */
interface NativePackedLinear extends PackedLinear {
  readonly data: ArrayBuffer;
}

const packParams = new Float64Array(5);
const packedParams = new Float64Array(7);

/** w [N, K] float32 packed once by the addon (the selected micro-kernel's slivers over the whole depth); null for other dtypes. */
export function packLinear({ w }: FusedArgs<"packLinear">): PackedLinear | null {
  if (w.dtype !== "float32" || addon === null) return null;
  const [N, K] = w.shape as [number, number];
  packParams.set([N, K, w.offset, w.strides[0]!, w.strides[1]!]);
  const packed: NativePackedLinear = { backend: "native", outFeatures: N, inFeatures: K, data: addon.packLinear(w.data as Float32Array, packParams) };
  return packed;
}

/**
 * `linear` with a weight from packLinear: no transpose or packing of w per call (batch-1
 * inference streams its slivers once), the same operations per element as `linear`, so the
 * same bits.
 */
export function linearPacked({ x, packed: w, bias, relu }: FusedArgs<"linearPacked">): TypedArray {
  const packed = w as NativePackedLinear;
  if (addon === null || packed.backend !== "native" || !(packed.data instanceof ArrayBuffer))
    throw new Error("native linearPacked: the weight was not packed by the native backend's packLinear");
  if (x.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) throw new Error("native linearPacked: x and bias must be float32");
  const M = x.shape[0]!;
  const out = outputF32(M * w.outFeatures);
  if (out.length === 0) return out;
  write(packedParams, M, x.offset, x.strides[0]!, x.strides[1]!, bias === null ? 0 : bias.offset, bias === null ? 0 : bias.strides[0]!, relu ? 1 : 0);
  addon.linearPacked(x.data as Float32Array, packed.data, dataF32(bias), out, packedParams);
  return out;
}

const backwardParams = new Float64Array(15);

/**
 * The fused linear layer's gradients from g [M, N] (x [M, K], w [N, K]; y the relu'd output or
 * null) in one addon call: relu's mask, the two products and the bias sum with the reluBackward,
 * matmul and reduce kernels' bits, each result where `needs` asks. Null for other dtypes.
 */
export function linearBackward({ g, x, w, y, needs }: FusedArgs<"linearBackward">): LinearGradients | null {
  if (addon === null || x.shape.length !== 2 || [g, x, w, y].some((v) => v !== null && v.dtype !== "float32")) return null;
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const dx = needs[0] ? outputF32(M * K) : null;
  const dw = needs[1] ? outputF32(N * K) : null;
  const db = needs[2] ? outputF32(N) : null;
  const p = backwardParams;
  p.fill(0);
  p.set([M, N, K]);
  for (const [i, v] of [g, x, w, y].entries()) if (v !== null) p.set([v.offset, ...v.strides], 3 + 3 * i);
  addon.linearBackward(g.data as Float32Array, x.data as Float32Array, w.data as Float32Array, dataF32(y), dx, dw, db, p);
  return { dx, dw, db };
}
