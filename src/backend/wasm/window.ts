/**
 * @file The wasm backend's 2-D window primitives: float32 im2col, col2im, max pooling and its
 * backward run in wasm (assembly/window.ts, the js loops in the same order: bit-identical);
 * average pooling and other dtypes call the js kernels. Large calls are cut into disjoint ranges
 * of images (or, for few images, of channels) run on the worker pool: each task writes its own
 * output planes with the same loops, so results do not depend on the thread count.
 */
import type { TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import { type StridedView, type Window2d, windowInts } from "../backend.ts";
import { col2im as jsCol2im, im2col as jsIm2col, maxPool2d as jsMaxPool2d, maxPool2dBackward as jsMaxPool2dBackward } from "../js/conv.ts";
import { PARALLEL_MIN_ELEMENTS, WASM_MIN_ELEMENTS } from "./elementwise.ts";
import { type Arena, copyOutF32, getArena, stage } from "./runtime.ts";
import { type KernelCall, ranges, runCalls, taskCount } from "./threads.ts";

/**
 * Runs `make(n0, nn, c0, cc)` (the call for images n0..n0+nn, channels c0..c0+cc) over [N, C]
 * cut into disjoint tasks when `work` (output elements) is large: ranges of images, or of one
 * image's channels when there are fewer images than tasks.
 */
function runPlanes(N: number, C: number, work: number, make: (n0: number, nn: number, c0: number, cc: number) => KernelCall): void {
  const parts = taskCount(work, PARALLEL_MIN_ELEMENTS);
  const calls: KernelCall[] = [];
  if (parts <= 1 || N * C < 2) calls.push(make(0, N, 0, C));
  else if (N >= parts || C < 2) for (const [n0, n1] of ranges(N, Math.min(parts, N))) calls.push(make(n0, n1 - n0, 0, C));
  else {
    const k = Math.min(C, Math.ceil(parts / N));
    for (let n = 0; n < N; n++) for (const [c0, c1] of ranges(C, k)) calls.push(make(n, 1, c0, c1 - c0));
  }
  runCalls(calls);
}

/** Writes the window geometry (10 int32s, the layout assembly/window.ts reads) into the arena. */
function geometry(ar: Arena, win: Window2d): number {
  const p = ar.alloc(40);
  ar.i32.set(windowInts(win), p >> 2);
  return p;
}

export function im2col(x: StridedView, win: Window2d): TypedArray {
  if (x.dtype !== "float32" || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsIm2col(x, win);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const n = N * C * win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1];
  const ar = getArena().reset();
  const sx = stage(ar, x.data, x.shape, x.strides, x.offset);
  const geo = geometry(ar, win);
  const out = ar.alloc(n * 4);
  const [sn, sc, sh, sw] = sx.strides as [number, number, number, number];
  const plane = win.kernel[0] * win.kernel[1] * win.outSize[0] * win.outSize[1];
  runPlanes(N, C, n, (n0, nn, c0, cc) => ["im2colF32", nn, cc, H, W, sn, sc, sh, sw, sx.ptr + (n0 * sn + c0 * sc) * 4, geo, out + (n0 * C + c0) * plane * 4]);
  return copyOutF32(ar, out, n);
}

export function col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray {
  if (cols.dtype !== "float32" || sizeOf(cols.shape) < WASM_MIN_ELEMENTS) return jsCol2im(cols, win, inSize);
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (win.kernel[0] * win.kernel[1]);
  const [H, W] = inSize;
  const n = N * C * H * W;
  const ar = getArena().reset();
  const sc = stage(ar, cols.data, cols.shape, cols.strides, cols.offset);
  const geo = geometry(ar, win);
  const out = ar.alloc(n * 4);
  const [sn, sr, sl] = sc.strides as [number, number, number];
  const kk = win.kernel[0] * win.kernel[1];
  runPlanes(N, C, n, (n0, nn, c0, cc) => ["col2imF32", nn, cc, H, W, sn, sr, sl, sc.ptr + (n0 * sn + c0 * kk * sr) * 4, geo, out + (n0 * C + c0) * H * W * 4]);
  return copyOutF32(ar, out, n);
}

export function maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array } {
  if (x.dtype !== "float32" || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsMaxPool2d(x, win);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const n = N * C * win.outSize[0] * win.outSize[1];
  const ar = getArena().reset();
  const sx = stage(ar, x.data, x.shape, x.strides, x.offset);
  const geo = geometry(ar, win);
  const values = ar.alloc(n * 4);
  const indices = ar.alloc(n * 4);
  const [sn, sc, sh, sw] = sx.strides as [number, number, number, number];
  const plane = win.outSize[0] * win.outSize[1];
  runPlanes(N, C, n, (n0, nn, c0, cc) => {
    const o = (n0 * C + c0) * plane * 4;
    return ["maxPool2dF32", nn, cc, H, W, sn, sc, sh, sw, sx.ptr + (n0 * sn + c0 * sc) * 4, geo, values + o, indices + o];
  });
  return { values: copyOutF32(ar, values, n), indices: ar.i32.slice(indices >> 2, (indices >> 2) + n) };
}

export function maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray {
  const [N, C, Ho, Wo] = g.shape as [number, number, number, number];
  const [H, W] = inSize;
  const n = N * C * H * W;
  if (g.dtype !== "float32" || indices.dtype !== "int32" || n < WASM_MIN_ELEMENTS) return jsMaxPool2dBackward(g, indices, inSize);
  const ar = getArena().reset();
  const sg = stage(ar, g.data, g.shape, g.strides, g.offset);
  const si = stage(ar, indices.data, indices.shape, indices.strides, indices.offset);
  const out = ar.alloc(n * 4);
  const [gn, gc] = sg.strides as [number, number];
  const [in_, ic] = si.strides as [number, number];
  runPlanes(N, C, n, (n0, nn, c0, cc) => {
    const [gp, ip] = [sg.ptr + (n0 * gn + c0 * gc) * 4, si.ptr + (n0 * in_ + c0 * ic) * 4];
    return ["maxPool2dBackwardF32", nn, cc, Ho, Wo, H, W, gp, ...sg.strides, ip, ...si.strides, out + (n0 * C + c0) * H * W * 4];
  });
  return copyOutF32(ar, out, n);
}
