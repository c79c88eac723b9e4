/**
 * @file The reference for the optional `Backend.reluBackward`: g · (y > 0 ? 1 : 0) elementwise —
 * the same float product as the composed `g.mul(y.gt(0).to(dtype))` (so −0 for a negative g
 * where y ≤ 0, NaN for an infinite one). Not installed on jsBackend (see linear.ts for why).
 */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import type { StridedView } from "../backend.ts";
import { stridedOffsets } from "../../base/strided.ts";

export function reluBackward(g: StridedView, y: StridedView): TypedArray {
  let n = 1;
  for (const d of g.shape) n *= d;
  const out = allocate(g.dtype, n);
  const og = stridedOffsets(g.shape, g.strides, g.offset, n);
  const oy = stridedOffsets(y.shape, y.strides, y.offset, n);
  const dg = g.data;
  const dy = y.data;
  for (let i = 0; i < n; i++) out[i] = dg[og[i]!]! * (dy[oy[i]!]! > 0 ? 1 : 0);
  return out;
}
