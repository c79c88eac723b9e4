/**
 * @file The `wasm` backend: WebAssembly SIMD kernels (AssemblyScript sources in ./assembly, built
 * by scripts/build-wasm.ts), split across worker threads over a shared memory.
 *
 * In wasm: float32 matmul (gemm.ts: packed, blocked, relaxed-SIMD FMA where the runtime has it),
 * unary, binary, where, copies and reductions (elementwise.ts, reduce.ts), im2col, col2im and max
 * pooling (window.ts), and every entry of the fused table (gemm.ts, conv.ts, elementwise.ts).
 * Everything else — and every non-float32 case — calls the js reference kernel. Results equal js
 * bit for bit, except float32 matmul (summation order: js sums in float64), and never depend on
 * the thread count. Float32 parameters live in wasm memory and are read in place; other operands
 * are copied in and each result out (runtime.ts).
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
    // each entry takes its argument object as FusedKernels declares it (gemm.ts, elementwise.ts, conv.ts)
    linear, linearBackward, packLinear, linearPacked, reluBackward, adamStep,
    conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dReluMaxPool, conv2dReluMaxPoolBackwardInput, conv2dReluMaxPoolBackwardWeight,
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
