/**
 * @file Conv2d → ReLU → MaxPool2d with non-overlapping pool windows as one recorded
 * `conv2dReluMaxPool` node where the backend has the kernel (the conv output is pooled in cache,
 * never materialised), else the fused convolution with relu, then max pooling; and the node's
 * gradients: the unfused chain's scatter, relu mask and conv gradients, rebuilt per sample inside
 * the backend's kernels outside createGraph. Bit-identical either way.
 */
import type { Window2d } from "../backend/backend.ts";
import { maxPool2dBackward, maxPool2dWindows } from "../ops/conv.ts";
import { fromKernel, record } from "../ops/core.ts";
import { Tensor } from "../tensor/tensor.ts";
import { conv2dGradients, convolve } from "./conv2d.ts";
import { runKernel } from "./kernels.ts";

/**
 * maxPool2d(relu(x ⋆ w + bias), pool) for x [N, C, H, W], groups 1, and a `pool` window with
 * stride = kernel, no padding and dilation 1 over the conv output (pool.outSize ≥ 1).
 */
export function convReluMaxPool(x: Tensor, w: Tensor, bias: Tensor | null, win: Window2d, pool: Window2d): Tensor {
  const r = runKernel("conv2dReluMaxPool", { x, w, bias, win, pool });
  if (r === null) return maxPool2dWindows(convolve(x, w, bias, win, 1, true), pool).values;
  const shape = [x.shape[0]!, w.shape[0]!, ...pool.outSize];
  const indices = new Tensor(r.indices, "int32", shape);
  return record("conv2dReluMaxPool", bias === null ? [x, w] : [x, w, bias], fromKernel(r.values, x.dtype, shape), { win, pool, indices });
}

/**
 * The gradients of a recorded `conv2dReluMaxPool` for the inputs that need one ([x, w, bias?])
 * from the pooled gradient g. Composed (under createGraph, or where the kernels decline): g
 * scattered to the argmax, and relu's mask from the pooled values scattered back there (elsewhere
 * g is zero, so the mask there does not matter), into conv2dGradients.
 */
export function convReluMaxPoolGradients(
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
  const needBias = needs.length > 2 && needs[2] === true;
  const out: (Tensor | null)[] = needs.length > 2 ? [null, null, null] : [null, null];
  const operands = { g, win, pool, indices, pooled };
  if (needs[0]) {
    const data = runKernel("conv2dReluMaxPoolBackwardInput", {
      ...operands,
      w,
      inSize: [h, width],
    });
    if (data !== null) out[0] = fromKernel(data, g.dtype, [n, c, h, width]);
  }
  if (needs[1]) {
    const r = runKernel("conv2dReluMaxPoolBackwardWeight", {
      ...operands,
      x,
      bias: needBias,
    });
    if (r !== null) {
      out[1] = fromKernel(r.dw, g.dtype, w.shape);
      if (r.db !== null) out[2] = fromKernel(r.db, g.dtype, [w.shape[0]!]);
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
