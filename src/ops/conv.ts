/**
 * @file The 2-D window primitives (im2col / col2im, max and average pooling and their
 * adjoints) as recorded ops over a fully resolved `Window2d`. These are the building blocks of
 * `nn.functional.conv2d` / `maxPool2d` / `avgPool2d`, which parse user options, check shapes
 * and pick output sizes; here inputs are assumed valid 4-D float NCHW tensors. Also the fused
 * convolution (one recorded op) for backends that have the conv2d hooks, and its gradients.
 */
import { isGradEnabled } from "../autograd/mode.ts";
import type { AvgPoolOptions, Window2d } from "../backend/backend.ts";
import { isFloating } from "../tensor/dtype.ts";
import { formatShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkTensor, fromKernel, kernels, record } from "./core.ts";
import { reluBackward } from "./elementwise.ts";

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

/**
 * x [N, C, H, W] ⋆ w [O, C, kh, kw] (+ bias [O]) → [N, O, Ho, Wo] as ONE recorded op through the
 * backend's fused `conv2d` (groups 1, float32), relu included when asked; null when the backend has no such kernel or
 * declines, and then the caller composes im2col and matmul. Gradient: conv2dGradients.
 */
export function conv2dFused(x: Tensor, w: Tensor, bias: Tensor | null, win: Window2d, relu = false): Tensor | null {
  const k = kernels();
  if (k.conv2d === undefined || x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) return null;
  const data = k.conv2d(x, w, bias, win, relu);
  if (data === null) return null;
  const out = fromKernel(data, x.dtype, [x.shape[0]!, w.shape[0]!, ...win.outSize]);
  return record("conv2d", bias === null ? [x, w] : [x, w, bias], out, { win, relu });
}

/**
 * The gradients of conv2dFused for the inputs that need one ([x, w, bias?]):
 * dx = col2im(wᵀ·g), dw = Σₙ gₙ·im2col(x)ₙᵀ, db = Σ g over N, Ho, Wo. The backend's fused
 * kernels compute them when no graph is being recorded; under createGraph they are composed from
 * differentiable ops (im2col, matmul, col2im, sum), so higher-order gradients still work.
 */
export function conv2dGradients(g: Tensor, x: Tensor, w: Tensor, win: Window2d, needs: readonly boolean[], reluOut: Tensor | null = null): (Tensor | null)[] {
  const [n, c, h, width] = x.shape as [number, number, number, number];
  const o = w.shape[0]!;
  const inSize: [number, number] = [h, width];
  const k = kernels();
  const fused = !isGradEnabled() && g.dtype === "float32";
  // a relu-fused forward: the kernels mask g by relu's gradient as they read it; otherwise (and
  // under createGraph) relu's rule runs first, once
  let gy: Tensor | null = reluOut === null ? g : null;
  const masked = (): Tensor => (gy ??= reluBackward(g, reluOut!));
  const needBias = needs.length > 2 && needs[2] === true;
  let gx: Tensor | null = null;
  let gw: Tensor | null = null;
  let gb: Tensor | null = null;
  if (needs[0]) {
    const data = fused ? (k.conv2dBackwardInput?.(g, w, win, inSize, reluOut) ?? null) : null;
    gx = data !== null ? fromKernel(data, g.dtype, [n, c, h, width]) : col2im(w.reshape([o, -1]).mT.matmul(masked().reshape([n, o, -1])), win, inSize);
  }
  if (needs[1]) {
    const r = fused ? (k.conv2dBackwardWeight?.(g, x, win, needBias, reluOut) ?? null) : null;
    if (r !== null) {
      gw = fromKernel(r.dw, g.dtype, w.shape);
      if (r.db !== null) gb = fromKernel(r.db, g.dtype, [o]);
    } else gw = masked().reshape([n, o, -1]).matmul(im2col(x, win).mT).sum(0).reshape(w.shape);
  }
  if (needBias && gb === null) gb = masked().sum([0, 2, 3]);
  return needs.length > 2 ? [gx, gw, gb] : [gx, gw];
}

/**
 * relu(x ⋆ w + bias) max-pooled by `pool` (non-overlapping windows over the conv output: stride =
 * kernel, no padding, dilation 1) as ONE recorded op through the backend's `conv2dReluMaxPool`
 * (groups 1, float32): what nn.Sequential runs for Conv2d → ReLU → MaxPool2d. The output is the
 * pooled tensor, bit-identical to conv2dFused(…, relu) then maxPool2dWindows; the conv output is
 * never materialised. Null when the backend has no such kernel or declines (the caller runs the two
 * ops). Gradient: conv2dReluMaxPoolGradients.
 */
export function conv2dReluMaxPoolFused(x: Tensor, w: Tensor, bias: Tensor | null, win: Window2d, pool: Window2d): Tensor | null {
  const k = kernels();
  if (k.conv2dReluMaxPool === undefined || x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) return null;
  const r = k.conv2dReluMaxPool(x, w, bias, win, pool);
  if (r === null) return null;
  const shape = [x.shape[0]!, w.shape[0]!, ...pool.outSize];
  const indices = new Tensor(r.indices, "int32", shape);
  return record("conv2dReluMaxPool", bias === null ? [x, w] : [x, w, bias], fromKernel(r.values, x.dtype, shape), { win, pool, indices });
}

/**
 * The gradients of conv2dReluMaxPoolFused for the inputs that need one ([x, w, bias?]) from the
 * pooled gradient g: the unfused chain's maxPool2dBackward, relu mask and conv2d gradients. The
 * backend's fused kernels rebuild each sample's masked gradient in cache when no graph is being
 * recorded; otherwise (under createGraph, or where they decline) the chain is composed: the
 * scattered g, and the relu mask from the pooled values scattered back to their argmax (elsewhere
 * g is zero, so the mask there does not matter), into conv2dGradients.
 */
export function conv2dReluMaxPoolGradients(
  g: Tensor,
  x: Tensor,
  w: Tensor,
  pooled: Tensor,
  indices: Tensor,
  win: Window2d,
  pool: Window2d,
  needs: readonly boolean[],
): (Tensor | null)[] {
  const [n, c, h, width] = x.shape as [number, number, number, number];
  const o = w.shape[0]!;
  const k = kernels();
  const needBias = needs.length > 2 && needs[2] === true;
  const out: (Tensor | null)[] = needs.length > 2 ? [null, null, null] : [null, null];
  if (!isGradEnabled() && g.dtype === "float32") {
    if (needs[0]) {
      const data = k.conv2dReluMaxPoolBackwardInput?.(g, w, win, [h, width], pool, indices, pooled) ?? null;
      if (data !== null) out[0] = fromKernel(data, g.dtype, [n, c, h, width]);
    }
    if (needs[1]) {
      const r = k.conv2dReluMaxPoolBackwardWeight?.(g, x, win, needBias, pool, indices, pooled) ?? null;
      if (r !== null) {
        out[1] = fromKernel(r.dw, g.dtype, w.shape);
        if (r.db !== null) out[2] = fromKernel(r.db, g.dtype, [o]);
      }
    }
  }
  const rest = needs.map((need, i) => need && out[i] === null);
  if (rest.some((r) => r)) {
    const dy = maxPool2dBackward(g, indices, win.outSize);
    const y = maxPool2dBackward(pooled.detach(), indices, win.outSize);
    const composed = conv2dGradients(dy, x, w, win, rest, y);
    for (const [i, r] of rest.entries()) if (r) out[i] = composed[i]!;
  }
  return out;
}
