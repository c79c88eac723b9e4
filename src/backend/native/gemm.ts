/** @file The native backend's batched matrix product: float32 in the addon's sgemm, other dtypes in the js kernel. */
import type { TypedArray } from "../../tensor/dtype.ts";
import type { StridedView } from "../backend.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { nativeAddon } from "./addon.ts";

const addon = nativeAddon();

/** Scratch for sgemm's integer arguments: one typed array instead of twelve N-API number conversions. */
const params = new Float64Array(12);

/** a [B, M, K] · b [B, K, N] → [B, M, N]; float32 in the addon, other dtypes in the js kernel. */
export function matmul(a: StridedView, b: StridedView): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32" || addon === null) return jsMatmul(a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const out = new Float32Array(B * M * N);
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
