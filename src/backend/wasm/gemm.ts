/**
 * @file The wasm backend's batched matrix product: float32 runs the packed SIMD gemm (on the
 * worker pool when it is large enough to pay for it); other dtypes use the js reference kernel.
 * Also the fused inference layer `linear` (x·Wᵀ + bias, relu): the gemm, then the bias add and
 * the relu in place in wasm memory, one output copied out.
 */
import type { TypedArray } from "../../base/dtype.ts";
import type { PackedLinear, StridedView } from "../backend.ts";
import type { FusedArgs, LinearGradients } from "../fused.ts";
import { linear as jsLinear } from "../js/linear.ts";
import { matmul as jsMatmul } from "../js/matmul.ts";
import { RELU_GRAD } from "./elementwise.ts";
import { sumRowsStaged } from "./reduce.ts";
import { type Arena, copyOutF32, getArena, getRuntime, type Staged, stage } from "./runtime.ts";
import { FEW_ROWS_MIN_MACS, getThreads, parallelGemm } from "./threads.ts";

/** C = A·B for float32 [B, M, K] · [B, K, N] views into a fresh arena block; returns its byte address. */
function gemmIntoArena(ar: Arena, a: StridedView, b: StridedView, B: number, M: number, N: number, K: number): number {
  const sa = stage(ar, a.data, a.shape, a.strides, a.offset);
  const sb = stage(ar, b.data, b.shape, b.strides, b.offset);
  return gemmStaged(ar, sa, sb, B, M, N, K);
}

/** `gemmIntoArena` on operands already in the arena (3 strides each: batch, rows, columns). */
function gemmStaged(ar: Arena, sa: Staged, sb: Staged, B: number, M: number, N: number, K: number): number {
  const rt = getRuntime();
  const c = ar.alloc(B * M * N * 4);
  if (!parallelGemm(ar, B, M, N, K, sa, sb, c)) {
    const [sab, sam, sak] = sa.strides as [number, number, number];
    const [sbb, sbk, sbn] = sb.strides as [number, number, number];
    const ws = ar.alloc(rt.kernels.sgemmWorkspaceBytes());
    for (let p = 0; p < B; p++) rt.kernels.sgemm(M, N, K, sa.ptr + p * sab * 4, sam, sak, sb.ptr + p * sbb * 4, sbk, sbn, c + p * M * N * 4, N, ws);
  }
  return c;
}

/** a [B, M, K] · b [B, K, N] → [B, M, N] (contiguous). */
export function matmul(a: StridedView, b: StridedView): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32") return jsMatmul(a, b);
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  if (B * M * N === 0) return new Float32Array(0);
  const ar = getArena().reset();
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
export function linear({ x, w, bias, relu }: FusedArgs<"linear">): TypedArray {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) return jsLinear(x, w, bias, relu);
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  if (M * N === 0) return new Float32Array(0);
  const a: StridedView = { data: x.data, dtype: "float32", shape: [1, M, K], strides: [0, x.strides[0]!, x.strides[1]!], offset: x.offset };
  const b: StridedView = { data: w.data, dtype: "float32", shape: [1, K, N], strides: [0, w.strides[1]!, w.strides[0]!], offset: w.offset };
  const ar = getArena().reset();
  const c = gemmIntoArena(ar, a, b, 1, M, N, K);
  return biasReluOut(ar, c, M, N, bias, relu);
}

/** C [M, N] at c in the arena + bias, then relu, in place; then copied out. */
function biasReluOut(ar: Arena, c: number, M: number, N: number, bias: StridedView | null, relu: boolean): Float32Array {
  const rt = getRuntime();
  if (bias !== null) {
    const sb = stage(ar, bias.data, [N], bias.strides, bias.offset);
    // in place: every element is read before it is written
    rt.kernels.binaryF32(OP_ADD, 1, 1, M, N, c, 0, 0, N, 1, sb.ptr, 0, 0, 0, sb.strides[0]!, c);
  }
  if (relu) rt.kernels.unaryF32(OP_RELU, 1, 1, 1, M * N, c, 0, 0, 0, 1, c);
  return copyOutF32(ar, c, M * N);
}

/**
 * The wasm backend's packed weight: w [N, K] as slivers of SLIVER columns, sliver s holding
 * w[s·SLIVER + j, k] at s·SLIVER·K + k·SLIVER + j (zero past N), in wasm memory when it can be;
 * and `w` itself, the caller's view, for products of more rows.
 */
interface WasmPackedLinear extends PackedLinear {
  readonly slivers: Float32Array;
  readonly w: StridedView;
}

/** Columns per sliver: the few-row kernel's widest block (bn1x32: 8 FMA chains). */
const SLIVER = 32;

/**
 * w [N, K] float32 packed once for few-row products (batch-1 inference): each sliver is a
 * row-major B [K, 32] whose rows are contiguous, so the gemm's few-row path streams it as one
 * sequential run (8 FMA chains) instead of transposing 4×4 tiles of the column-major w or
 * striding down the rows of a whole Wᵀ. Resident in wasm memory (as parameters are) when the
 * memory is shared, so no call copies it in. Products of more rows use `w` as `linear` does
 * (it keeps a reference: the caller must not change w afterwards).
 */
export function packLinear({ w }: FusedArgs<"packLinear">): PackedLinear | null {
  if (w.dtype !== "float32") return null;
  const [N, K] = w.shape as [number, number];
  const n = Math.ceil(N / SLIVER) * SLIVER * K;
  const slivers = (getRuntime().shared && n > 0 ? getArena().allocResident(n) : null) ?? new Float32Array(n);
  const src = w.data as Float32Array;
  const [sn, sk] = w.strides as [number, number];
  for (let j = 0; j < N; j++) {
    const base = Math.floor(j / SLIVER) * SLIVER * K + (j % SLIVER);
    for (let k = 0, i = w.offset + j * sn; k < K; k++, i += sk) slivers[base + k * SLIVER] = src[i]!;
  }
  const packed: WasmPackedLinear = { backend: "wasm", outFeatures: N, inFeatures: K, slivers, w };
  return packed;
}

/**
 * `linear` with a weight from packLinear: up to 4 rows, one few-row gemm per sliver (C columns
 * [32s, 32s + 32), row stride N); more rows, `linear` on w. Each element gets the gemm's
 * operations whatever B's layout or the columns a call covers, so the bits are `linear`'s.
 */
export function linearPacked({ x, packed: w, bias, relu }: FusedArgs<"linearPacked">): TypedArray {
  const packed = w as WasmPackedLinear;
  if (packed.backend !== "wasm" || !(packed.slivers instanceof Float32Array)) throw new Error("wasm linearPacked: the weight was not packed by the wasm backend's packLinear");
  const [M, K] = x.shape as [number, number];
  const N = packed.outFeatures;
  const rt = getRuntime();
  const ar = getArena();
  // threads split a large few-row product by columns in `linear` (not sliver by sliver)
  if (M > 4 || x.dtype !== "float32" || K === 0 || !ar.isResident(packed.slivers) || (getThreads() > 1 && M * N * K >= FEW_ROWS_MIN_MACS))
    return linear({ x, w: packed.w, bias, relu });
  if (M * N === 0) return new Float32Array(0);
  ar.reset();
  const sa = stage(ar, x.data, [M, K], x.strides, x.offset);
  const sb = stage(ar, packed.slivers, [packed.slivers.length], [1], 0);
  const c = ar.alloc(M * N * 4);
  const ws = ar.alloc(rt.kernels.sgemmWorkspaceBytes());
  const [sam, sak] = sa.strides as [number, number];
  for (let j = 0; j < N; j += SLIVER)
    rt.kernels.sgemm(M, Math.min(SLIVER, N - j), K, sa.ptr, sam, sak, sb.ptr + j * K * 4, SLIVER, 1, c + j * 4, N, ws);
  return biasReluOut(ar, c, M, N, bias, relu);
}

/**
 * The fused `linear`'s gradients in one call (the Backend hook): g [M, N] and y [M, N] (the relu'd
 * output, when the layer has relu) are staged once; g·(y > 0) is formed in the arena with the
 * reluBackward kernel's op, and dx = g'·w, dw = g'ᵀ·x (the gemms `matmul` runs for the same
 * operands) and db = Σ_rows g' (the reduce kernel's sum) all read it there. Bit-identical to
 * reluBackward, matmul, matmul and sum(0) on this backend; saves the masked gradient's copy out
 * and its three stagings back. Null (the front end composes) for other dtypes and shapes.
 */
export function linearBackward({ g, x, w, y, needs }: FusedArgs<"linearBackward">): LinearGradients | null {
  const f32 = (v: StridedView | null) => v === null || v.dtype === "float32";
  if (!f32(g) || !f32(x) || !f32(w) || !f32(y) || g.shape.length !== 2 || x.shape.length !== 2 || w.shape.length !== 2) return null;
  const [M, N] = g.shape as [number, number];
  const K = x.shape[1]!;
  if (x.shape[0] !== M || w.shape[0] !== N || w.shape[1] !== K || (y !== null && (y.shape[0] !== M || y.shape[1] !== N))) return null;
  if (M * N * K === 0) return null;
  const rt = getRuntime();
  const ar = getArena().reset();
  const sg = stage(ar, g.data, g.shape, g.strides, g.offset);
  // g' as a matrix in the arena: its address and (row, column) strides
  let gp = sg.ptr;
  let [gr, gc] = sg.strides as [number, number];
  if (y !== null) {
    const sy = stage(ar, y.data, y.shape, y.strides, y.offset);
    gp = ar.alloc(M * N * 4);
    rt.kernels.binaryF32(RELU_GRAD, 1, 1, M, N, sg.ptr, 0, 0, gr, gc, sy.ptr, 0, 0, sy.strides[0]!, sy.strides[1]!, gp);
    [gr, gc] = [N, 1];
  }
  // w and x staged as [1, rows, columns] operands (batch stride 0), each only when its gradient is wanted
  const stage3 = (v: StridedView) => stage(ar, v.data, [1, ...v.shape], [0, ...v.strides], v.offset);
  const dx = needs[0] ? copyOutF32(ar, gemmStaged(ar, { ptr: gp, strides: [0, gr, gc] }, stage3(w), 1, M, K, N), M * K) : null;
  const dw = needs[1] ? copyOutF32(ar, gemmStaged(ar, { ptr: gp, strides: [0, gc, gr] }, stage3(x), 1, N, K, M), N * K) : null;
  const db = needs[2] ? copyOutF32(ar, sumRowsStaged(ar, M, N, gp, gr, gc), N) : null;
  return { dx, dw, db };
}
