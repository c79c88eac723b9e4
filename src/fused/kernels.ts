/**
 * @file The dispatcher's one decision for every fused kernel: whether the active backend's entry
 * is asked at all. A kernel runs only where the backend's `fused` table has it and its guard
 * below accepts the operands; otherwise (or when the kernel declines) the caller in this folder
 * runs the op's composition of primitives, with the same bits. Nothing outside src/fused/ and
 * the backends names a fused kernel.
 */
import { isGradEnabled } from "../autograd/mode.ts";
import type { StridedView } from "../backend/backend.ts";
import type { FusedArgs, FusedOp, FusedResult } from "../backend/fused.ts";
import { kernels } from "../backend/registry.ts";
import type { TypedArray } from "../base/dtype.ts";

/** Every view (null: absent) is float32: the one dtype the fused kernels are written for. */
function f32(...views: (StridedView | null)[]): boolean {
  for (const v of views) if (v !== null && v.dtype !== "float32") return false;
  return true;
}

/** Every view (null: absent) has the first one's float dtype (the kernel handles non-float32 itself). */
function sameFloat(first: StridedView, ...views: (StridedView | null)[]): boolean {
  if (first.dtype !== "float32" && first.dtype !== "float64") return false;
  for (const v of views) if (v !== null && v.dtype !== first.dtype) return false;
  return true;
}

/** Every array (null: absent) is a Float32Array. */
function f32Arrays(...arrays: (TypedArray | null)[]): boolean {
  for (const a of arrays) if (a !== null && !(a instanceof Float32Array)) return false;
  return true;
}

/**
 * Gradient kernels run only when no graph is being recorded: under createGraph the gradient must
 * itself be differentiable, so it is composed from recorded ops.
 */
const notRecording = (): boolean => !isGradEnabled();

/** Each fused kernel's guard: the operands (dtypes, ranks, grad mode) it may be asked for. */
const GUARDS: { readonly [K in FusedOp]: (a: FusedArgs<K>) => boolean } = {
  // one recorded node for float64 too (gradcheck), the kernel computing it as the composition would
  linear: (a) => sameFloat(a.x, a.w, a.bias),
  linearBackward: (a) => notRecording() && a.x.shape.length === 2 && f32(a.g, a.x, a.w, a.y),
  packLinear: (a) => f32(a.w),
  linearPacked: (a) => f32(a.x, a.bias),
  reluBackward: (a) => f32(a.g, a.y),
  conv2d: (a) => f32(a.x, a.w, a.bias),
  conv2dBackwardInput: (a) => notRecording() && f32(a.g, a.w, a.y),
  conv2dBackwardWeight: (a) => notRecording() && f32(a.g, a.x, a.y),
  conv2dReluMaxPool: (a) => f32(a.x, a.w, a.bias),
  conv2dReluMaxPoolBackwardInput: (a) => notRecording() && f32(a.g, a.w, a.pooled),
  conv2dReluMaxPoolBackwardWeight: (a) => notRecording() && f32(a.g, a.x, a.pooled),
  adamStep: (a) => f32Arrays(a.w, a.g, a.m, a.v, a.vMax),
};

/** Whether the active backend has kernel `op` at all (before any operands are known). */
export function hasKernel(op: FusedOp): boolean {
  return kernels().fused?.[op] !== undefined;
}

/**
 * Fused kernel `op` of the active backend on `args`, or null when the backend lacks it, its guard
 * rejects the operands, or the kernel declines: the caller then composes primitives.
 */
export function runKernel<K extends FusedOp>(op: K, args: FusedArgs<K>): Exclude<FusedResult<K>, false> | null {
  const kernel = kernels().fused?.[op] as ((a: FusedArgs<K>) => FusedResult<K>) | undefined;
  if (kernel === undefined || !(GUARDS[op] as (a: FusedArgs<K>) => boolean)(args)) return null;
  const r = kernel(args);
  return r === false || r === null ? null : (r as Exclude<FusedResult<K>, false>);
}
