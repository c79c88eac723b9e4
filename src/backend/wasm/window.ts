/**
 * @file The wasm backend's 2-D window primitives: float32 im2col, col2im, max pooling and its
 * backward run in wasm (assembly/window.ts, the js loops in the same order: bit-identical);
 * average pooling and other dtypes call the js kernels.
 */
import type { TypedArray } from "../../tensor/dtype.ts";
import { sizeOf } from "../../tensor/shape.ts";
import type { StridedView, Window2d } from "../backend.ts";
import { col2im as jsCol2im, im2col as jsIm2col, maxPool2d as jsMaxPool2d, maxPool2dBackward as jsMaxPool2dBackward } from "../js/conv.ts";
import { WASM_MIN_ELEMENTS } from "./elementwise.ts";
import { type Arena, getArena, getRuntime, stage } from "./runtime.ts";

/** Writes the window geometry (10 int32s, the layout assembly/window.ts reads) into the arena. */
function geometry(ar: Arena, win: Window2d): number {
  const p = ar.alloc(40);
  ar.i32.set([...win.kernel, ...win.stride, ...win.padding, ...win.dilation, ...win.outSize], p >> 2);
  return p;
}

export function im2col(x: StridedView, win: Window2d): TypedArray {
  if (x.dtype !== "float32" || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsIm2col(x, win);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const n = N * C * win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1];
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sx = stage(ar, x.data, x.shape, x.strides, x.offset);
  const geo = geometry(ar, win);
  const out = ar.alloc(n * 4);
  const [sn, sc, sh, sw] = sx.strides as [number, number, number, number];
  rt.kernels.im2colF32(N, C, H, W, sn, sc, sh, sw, sx.ptr, geo, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

export function col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray {
  if (cols.dtype !== "float32" || sizeOf(cols.shape) < WASM_MIN_ELEMENTS) return jsCol2im(cols, win, inSize);
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (win.kernel[0] * win.kernel[1]);
  const [H, W] = inSize;
  const n = N * C * H * W;
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sc = stage(ar, cols.data, cols.shape, cols.strides, cols.offset);
  const geo = geometry(ar, win);
  const out = ar.alloc(n * 4);
  const [sn, sr, sl] = sc.strides as [number, number, number];
  rt.kernels.col2imF32(N, C, H, W, sn, sr, sl, sc.ptr, geo, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

export function maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array } {
  if (x.dtype !== "float32" || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsMaxPool2d(x, win);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const n = N * C * win.outSize[0] * win.outSize[1];
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sx = stage(ar, x.data, x.shape, x.strides, x.offset);
  const geo = geometry(ar, win);
  const values = ar.alloc(n * 4);
  const indices = ar.alloc(n * 4);
  const [sn, sc, sh, sw] = sx.strides as [number, number, number, number];
  rt.kernels.maxPool2dF32(N, C, H, W, sn, sc, sh, sw, sx.ptr, geo, values, indices);
  return { values: ar.f32.slice(values >> 2, (values >> 2) + n), indices: ar.i32.slice(indices >> 2, (indices >> 2) + n) };
}

export function maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray {
  const [N, C, Ho, Wo] = g.shape as [number, number, number, number];
  const [H, W] = inSize;
  const n = N * C * H * W;
  if (g.dtype !== "float32" || indices.dtype !== "int32" || n < WASM_MIN_ELEMENTS) return jsMaxPool2dBackward(g, indices, inSize);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sg = stage(ar, g.data, g.shape, g.strides, g.offset);
  const si = stage(ar, indices.data, indices.shape, indices.strides, indices.offset);
  const out = ar.alloc(n * 4);
  const [gn, gc, gh, gw] = sg.strides as [number, number, number, number];
  const [in_, ic, ih, iw] = si.strides as [number, number, number, number];
  rt.kernels.maxPool2dBackwardF32(N, C, Ho, Wo, H, W, sg.ptr, gn, gc, gh, gw, si.ptr, in_, ic, ih, iw, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}
