/**
 * @file The optional `native` backend: an N-API addon (C++ sources in native/, built by
 * scripts/build-native.mjs during `npm install` where a compiler and Node headers exist).
 *
 * Native now, all float32, reading and writing the tensors' typed arrays in place (no copies):
 * - linear (optional in Backend): matmul + bias + relu in one sgemm call with an epilogue,
 *   bit-identical to the three ops; F.linear and Sequential's Linear → ReLU use it whenever no
 *   graph is recorded.
 * - packLinear / linearPacked (optional in Backend): a frozen model's (tg.jit.freeze) weights
 *   packed once into the micro-kernel's slivers; ≤ 4 rows stream them (gemv), more rows run the
 *   micro-kernels on them without packing B — bit-identical to linear.
 * - matmul: a packed, cache-blocked sgemm with register-tile micro-kernels (12×32 AVX-512 or
 *   6×16 AVX2/FMA, chosen at run time from the CPU's features; a portable C++ kernel elsewhere),
 *   any strides, batched, split across a std::thread pool. It differs from js only by summation
 *   order and rounding (js sums in float64).
 * - binary (all but pow), unary neg/abs/relu/sqrt/rsqrt/sign, copy (float32 or bool → float32), reduce (sum in double, as
 *   js), im2col, col2im, maxPool2d and its backward, over any strided views: the same operations
 *   in the same order as js, so bit-identical to it; threaded when large. Elementwise calls and
 *   reductions under NATIVE_ELEMENTWISE_MIN elements stay in js (cheaper than crossing N-API).
 * - conv2d, conv2dBackwardInput, conv2dBackwardWeight (optional in Backend): the fused float32
 *   convolution — per sample (or block of output positions), im2col into an L2-sized scratch
 *   and one packed product straight into the result, the input gradient's col2im and the weight
 *   gradient's sum over the batch in the same pass; bit-identical for any thread count.
 * - linearBackward: relu's mask, g'·w, g'ᵀ·x and the bias sum in one call, with the reluBackward,
 *   matmul and reduce kernels' bits.
 * - conv2dReluMaxPool and its two gradients: each band of pool rows' relu'd conv output pooled in
 *   scratch (never materialised); the gradients rebuild the unfused chain's masked gradient per
 *   block inside the conv gradient kernels — bit-identical to conv2d then maxPool2d.
 * - reluBackward and adamStep (optional in Backend): relu's gradient in one pass, and the
 *   Adam/AdamW update with optim/adam.ts's float32 arithmetic — both bit-identical to js.
 * Delegated to the js reference backend for now: pow, exp/log/tanh/sigmoid/sin/cos/erf (libm and
 * V8 may round differently), where, gather, scatterAdd, cat, average pooling, and other dtypes.
 *
 * Loading never throws: when the addon is missing or cannot load, `loadNativeBackend()` returns
 * null and `nativeUnavailableReason()` says why (the install script's recorded reason when it
 * skipped the build). `TG_NATIVE=0` turns it off. When it loads it is the default backend (the
 * registry prefers native, then wasm, then js): the whole test suite passes on it.
 *
 * Files: addon.ts (loading), gemm.ts, elementwise.ts, conv.ts (the kernels' TypeScript side).
 */
import type { Backend } from "../backend.ts";
import { jsBackend } from "../js/index.ts";
import { nativeAddon } from "./addon.ts";
import {
  col2im,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dReluMaxPool,
  conv2dReluMaxPoolBackwardInput,
  conv2dReluMaxPoolBackwardWeight,
  im2col,
  maxPool2d,
  maxPool2dBackward,
} from "./conv.ts";
import { adamStep, binary, copy, reduce, reluBackward, unary } from "./elementwise.ts";
import { linear, linearBackward, linearPacked, matmul, packLinear } from "./gemm.ts";

export { type NativeAddon, nativeAddon, nativeUnavailableReason } from "./addon.ts";
export { NATIVE_ELEMENTWISE_MIN } from "./elementwise.ts";

/** The backend object (usable only when the addon loaded). */
export const nativeBackend: Backend = {
  ...jsBackend,
  name: "native",
  matmul,
  binary,
  unary,
  copy,
  reduce,
  im2col,
  col2im,
  maxPool2d,
  maxPool2dBackward,
  fused: {
    linear: (a) => linear(a.x, a.w, a.bias, a.relu),
    packLinear: (a) => packLinear(a.w),
    linearPacked: (a) => linearPacked(a.x, a.packed, a.bias, a.relu),
    reluBackward: (a) => reluBackward(a.g, a.y),
    adamStep: (a) => adamStep(a.w, a.g, a.m, a.v, a.vMax, a.h),
    conv2d: (a) => conv2d(a.x, a.w, a.bias, a.win, a.relu),
    conv2dBackwardInput: (a) => conv2dBackwardInput(a.g, a.w, a.win, a.inSize, a.y),
    conv2dBackwardWeight: (a) => conv2dBackwardWeight(a.g, a.x, a.win, a.bias, a.y),
    linearBackward: (a) => linearBackward(a.g, a.x, a.w, a.y, a.needs),
    conv2dReluMaxPool: (a) => conv2dReluMaxPool(a.x, a.w, a.bias, a.win, a.pool),
    conv2dReluMaxPoolBackwardInput: conv2dReluMaxPoolBackwardInput,
    conv2dReluMaxPoolBackwardWeight: conv2dReluMaxPoolBackwardWeight,
  },
};

/** The backend when the addon is built and loads here, else null (see `nativeUnavailableReason`). */
export function loadNativeBackend(): Backend | null {
  return nativeAddon() === null ? null : nativeBackend;
}

/**
 * Sets how many threads the native kernels use, the calling thread included (default: the
 * number of cores, or `TG_THREADS`). A no-op when the addon is not loaded.
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: expected a positive integer, got ${n}`);
  nativeAddon()?.setThreads(n);
}

/** The thread count of the native kernels (1 when the addon is not loaded). */
export function getThreads(): number {
  const addon = nativeAddon();
  return addon === null ? 1 : addon.getThreads();
}
