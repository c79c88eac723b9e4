/** @file The native backend's 2-D window kernels (float32): im2col, col2im, max pooling and its backward. Bit-identical to js. */
import type { TypedArray } from "../../tensor/dtype.ts";
import type { StridedView, Window2d } from "../backend.ts";
import { jsBackend } from "../js/index.ts";
import { nativeAddon } from "./addon.ts";
import { outputF32, outputI32 } from "./alloc.ts";

const addon = nativeAddon();

const windowParams = new Float64Array(19);

function fillWindowParams(offset: number, nchw: readonly number[], strides: readonly number[], win: Window2d): Float64Array {
  const p = windowParams;
  let k = 0;
  p[k++] = offset;
  for (const d of nchw) p[k++] = d;
  for (const s of strides) p[k++] = s;
  for (const v of [...win.kernel, ...win.stride, ...win.padding, ...win.dilation, ...win.outSize]) p[k++] = v;
  return p;
}

export function im2col(x: StridedView, win: Window2d): TypedArray {
  if (addon === null || x.dtype !== "float32") return jsBackend.im2col(x, win);
  const [N, C] = x.shape as [number, number, number, number];
  const out = outputF32(N * C * win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1]);
  if (out.length === 0) return out;
  addon.im2col(x.data as Float32Array, out, fillWindowParams(x.offset, x.shape, x.strides, win));
  return out;
}

export function col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray {
  if (addon === null || cols.dtype !== "float32") return jsBackend.col2im(cols, win, inSize);
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (win.kernel[0] * win.kernel[1]);
  const out = outputF32(N * C * inSize[0] * inSize[1]);
  if (out.length === 0) return out;
  addon.col2im(cols.data as Float32Array, out, fillWindowParams(cols.offset, [N, C, inSize[0], inSize[1]], cols.strides, win));
  return out;
}

export function maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array } {
  if (addon === null || x.dtype !== "float32") return jsBackend.maxPool2d(x, win);
  const [N, C] = x.shape as [number, number, number, number];
  const n = N * C * win.outSize[0] * win.outSize[1];
  const values = outputF32(n);
  const indices = outputI32(n);
  if (n > 0) addon.maxPool2d(x.data as Float32Array, values, indices, fillWindowParams(x.offset, x.shape, x.strides, win));
  return { values, indices };
}

const poolBackParams = new Float64Array(16);

export function maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray {
  if (addon === null || g.dtype !== "float32" || indices.dtype !== "int32") return jsBackend.maxPool2dBackward(g, indices, inSize);
  const [N, C, Ho, Wo] = g.shape as [number, number, number, number];
  const out = outputF32(N * C * inSize[0] * inSize[1]);
  if (out.length === 0) return out;
  const p = poolBackParams;
  p.set([g.offset, indices.offset, N, C, Ho, Wo, inSize[0], inSize[1], ...g.strides, ...indices.strides]);
  addon.maxPool2dBackward(g.data as Float32Array, indices.data as Int32Array, out, p);
  return out;
}
