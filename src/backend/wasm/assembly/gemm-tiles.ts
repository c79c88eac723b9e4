/** @file The gemm's tile and block sizes and its FMA, shared by the packed path (gemm.ts) and the few-row path. */

/** Micro-tile: 4 rows × 8 columns = 8 f32x4 accumulators (+2 B vectors + 1 A broadcast). */
export const MR: i32 = 4;
export const NR: i32 = 8;
/** Cache blocks: a KC×NR B micro-panel (8 KiB) stays in L1, an MC×KC A block (128 KiB) in L2. */
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 2048;

// @ts-ignore: decorator
@inline
export function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
