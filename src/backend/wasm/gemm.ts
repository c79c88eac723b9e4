/**
 * @file The wasm backend's batched matrix product: float32 runs the packed SIMD gemm (on the
 * worker pool when it is large enough to pay for it); other dtypes use the js reference kernel.
 * Also the fused inference layer `linear` (x·Wᵀ + bias, relu): the gemm, then the bias add and
 * the relu in place in wasm memory, one output copied out.
 */
import type { TypedArray } from "../../tensor/dtype.ts";
import type { PackedLinear, StridedView } from "../backend.ts";
import { linear as jsLinear } from "../js/linear.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { type Arena, copyOutF32, getArena, getRuntime, stage, stageF32 } from "./runtime.ts";
import { parallelGemm } from "./threads.ts";

/** C = A·B for float32 [B, M, K] · [B, K, N] views into a fresh arena block; returns its byte address. */
function gemmIntoArena(ar: Arena, a: StridedView, b: StridedView, B: number, M: number, N: number, K: number): number {
  const rt = getRuntime();
  const sa = stageF32(ar, a.data as Float32Array, a.shape, a.strides, a.offset);
  const sb = stageF32(ar, b.data as Float32Array, b.shape, b.strides, b.offset);
  const c = ar.alloc(B * M * N * 4);
  const [sab, sam, sak] = sa.strides as [number, number, number];
  const [sbb, sbk, sbn] = sb.strides as [number, number, number];
  if (!parallelGemm(ar, B, M, N, K, sa.ptr, sab, sam, sak, sb.ptr, sbb, sbk, sbn, c)) {
    const ws = ar.alloc(rt.kernels.sgemmWorkspaceBytes());
    for (let p = 0; p < B; p++) {
      rt.kernels.sgemm(M, N, K, sa.ptr + p * sab * 4, sam, sak, sb.ptr + p * sbb * 4, sbk, sbn, c + p * M * N * 4, N, ws);
    }
  }
  return c;
}

/** a [B, M, K] · b [B, K, N] → [B, M, N] (contiguous). */
export function matmul(a: StridedView, b: StridedView): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32") return jsMatmul(a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (B * M * N === 0) return new Float32Array(0);
  const ar = getArena();
  ar.reset();
  const c = gemmIntoArena(ar, a, b, B, M, N, K);
  return copyOutF32(ar, c, B * M * N);
}

/** The op codes of assembly/elementwise.ts's binaryF32 (add) and unaryF32 (relu). */
const OP_ADD = 0;
const OP_RELU = 3;

/**
 * x [M, K] · wᵀ (w [N, K]) + bias [N], then relu: bit-identical to matmul, add, relu on this
 * backend (the same gemm for the same M; the add and the relu are exact, in wasm or js alike).
 */
export function linear(x: StridedView, w: StridedView, bias: StridedView | null, relu: boolean): TypedArray {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) return jsLinear(x, w, bias, relu);
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  if (M * N === 0) return new Float32Array(0);
  const a: StridedView = { data: x.data, dtype: "float32", shape: [1, M, K], strides: [0, x.strides[0]!, x.strides[1]!], offset: x.offset };
  const b: StridedView = { data: w.data, dtype: "float32", shape: [1, K, N], strides: [0, w.strides[1]!, w.strides[0]!], offset: w.offset };
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const c = gemmIntoArena(ar, a, b, 1, M, N, K);
  if (bias !== null) {
    const sb = stage(ar, bias.data, [N], bias.strides, bias.offset);
    // in place: every element is read before it is written
    rt.kernels.binaryF32(OP_ADD, 1, 1, M, N, c, 0, 0, N, 1, sb.ptr, 0, 0, 0, sb.strides[0]!, c);
  }
  if (relu) rt.kernels.unaryF32(OP_RELU, 1, 1, 1, M * N, c, 0, 0, 0, 1, c);
  return copyOutF32(ar, c, M * N);
}

/** The wasm backend's packed weight: Wᵀ [K, N] row-major, in wasm memory when it can be (read in place, never staged). */
interface WasmPackedLinear extends PackedLinear {
  readonly wt: Float32Array;
}

/**
 * w [N, K] float32 stored once as Wᵀ [K, N]: the gemm's B then is row-major, which its few-row
 * path (batch-1 inference) streams row by row with 8 FMA chains instead of transposing 4×4 tiles
 * of a column-major B, and which packs by plain copies for more rows. Resident in wasm memory
 * (as parameters are) when the memory is shared, so no call copies it in.
 */
export function packLinear(w: StridedView): PackedLinear | null {
  if (w.dtype !== "float32") return null;
  const [N, K] = w.shape as [number, number];
  const wt = (getRuntime().shared ? getArena().allocResident(K * N) : null) ?? new Float32Array(K * N);
  const src = w.data as Float32Array;
  const [sn, sk] = w.strides as [number, number];
  for (let n = 0; n < N; n++) for (let k = 0, i = w.offset + n * sn; k < K; k++, i += sk) wt[k * N + n] = src[i]!;
  const packed: WasmPackedLinear = { backend: "wasm", outFeatures: N, inFeatures: K, wt };
  return packed;
}

/** `linear` on a weight from packLinear: the same gemm per element (its result does not depend on B's layout), so the same bits. */
export function linearPacked(x: StridedView, w: PackedLinear, bias: StridedView | null, relu: boolean): TypedArray {
  const packed = w as WasmPackedLinear;
  if (packed.backend !== "wasm" || !(packed.wt instanceof Float32Array)) throw new Error("wasm linearPacked: the weight was not packed by the wasm backend's packLinear");
  const { outFeatures: N, inFeatures: K } = packed;
  return linear(x, { data: packed.wt, dtype: "float32", shape: [N, K], strides: [1, N], offset: 0 }, bias, relu);
}
