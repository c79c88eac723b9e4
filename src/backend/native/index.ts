/**
 * @file The optional `native` backend: an N-API addon (C++ sources in native/, built by
 * scripts/build-native.mjs during `npm install` where a compiler and Node headers exist), reading
 * and writing the tensors' typed arrays in place.
 *
 * Native: float32 matmul (a packed, cache-blocked sgemm with AVX-512, AVX2/FMA or portable
 * micro-kernels chosen at run time, any strides, batched), binary, unary, copy, reduce, im2col,
 * col2im and max pooling over strided views (elementwise calls under NATIVE_ELEMENTWISE_MIN
 * elements stay in js), and the fused table's entries (gemm.ts, conv.ts, elementwise.ts). All
 * threaded when large and bit-identical for any thread count; they equal js bit for bit but for
 * the summation order of float32 matmul and the fused convolutions. The rest (pow, the
 * transcendental unaries, where, gather, scatterAdd, cat, average pooling, other dtypes) is js's.
 *
 * Loading never throws: without the addon `loadNativeBackend()` returns null and
 * `nativeUnavailableReason()` says why; `TG_NATIVE=0` turns it off. When it loads it is the
 * default backend (the registry prefers native, then wasm, then js).
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
    // each entry takes its argument object as FusedKernels declares it (gemm.ts, elementwise.ts, conv.ts)
    linear, linearBackward, packLinear, linearPacked, reluBackward, adamStep,
    conv2d, conv2dBackwardInput, conv2dBackwardWeight, conv2dReluMaxPool, conv2dReluMaxPoolBackwardInput, conv2dReluMaxPoolBackwardWeight,
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
