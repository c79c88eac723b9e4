/** @file Reference reductions (sum, max, min, argmax, argmin) over any set of axes. */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import type { ReduceKernel, StridedView } from "../backend.ts";
import { stridedOffsets } from "../../base/strided.ts";

/** `shape` and `strides` split into the kept dims and the reduced ones (`axes`), each in order. */
export function splitAxes(shape: readonly number[], strides: readonly number[], axes: readonly number[]) {
  const kept = { shape: [] as number[], strides: [] as number[] };
  const red = { shape: [] as number[], strides: [] as number[] };
  for (let d = 0; d < shape.length; d++) {
    const into = axes.includes(d) ? red : kept;
    into.shape.push(shape[d]!);
    into.strides.push(strides[d]!);
  }
  return { kept, red };
}

/**
 * Splits the view into kept axes (the output) and reduced axes (the inner loop), so every
 * output element is a reduction over a list of storage offsets relative to its base.
 */
export function reduce(op: ReduceKernel, x: StridedView, axes: readonly number[]): TypedArray {
  const { kept, red } = splitAxes(x.shape, x.strides, axes);
  const nOut = sizeOf(kept.shape);
  const nRed = sizeOf(red.shape);
  const isArg = op === "argmax" || op === "argmin";
  const out = allocate(isArg ? "int32" : op === "sum" && x.dtype === "bool" ? "int32" : x.dtype, nOut);
  const bases = stridedOffsets(kept.shape, kept.strides, x.offset, nOut);
  const inner = stridedOffsets(red.shape, red.strides, 0, nRed);
  const src = x.data;
  for (let o = 0; o < nOut; o++) {
    const base = bases[o]!;
    if (op === "sum") {
      let s = 0;
      for (let r = 0; r < nRed; r++) s += src[base + inner[r]!]!;
      out[o] = s;
    } else {
      // max/min propagate NaN like PyTorch; arg* return the first extreme index
      const wantMax = op === "max" || op === "argmax";
      let best = src[base + inner[0]!]!;
      let bestAt = 0;
      for (let r = 1; r < nRed && !Number.isNaN(best); r++) {
        const v = src[base + inner[r]!]!;
        if (Number.isNaN(v) || (wantMax ? v > best : v < best)) {
          best = v;
          bestAt = r;
        }
      }
      out[o] = isArg ? bestAt : best;
    }
  }
  return out;
}
