/**
 * @file `conv2d`: 2-D convolution (really cross-correlation, as in every framework) over NCHW
 * tensors: option parsing and checks here; the computation (im2col + one batched matrix product,
 * or one fused op where the backend has the kernels) in src/fused/conv2d.ts.
 */
import type { Window2d } from "../../backend/backend.ts";
import { checkTensor } from "../../ops/core.ts";
import { convReluMaxPool } from "../../fused/conv-relu-pool.ts";
import { convolve } from "../../fused/conv2d.ts";
import { batchedImage, pair, windowOutSize } from "../../ops/conv.ts";
import { formatShape } from "../../base/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { maxPool2d } from "./pool.ts";

/** Zero padding: one number for all sides, [ph, pw], "valid" (none) or "same" (output size = input size, stride 1). */
export type Conv2dPadding = number | readonly [number, number] | "same" | "valid";

export interface Conv2dOptions {
  /** Step between windows: a number or [sh, sw] (default 1). */
  stride?: number | readonly [number, number];
  /** Default 0. "same" pads (d·(k−1))/2 before and the rest after, like PyTorch, when the total is odd. */
  padding?: Conv2dPadding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly [number, number];
  /** Split channels into this many independent groups (default 1); must divide in and out channels. */
  groups?: number;
}

/** [top, bottom, left, right] zero padding for `padding` on a kh×kw kernel. */
function resolvePadding(padding: Conv2dPadding, kernel: [number, number], dilation: [number, number], stride: [number, number]): [number, number, number, number] {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new Error(`conv2d: padding "same" is not supported for strided convolutions (stride ${formatShape(stride)}); use a number`);
    const total = kernel.map((k, i) => dilation[i]! * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    return [before[0]!, total[0]! - before[0]!, before[1]!, total[1]! - before[1]!];
  }
  if (typeof padding === "string") throw new RangeError(`conv2d: padding must be a number, a pair, "same" or "valid", got "${padding}"`);
  const [ph, pw] = pair(padding, "padding", "conv2d", 0);
  return [ph, ph, pw, pw];
}

/**
 * 2-D convolution with PyTorch's semantics. `x` is [N, C, H, W] (or unbatched [C, H, W]),
 * `weight` [O, C / groups, kh, kw], `bias` [O]; the result is [N, O, Ho, Wo] with
 * Ho = ⌊(H + padding − dilation·(kh − 1) − 1) / stride⌋ + 1.
 *
 * @example
 * const x = tg.randn([1, 1, 6, 6]);
 * tg.nn.functional.conv2d(x, tg.randn([4, 1, 2, 2]), null, { padding: 1 }).shape // [1, 4, 7, 7]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  return conv2dAct(x, weight, bias, opts, false);
}

/**
 * `conv2d`, then relu when `relu` is set (what nn.Sequential runs for a Conv2d followed by a
 * ReLU): with the fused kernels, relu is applied in the same pass (the relu kernel's bits) and
 * recorded in the one conv2d node; otherwise the separate relu op runs.
 */
export function conv2dAct(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: Conv2dOptions, relu: boolean): Tensor {
  const { input, unbatched, win, groups } = convWindow(x, weight, bias, opts);
  const out = convolve(input, weight, bias ?? null, win, groups, relu);
  return unbatched ? out.squeeze(0) : out;
}

/**
 * `maxPool2d(conv2dAct(x, weight, bias, opts, true), pool)` for a max pool of kernel `pool` with
 * stride = kernel, no padding, dilation 1 and no ceil mode (what nn.Sequential runs for Conv2d →
 * ReLU → MaxPool2d): one fused op where the dispatcher can (groups 1, at least one window), else
 * the two ops. The same bits either way.
 */
export function conv2dReluMaxPool(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: Conv2dOptions, pool: readonly [number, number]): Tensor {
  const { input, unbatched, win, groups } = convWindow(x, weight, bias, opts);
  const [ho, wo] = win.outSize;
  const poolOut: [number, number] = [Math.floor(ho / pool[0]), Math.floor(wo / pool[1])];
  if (groups !== 1 || poolOut[0] < 1 || poolOut[1] < 1) return maxPool2d(conv2dAct(x, weight, bias, opts, true), pool);
  const poolWin: Window2d = { kernel: [pool[0], pool[1]], stride: [pool[0], pool[1]], padding: [0, 0], dilation: [1, 1], outSize: poolOut };
  const out = convReluMaxPool(input, weight, bias ?? null, win, poolWin);
  return unbatched ? out.squeeze(0) : out;
}

/** Checks conv2d's operands and options; the batched input, whether to squeeze it back, the window and the groups. */
function convWindow(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: Conv2dOptions): { input: Tensor; unbatched: boolean; win: Window2d; groups: number } {
  const [input, unbatched] = batchedImage(x, "conv2d");
  checkTensor(weight, "conv2d", "weight");
  if (weight.ndim !== 4)
    throw new Error(`conv2d: weight must be 4-D [out_channels, in_channels / groups, kh, kw], got shape ${formatShape(weight.shape)}`);
  if (weight.dtype !== input.dtype)
    throw new TypeError(`conv2d: input (${input.dtype}) and weight (${weight.dtype}) must have the same dtype`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  const [, c, h, w] = input.shape as [number, number, number, number];
  const [o, cg, kh, kw] = weight.shape as [number, number, number, number];
  if (c % groups !== 0 || o % groups !== 0)
    throw new Error(`conv2d: groups=${groups} must divide both the input channels (${c}) and the output channels (${o}); weight shape ${formatShape(weight.shape)}`);
  if (cg * groups !== c)
    throw new Error(
      `conv2d: input shape ${formatShape(x.shape)} has ${c} channels, but weight shape ${formatShape(weight.shape)} with groups=${groups} expects ${cg * groups} (weight.shape[1] × groups)`,
    );
  if (bias !== undefined && bias !== null) {
    checkTensor(bias, "conv2d", "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== o)
      throw new Error(`conv2d: bias must have shape [${o}] (one per output channel), got ${formatShape(bias.shape)}`);
    if (bias.dtype !== input.dtype) throw new TypeError(`conv2d: bias (${bias.dtype}) and input (${input.dtype}) must have the same dtype`);
  }
  const stride = pair(opts.stride ?? 1, "stride", "conv2d");
  const dilation = pair(opts.dilation ?? 1, "dilation", "conv2d");
  const [top, bottom, left, right] = resolvePadding(opts.padding ?? 0, [kh, kw], dilation, stride);
  const paddedH = h + top + bottom;
  const paddedW = w + left + right;
  const spanH = dilation[0] * (kh - 1) + 1;
  const spanW = dilation[1] * (kw - 1) + 1;
  if (spanH > paddedH || spanW > paddedW)
    throw new Error(
      `conv2d: kernel ${kh}×${kw}${dilation[0] * dilation[1] > 1 ? ` (dilated to ${spanH}×${spanW})` : ""} is larger than the padded input ${paddedH}×${paddedW} (input shape ${formatShape(x.shape)}, weight shape ${formatShape(weight.shape)})`,
    );
  const outSize: [number, number] = [windowOutSize(h, kh, top, bottom, stride[0], dilation[0]), windowOutSize(w, kw, left, right, stride[1], dilation[1])];
  const win: Window2d = { kernel: [kh, kw], stride, padding: [top, left], dilation, outSize };
  return { input, unbatched, win, groups };
}
