/** @file Strided views of storage arrays and walking them in row-major order: the one loop every js kernel is built on. */
import type { DType, TypedArray } from "./dtype.ts";

/** A strided view of a storage array: what a kernel reads. Strides may be 0 (broadcast) or any permutation. */
export interface StridedView {
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** True when `v` covers its storage densely in row-major order (so element i is at offset + i). */
export function isRowMajor(v: StridedView): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const d = v.shape[i]!;
    if (d !== 1 && v.strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/**
 * Fills `offsets` with the storage offset of every element of `shape` in row-major order,
 * for a view with `strides` starting at `offset`.
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], offset: number, n: number): Int32Array {
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  const last = nd - 1;
  const lastSize = shape[last]!;
  const lastStride = strides[last]!;
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let k = 0;
  while (k < n) {
    for (let j = 0, o = base; j < lastSize; j++, o += lastStride) out[k++] = o;
    // advance the outer counters like an odometer
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}

/** Offsets of a view's elements in row-major order, or null when the view is dense (offset + i). */
export function offsetsOf(v: StridedView, n: number): Int32Array | null {
  return isRowMajor(v) ? null : stridedOffsets(v.shape, v.strides, v.offset, n);
}
