/**
 * @file The 2-D window primitives (im2col / col2im, max and average pooling and their
 * adjoints) as recorded ops over a fully resolved `Window2d`. These are the building blocks of
 * `nn.functional.conv2d` / `maxPool2d` / `avgPool2d`, which parse user options, check shapes
 * and pick output sizes; here inputs are assumed valid 4-D float NCHW tensors.
 */
import type { AvgPoolOptions, Window2d } from "../backend/backend.ts";
import { isFloating } from "../base/dtype.ts";
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkTensor, fromKernel, kernels, record } from "./core.ts";

/** Checks x is [C, H, W] or [N, C, H, W] and float; returns the batched view and whether to squeeze it back. */
export function batchedImage(x: Tensor, op: string): [Tensor, boolean] {
  checkTensor(x, op);
  if (x.ndim !== 3 && x.ndim !== 4)
    throw new Error(`${op}: expected a 3-D (unbatched [C, H, W]) or 4-D (batched [N, C, H, W]) input, got shape ${formatShape(x.shape)}`);
  if (!isFloating(x.dtype)) throw new TypeError(`${op}: expected a float32 or float64 input, got dtype ${x.dtype} (convert with .float())`);
  return x.ndim === 3 ? [x.unsqueeze(0), true] : [x, false];
}

/** `v` (a number or a pair) as [h, w] integers ≥ `min`, or an error naming the op and the option. */
export function pair(v: number | readonly number[], what: string, op: string, min = 1): [number, number] {
  const p = typeof v === "number" ? [v, v] : [...v];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min))
    throw new RangeError(`${op}: ${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p as [number, number];
}

/**
 * Output length of a sliding window along one axis (PyTorch's pooling_output_shape): floor or
 * ceil of (size + padding − effective kernel) / stride, plus one; in ceil mode the last window
 * must start inside the input or its leading padding.
 */
export function windowOutSize(size: number, k: number, padBefore: number, padAfter: number, stride: number, dilation: number, ceilMode = false): number {
  const span = size + padBefore + padAfter - dilation * (k - 1) - 1;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padBefore) out--;
  return out;
}

/** x [N, C, H, W] → columns [N, C·kh·kw, Ho·Wo] (PyTorch's `unfold`). Gradient: col2im. */
export function im2col(x: Tensor, win: Window2d): Tensor {
  const [n, c] = x.shape as [number, number];
  const shape = [n, c * win.kernel[0] * win.kernel[1], win.outSize[0] * win.outSize[1]];
  return record("im2col", [x], fromKernel(kernels().im2col(x, win), x.dtype, shape), { win });
}

/** Columns [N, C·kh·kw, Ho·Wo] summed back into [N, C, ...inSize] (PyTorch's `fold`). Gradient: im2col. */
export function col2im(cols: Tensor, win: Window2d, inSize: readonly [number, number]): Tensor {
  const shape = [cols.shape[0]!, cols.shape[1]! / (win.kernel[0] * win.kernel[1]), ...inSize];
  return record("col2im", [cols], fromKernel(kernels().col2im(cols, win, inSize), cols.dtype, shape), { win, inSize });
}

/** Window maxima and their int32 plane indices. Gradient: scatter-add at the indices. */
export function maxPool2dWindows(x: Tensor, win: Window2d): { values: Tensor; indices: Tensor } {
  const { values, indices } = kernels().maxPool2d(x, win);
  const shape = [x.shape[0]!, x.shape[1]!, ...win.outSize];
  const idx = new Tensor(indices, "int32", shape);
  const inSize = [x.shape[2]!, x.shape[3]!] as const;
  return { values: record("maxPool2d", [x], fromKernel(values, x.dtype, shape), { indices: idx, inSize }), indices: idx };
}

/** g [N, C, Ho, Wo] scatter-added into zeros [N, C, ...inSize] at `indices`. Gradient: gather at the indices. */
export function maxPool2dBackward(g: Tensor, indices: Tensor, inSize: readonly [number, number]): Tensor {
  const shape = [g.shape[0]!, g.shape[1]!, ...inSize];
  const data = kernels().maxPool2dBackward(g, indices, inSize);
  return record("maxPool2dBackward", [g], fromKernel(data, g.dtype, shape), { indices, inSize });
}

/** Window means with PyTorch's divisors. Gradient: avgPool2dBackward (its adjoint). */
export function avgPool2dWindows(x: Tensor, win: Window2d, opts: AvgPoolOptions): Tensor {
  const shape = [x.shape[0]!, x.shape[1]!, ...win.outSize];
  const inSize = [x.shape[2]!, x.shape[3]!] as const;
  return record("avgPool2d", [x], fromKernel(kernels().avgPool2d(x, win, opts), x.dtype, shape), { win, opts, inSize });
}

/** The adjoint of avgPool2dWindows: g spread evenly over each window of [N, C, ...inSize]. Gradient: avgPool2dWindows. */
export function avgPool2dBackward(g: Tensor, win: Window2d, opts: AvgPoolOptions, inSize: readonly [number, number]): Tensor {
  const shape = [g.shape[0]!, g.shape[1]!, ...inSize];
  const data = kernels().avgPool2dBackward(g, win, opts, inSize);
  return record("avgPool2dBackward", [g], fromKernel(data, g.dtype, shape), { win, opts, inSize });
}
