/**
 * @file The reference `Backend.logSoftmax` and `Backend.logSoftmaxBackward`: one pass per row
 * along `dim` of any strided view, in float64 arithmetic (float32 results rounded once, as the
 * js `sum` accumulates in float64). Rows holding NaN or +∞, and rows of only −∞, give NaN, as
 * PyTorch's log_softmax does; a −∞ entry of any other row gives −∞.
 */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import type { StridedView } from "../backend.ts";
import { stridedOffsets } from "../../base/strided.ts";

/** The rows of `v` along `dim`: each row's first storage offset (the other axes in row-major order), length and stride. */
function rowsOf(v: StridedView, dim: number): { bases: Int32Array; len: number; stride: number } {
  if (v.shape.length === 0) return { bases: Int32Array.of(v.offset), len: 1, stride: 0 };
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  for (let d = 0; d < v.shape.length; d++) {
    if (d === dim) continue;
    keptShape.push(v.shape[d]!);
    keptStrides.push(v.strides[d]!);
  }
  const len = v.shape[dim]!;
  const n = len === 0 ? 0 : sizeOf(keptShape);
  return { bases: stridedOffsets(keptShape, keptStrides, v.offset, n), len, stride: v.strides[dim]! };
}

/** Elements after `dim` in a contiguous row-major tensor of `shape`: the output's stride along `dim`. */
function innerSize(shape: readonly number[], dim: number): number {
  let n = 1;
  for (let d = dim + 1; d < shape.length; d++) n *= shape[d]!;
  return n;
}

/** log softmax of float `x` along `dim`: x − m − log Σ exp(x − m) with m the row's maximum; contiguous, x's shape and dtype. */
export function logSoftmax(x: StridedView, dim: number): TypedArray {
  const out = allocate(x.dtype, sizeOf(x.shape));
  const { bases, len, stride } = rowsOf(x, dim);
  const post = innerSize(x.shape, dim);
  const src = x.data;
  for (let r = 0; r < bases.length; r++) {
    const b = bases[r]!;
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0, o = b; j < len; j++, o += stride) {
      const v = src[o]!;
      if (v > m) m = v;
      else if (Number.isNaN(v)) {
        m = v; // NaN: the whole row is NaN
        break;
      }
    }
    let s = 0;
    for (let j = 0, o = b; j < len; j++, o += stride) s += Math.exp(src[o]! - m);
    const logS = Math.log(s);
    // row r covers out[p·len·post + q + j·post] for r = p·post + q
    const q = r % post;
    for (let j = 0, o = b, w = (r - q) * len + q; j < len; j++, o += stride, w += post) out[w] = src[o]! - m - logS;
  }
  return out;
}

/** logSoftmax's gradient given its output y: g − exp(y) · Σ_dim g, for float g and y of one shape and dtype; contiguous. */
export function logSoftmaxBackward(g: StridedView, y: StridedView, dim: number): TypedArray {
  const out = allocate(g.dtype, sizeOf(g.shape));
  const gr = rowsOf(g, dim);
  const yr = rowsOf(y, dim);
  const len = gr.len;
  const post = innerSize(g.shape, dim);
  const dg = g.data;
  const dy = y.data;
  for (let r = 0; r < gr.bases.length; r++) {
    const gb = gr.bases[r]!;
    let s = 0;
    for (let j = 0, o = gb; j < len; j++, o += gr.stride) s += dg[o]!;
    const q = r % post;
    for (let j = 0, o = gb, p = yr.bases[r]!, w = (r - q) * len + q; j < len; j++, o += gr.stride, p += yr.stride, w += post)
      out[w] = dg[o]! - Math.exp(dy[p]!) * s;
  }
  return out;
}
