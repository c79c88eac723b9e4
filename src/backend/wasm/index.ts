/**
 * @file The `wasm` backend: WebAssembly SIMD kernels (AssemblyScript sources in ./assembly, built
 * by scripts/build-wasm.ts), multi-threaded over a shared memory.
 *
 * In wasm now: float32 matmul (packed, blocked gemm with a 4×8 f32x4 micro-kernel, relaxed-SIMD
 * FMA when the runtime has it, split across worker threads); float32 unary (neg, abs, sqrt, relu,
 * sign), binary (+ − × ÷ max min and comparisons, any broadcast), where, copies to float32 (strided
 * views, bool and int32 sources) and reductions (sum, max, min, argmax, argmin) on tensors of
 * ≥ 1024 elements, and float32 im2col, col2im, maxPool2d and its backward (these, reluBackward and
 * adamStep also split across the worker threads when large: disjoint output ranges, so the same
 * bits for any thread count). Every other primitive
 * (gather, scatterAdd, cat, average pooling), the transcendental unaries, and every
 * non-float32 case still call the js reference kernel. All of these give results bit-identical to `js`; only float32 matmul differs, by
 * summation order and rounding (js sums in float64), and a row's result never depends on how many
 * rows the call has (calls of ≤ 4 rows read A and B unpacked, with the packed path's arithmetic).
 * The optional hooks reluBackward (one pass) and adamStep (the optimizer's float32 loop, SIMD) run
 * in wasm too, bit-identical to the js loops; linearBackward (gemm.ts) gives a linear layer's three gradients from one staging of g (and of relu's
 * y, masked in the arena). The fused inference layer `linear` runs the gemm, the bias add and the relu on one buffer in wasm
 * memory; a frozen model's layers (packLinear / linearPacked, tg.jit.freeze) keep W in 32-column
 * slivers resident in wasm memory, each streamed in order by the few-row path. The fused convolution hooks (conv2d, conv2dBackwardInput, conv2dBackwardWeight: conv.ts)
 * build one sample's columns at a time in cache and run the gemm on them, samples split across the
 * worker pool; the forward and input gradient equal this backend's im2col/matmul/col2im composition bit
 * for bit, and all three give the same bits for any thread count. Conv2d → ReLU → MaxPool2d with
 * non-overlapping pool windows has fused hooks too (conv2dReluMaxPool and its two gradients: the
 * conv output is pooled in cache and never copied out). Float32 parameters live in wasm memory (`allocPersistent`, on a shared memory) and kernels read
 * them in place; every other operand is copied in and each result out: see runtime.ts.
 */
import type { Backend } from "../backend.ts";
import { jsBackend } from "../js/index.ts";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dReluMaxPool, conv2dReluMaxPoolBackwardInput, conv2dReluMaxPoolBackwardWeight } from "./conv.ts";
import { adamStep, binary, copy, reluBackward, unary, where } from "./elementwise.ts";
import { linear, linearBackward, linearPacked, matmul, packLinear } from "./gemm.ts";
import { reduce } from "./reduce.ts";
import { getArena, getRuntime, loadAsync, wasmAvailable } from "./runtime.ts";
import { startWorkers } from "./threads.ts";
import { col2im, im2col, maxPool2d, maxPool2dBackward } from "./window.ts";

export { getThreads, readyWorkers, setThreads } from "./threads.ts";
export { wasmAvailable, wasmUnavailableReason } from "./runtime.ts";

/** The backend object (usable only when `wasmAvailable()`; kernels load the module on first call). */
export const wasmBackend: Backend = {
  ...jsBackend,
  name: "wasm",
  matmul,
  unary,
  binary,
  where,
  copy,
  reduce,
  im2col,
  col2im,
  maxPool2d,
  maxPool2dBackward,
  fused: {
    linear: (a) => linear(a.x, a.w, a.bias, a.relu),
    linearBackward: (a) => linearBackward(a.g, a.x, a.w, a.y, a.needs),
    packLinear: (a) => packLinear(a.w),
    linearPacked: (a) => linearPacked(a.x, a.packed, a.bias, a.relu),
    reluBackward: (a) => reluBackward(a.g, a.y),
    adamStep: (a) => adamStep(a.w, a.g, a.m, a.v, a.vMax, a.h),
    conv2d: (a) => conv2d(a.x, a.w, a.bias, a.win, a.relu),
    conv2dBackwardInput: (a) => conv2dBackwardInput(a.g, a.w, a.win, a.inSize, a.y),
    conv2dBackwardWeight: (a) => conv2dBackwardWeight(a.g, a.x, a.win, a.bias, a.y),
    conv2dReluMaxPool: (a) => conv2dReluMaxPool(a.x, a.w, a.bias, a.win, a.pool),
    conv2dReluMaxPoolBackwardInput: (a) => conv2dReluMaxPoolBackwardInput(a.g, a.w, a.win, a.inSize, a.pool, a.indices, a.pooled),
    conv2dReluMaxPoolBackwardWeight: (a) => conv2dReluMaxPoolBackwardWeight(a.g, a.x, a.win, a.bias, a.pool, a.indices, a.pooled),
  },
  allocPersistent(dtype, n) {
    return dtype === "float32" && getRuntime().shared ? getArena().allocResident(n) : null;
  },
  isPersistent(data) {
    return getArena().isResident(data);
  },
};

/** The backend when this runtime can run it (the build exists and SIMD validates), else null. */
export function loadWasmBackend(): Backend | null {
  return wasmAvailable() ? wasmBackend : null;
}

/**
 * `loadWasmBackend` for browsers (`tg.backend.ready()`): fetches and compiles the kernels from
 * `base` (default: beside the bundle) and starts the worker pool, all asynchronously. In Node the
 * synchronous load has happened at import and this only reports it.
 */
export async function loadWasmBackendAsync(base?: string | URL): Promise<Backend | null> {
  if (!(await loadAsync(base))) return null;
  await startWorkers();
  return wasmBackend;
}
