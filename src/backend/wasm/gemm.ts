/**
 * @file The wasm backend's batched matrix product: float32 runs the packed SIMD gemm (on the
 * worker pool when it is large enough to pay for it); other dtypes use the js reference kernel.
 */
import type { TypedArray } from "../../tensor/dtype.ts";
import type { StridedView } from "../backend.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { getArena, getRuntime, stageF32 } from "./runtime.ts";
import { parallelGemm } from "./threads.ts";

/** a [B, M, K] · b [B, K, N] → [B, M, N] (contiguous). */
export function matmul(a: StridedView, b: StridedView): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32") return jsMatmul(a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const out = new Float32Array(B * M * N);
  if (out.length === 0) return out;
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sa = stageF32(ar, a.data as Float32Array, a.shape, a.strides, a.offset);
  const sb = stageF32(ar, b.data as Float32Array, b.shape, b.strides, b.offset);
  const c = ar.alloc(out.length * 4);
  const [sab, sam, sak] = sa.strides as [number, number, number];
  const [sbb, sbk, sbn] = sb.strides as [number, number, number];
  if (!parallelGemm(ar, B, M, N, K, sa.ptr, sab, sam, sak, sb.ptr, sbb, sbk, sbn, c)) {
    const ws = ar.alloc(rt.kernels.sgemmWorkspaceBytes());
    for (let p = 0; p < B; p++) {
      rt.kernels.sgemm(M, N, K, sa.ptr + p * sab * 4, sam, sak, sb.ptr + p * sbb * 4, sbk, sbn, c + p * M * N * 4, N, ws);
    }
  }
  out.set(ar.f32.subarray(c >> 2, (c >> 2) + out.length));
  return out;
}
