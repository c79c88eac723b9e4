/**
 * @file The wasm backend's reductions: float32 sum / max / min / argmax / argmin run in wasm
 * (assembly/reduce.ts, bit-identical to js) when the kept and the reduced axes each collapse to
 * ≤ 2 dims and the input is large enough; everything else calls the js kernel.
 */
import type { TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import type { ReduceKernel, StridedView } from "../backend.ts";
import { reduce as jsReduce, splitAxes } from "../js/reduce.ts";
import { collapse, WASM_MIN_ELEMENTS } from "./elementwise.ts";
import { type Arena, getArena, getRuntime, stage } from "./runtime.ts";

const OPS: Record<ReduceKernel, number> = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 };

/** Collapses `shape`/`strides` to exactly 2 dims, or null when more remain. */
function collapse2(shape: number[], strides: number[]): { n: [number, number]; s: [number, number] } | null {
  const c = collapse(shape, [strides]);
  if (c === null || c.shape[0] !== 1 || c.shape[1] !== 1) return null;
  return { n: [c.shape[2]!, c.shape[3]!], s: [c.strides[0]![2]!, c.strides[0]![3]!] };
}

/** The kernel's view of a reduction: kept and reduced axes each collapsed to 2 dims (sizes, strides). */
interface ReducePlan {
  kept: { n: [number, number]; s: [number, number] };
  red: { n: [number, number]; s: [number, number] };
}

/** Splits `shape`/`strides` into the kept and the reduced (`axes`) dims and collapses each; null when either needs more than 2 dims. */
function plan(shape: readonly number[], strides: readonly number[], axes: readonly number[]): ReducePlan | null {
  const split = splitAxes(shape, strides, axes);
  const kept = collapse2(split.kept.shape, split.kept.strides);
  const red = collapse2(split.red.shape, split.red.strides);
  return kept === null || red === null ? null : { kept, red };
}

/** Runs the reduce kernel on data already in the arena at `ptr`; returns the output's address (kept elements, contiguous). */
function run(ar: Arena, op: ReduceKernel, p: ReducePlan, ptr: number): number {
  const { kept, red } = p;
  const out = ar.alloc(kept.n[0] * kept.n[1] * 4);
  getRuntime().kernels.reduceF32(OPS[op], kept.n[0], kept.n[1], kept.s[0], kept.s[1], red.n[0], red.n[1], red.s[0], red.s[1], ptr, out);
  return out;
}

export function reduce(op: ReduceKernel, x: StridedView, axes: readonly number[]): TypedArray {
  const n = sizeOf(x.shape);
  if (x.dtype !== "float32" || n < WASM_MIN_ELEMENTS) return jsReduce(op, x, axes);
  const p = plan(x.shape, x.strides, axes);
  if (p === null) return jsReduce(op, x, axes);
  const nOut = p.kept.n[0] * p.kept.n[1];
  const ar = getArena().reset();
  const sx = stage(ar, x.data, x.shape, x.strides, x.offset);
  const out = run(ar, op, p, sx.ptr);
  return op === "argmax" || op === "argmin" ? ar.i32.slice(out >> 2, (out >> 2) + nOut) : ar.f32.slice(out >> 2, (out >> 2) + nOut);
}

/**
 * Σ over the rows of a float32 [M, N] matrix already in the arena at `ptr` (strides `rows`, `cols`):
 * `reduce("sum", ·, [0])`'s kernel call, for callers that staged the matrix themselves. Returns the
 * address of the N sums.
 */
export function sumRowsStaged(ar: Arena, M: number, N: number, ptr: number, rows: number, cols: number): number {
  return run(ar, "sum", plan([M, N], [rows, cols], [0])!, ptr);
}
