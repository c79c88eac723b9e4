/** @file Reference reductions (sum, max, min, argmax, argmin) over any set of axes. */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import type { ReduceKernel, StridedView } from "../backend.ts";
import { stridedOffsets } from "../../base/strided.ts";

/**
 * Splits the view into kept axes (the output) and reduced axes (the inner loop), so every
 * output element is a reduction over a list of storage offsets relative to its base.
 */
export function reduce(op: ReduceKernel, x: StridedView, axes: readonly number[]): TypedArray {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    if (axes.includes(d)) {
      redShape.push(x.shape[d]!);
      redStrides.push(x.strides[d]!);
    } else {
      keptShape.push(x.shape[d]!);
      keptStrides.push(x.strides[d]!);
    }
  }
  const nOut = sizeOf(keptShape);
  const nRed = sizeOf(redShape);
  const isArg = op === "argmax" || op === "argmin";
  const out = allocate(isArg ? "int32" : op === "sum" && x.dtype === "bool" ? "int32" : x.dtype, nOut);
  const bases = stridedOffsets(keptShape, keptStrides, x.offset, nOut);
  const inner = stridedOffsets(redShape, redStrides, 0, nRed);
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
