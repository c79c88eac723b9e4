/** @file Reference gather / scatter-add along a dim, and concatenation. */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import { contiguousStrides, sizeOf } from "../../base/shape.ts";
import type { StridedView } from "../backend.ts";
import { copy } from "./elementwise.ts";
import { stridedOffsets } from "../../base/strided.ts";

/** For each element of `index` (row-major), the storage offset in `x` with coordinate `dim` replaced by the index value. */
function gatherOffsets(x: StridedView, dim: number, index: StridedView, op: string): Int32Array {
  const n = sizeOf(index.shape);
  const idxOffs = stridedOffsets(index.shape, index.strides, index.offset, n);
  // offsets into x for the same coordinates, with the dim stride zeroed (we add index * stride)
  const xStrides = x.strides.map((s, d) => (d === dim ? 0 : s));
  const xOffs = stridedOffsets(index.shape, xStrides, x.offset, n);
  const size = x.shape[dim]!;
  const stride = x.strides[dim]!;
  for (let i = 0; i < n; i++) {
    const j = index.data[idxOffs[i]!]!;
    if (j < -size || j >= size)
      throw new RangeError(`${op}: index ${j} is out of bounds for dim ${dim} with size ${size}`);
    xOffs[i] = xOffs[i]! + (j < 0 ? j + size : j) * stride;
  }
  return xOffs;
}

export function gather(x: StridedView, dim: number, index: StridedView): TypedArray {
  const offs = gatherOffsets(x, dim, index, "gather");
  const out = allocate(x.dtype, offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = x.data[offs[i]!]!;
  return out;
}

export function scatterAdd(base: StridedView, dim: number, index: StridedView, src: StridedView): TypedArray {
  const out = copy(base, base.dtype);
  const dense = { data: out, dtype: base.dtype, shape: base.shape, strides: contiguousStrides(base.shape), offset: 0 };
  const offs = gatherOffsets(dense, dim, index, "scatterAdd");
  const n = offs.length;
  const srcOffs = stridedOffsets(index.shape, src.strides, src.offset, n);
  for (let i = 0; i < n; i++) out[offs[i]!] += src.data[srcOffs[i]!]!;
  return out;
}

export function cat(parts: readonly StridedView[], dim: number, shape: readonly number[]): TypedArray {
  const out = allocate(parts[0]!.dtype, sizeOf(shape));
  const outer = sizeOf(shape.slice(0, dim));
  const rowLen = sizeOf(shape.slice(dim));
  let col = 0;
  for (const p of parts) {
    const chunk = sizeOf(p.shape.slice(dim));
    const dense = copy(p, p.dtype);
    for (let o = 0; o < outer; o++) out.set(dense.subarray(o * chunk, (o + 1) * chunk) as never, o * rowLen + col);
    col += chunk;
  }
  return out;
}
