/**
 * @file Pooling over NCHW tensors: max and average pooling on the window primitives (their
 * gradients are the kernels' adjoints), and adaptive average pooling composed from them.
 */
import type { Window2d } from "../../backend/backend.ts";
import { avgPool2dWindows, batchedImage, maxPool2dWindows, pair, windowOutSize } from "../../ops/conv.ts";
import { fromKernel } from "../../ops/core.ts";
import { allocate } from "../../base/dtype.ts";
import { formatShape } from "../../base/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";

export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: number | readonly [number, number] | null;
  /** Implicit −∞ padding on each side (default 0); at most half the effective kernel. */
  padding?: number | readonly [number, number];
  /** Spacing between window taps (default 1). */
  dilation?: number | readonly [number, number];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: number | readonly [number, number] | null;
  /** Implicit zero padding on each side (default 0); at most half the kernel. */
  padding?: number | readonly [number, number];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in each window's divisor (default true, as in PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this number instead. */
  divisorOverride?: number | null;
}

/** Resolves pooling options into a window over `x` [N, C, H, W], checking them as PyTorch does. */
function poolWindow(
  op: string,
  x: Tensor,
  kernelSize: number | readonly [number, number],
  o: { stride?: number | readonly [number, number] | null; padding?: number | readonly [number, number]; dilation?: number | readonly [number, number]; ceilMode?: boolean },
): Window2d {
  const kernel = pair(kernelSize, "kernelSize", op);
  const stride = o.stride === undefined || o.stride === null ? kernel : pair(o.stride, "stride", op);
  const padding = pair(o.padding ?? 0, "padding", op, 0);
  const dilation = pair(o.dilation ?? 1, "dilation", op);
  for (let a = 0; a < 2; a++) {
    const span = dilation[a]! * (kernel[a]! - 1) + 1;
    if (padding[a]! > Math.floor(span / 2))
      throw new RangeError(`${op}: padding ${formatShape(padding)} must be at most half the (effective) kernel size ${formatShape(kernel)}`);
  }
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  const outSize: [number, number] = [
    windowOutSize(h, kernel[0], padding[0], padding[0], stride[0], dilation[0], o.ceilMode ?? false),
    windowOutSize(w, kernel[1], padding[1], padding[1], stride[1], dilation[1], o.ceilMode ?? false),
  ];
  if (outSize[0] < 1 || outSize[1] < 1)
    throw new Error(
      `${op}: kernel ${formatShape(kernel)} (stride ${formatShape(stride)}, padding ${formatShape(padding)}, dilation ${formatShape(dilation)}) is larger than the padded input for input shape ${formatShape(x.shape)}: output size would be ${outSize[0]}×${outSize[1]}`,
    );
  return { kernel, stride, padding, dilation, outSize };
}

/**
 * The max-pooled tensor and the int32 index of each maximum within its input plane (H·W,
 * PyTorch's `return_indices` convention).
 */
export function maxPool2dWithIndices(x: Tensor, kernelSize: number | readonly [number, number], opts: MaxPool2dOptions = {}): { values: Tensor; indices: Tensor } {
  const [input, unbatched] = batchedImage(x, "maxPool2d");
  const r = maxPool2dWindows(input, poolWindow("maxPool2d", input, kernelSize, opts));
  return unbatched ? { values: r.values.squeeze(0), indices: r.indices.squeeze(0) } : r;
}

/**
 * 2-D max pooling over [N, C, H, W] (or [C, H, W]); the gradient flows to each window's maximum
 * (the first one on ties, as in PyTorch).
 *
 * @example tg.nn.functional.maxPool2d(tg.randn([1, 3, 8, 8]), 2).shape // [1, 3, 4, 4]
 */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], opts: MaxPool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, opts).values;
}

/**
 * 2-D average pooling over [N, C, H, W] (or [C, H, W]) with PyTorch's divisors: padded zeros
 * count unless `countIncludePad: false`; windows hanging past the padding (ceil mode) do not.
 *
 * @example tg.nn.functional.avgPool2d(tg.ones([1, 1, 4, 4]), 2).toArray() // [[[[1, 1], [1, 1]]]]
 */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], opts: AvgPool2dOptions = {}): Tensor {
  const [input, unbatched] = batchedImage(x, "avgPool2d");
  const win = poolWindow("avgPool2d", input, kernelSize, { ...opts, dilation: 1 });
  const divisorOverride = opts.divisorOverride ?? null;
  if (divisorOverride !== null && (!Number.isFinite(divisorOverride) || divisorOverride === 0))
    throw new RangeError(`avgPool2d: divisorOverride must be a non-zero number, got ${divisorOverride}`);
  const out = avgPool2dWindows(input, win, { countIncludePad: opts.countIncludePad ?? true, divisorOverride });
  return unbatched ? out.squeeze(0) : out;
}

/** Row i averages input rows [⌊i·n/m⌋, ⌈(i+1)·n/m⌉): PyTorch's adaptive windows as an [m, n] matrix. */
function adaptiveMatrix(n: number, m: number, x: Tensor): Tensor {
  const data = allocate(x.dtype, m * n);
  for (let i = 0; i < m; i++) {
    const start = Math.floor((i * n) / m);
    const end = Math.ceil(((i + 1) * n) / m);
    for (let j = start; j < end; j++) data[i * n + j] = 1 / (end - start);
  }
  return fromKernel(data, x.dtype, [m, n]);
}

/**
 * Average pooling to a fixed output size [Ho, Wo] whatever the input size, with PyTorch's
 * windows (start ⌊i·H/Ho⌋, end ⌈(i+1)·H/Ho⌉). `outputSize` 1 is global average pooling;
 * null in a pair keeps that input dimension.
 *
 * @example tg.nn.functional.adaptiveAvgPool2d(tg.randn([2, 8, 7, 5]), 1).shape // [2, 8, 1, 1]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const [input, unbatched] = batchedImage(x, "adaptiveAvgPool2d");
  const [h, w] = [input.shape[2]!, input.shape[3]!];
  const requested = typeof outputSize === "number" ? [outputSize, outputSize] : [outputSize[0] ?? h, outputSize[1] ?? w];
  const [ho, wo] = pair(requested, "outputSize", "adaptiveAvgPool2d") as [number, number];
  if (h === 0 || w === 0) throw new Error(`adaptiveAvgPool2d: input shape ${formatShape(x.shape)} has an empty spatial dimension`);
  let out: Tensor;
  if (h % ho === 0 && w % wo === 0) {
    // equal windows: one average pool with kernel = stride = input / output
    const k: [number, number] = [h / ho, w / wo];
    const win: Window2d = { kernel: k, stride: k, padding: [0, 0], dilation: [1, 1], outSize: [ho, wo] };
    out = avgPool2dWindows(input, win, { countIncludePad: true, divisorOverride: null });
  } else {
    // overlapping windows of unequal size: the average is separable, rows then columns
    out = adaptiveMatrix(h, ho, input).matmul(input.matmul(adaptiveMatrix(w, wo, input).t()));
  }
  return unbatched ? out.squeeze(0) : out;
}
