/**
 * @file The fused convolution: x ⋆ w + bias, then relu when asked, as one kernel call and one
 * recorded `conv2d` node where the backend has the kernel (groups 1), else im2col and one batched
 * matmul (per group), the bias add and relu; and the node's gradients, from the backend's two
 * gradient kernels outside createGraph, else composed from differentiable ops (second order).
 */
import type { Window2d } from "../backend/backend.ts";
import { col2im, im2col } from "../ops/conv.ts";
import { fromKernel, record } from "../ops/core.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { runKernel } from "./kernels.ts";
import { reluBackward } from "./relu-backward.ts";

/**
 * x [N, C, H, W] ⋆ w [O, C / groups, kh, kw] (+ bias [O]) → [N, O, Ho, Wo] over the resolved
 * window, then relu when `relu`; operands already checked (F.conv2d checks them).
 */
export function convolve(x: Tensor, w: Tensor, bias: Tensor | null, win: Window2d, groups: number, relu: boolean): Tensor {
  const [n, c] = x.shape as [number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  if (groups === 1) {
    // one op, one pass over each sample's columns in cache
    const data = runKernel("conv2d", { x, w, bias, win, relu });
    if (data !== null) return record("conv2d", bias === null ? [x, w] : [x, w, bias], fromKernel(data, x.dtype, [n, o, ...win.outSize]), { win, relu });
  }
  const cols = im2col(x, win); // [N, C·kh·kw, Ho·Wo]
  const length = win.outSize[0] * win.outSize[1];
  let out =
    groups === 1
      ? w
          .reshape([o, c * kh * kw])
          .matmul(cols) // [N, O, L]
      : w.reshape([groups, o / groups, cg * kh * kw]).matmul(cols.reshape([n, groups, cg * kh * kw, length])); // [N, G, O/G, L]
  out = out.reshape([n, o, ...win.outSize]);
  if (bias !== null) out = out.add(bias.reshape([o, 1, 1]));
  return relu ? out.relu() : out;
}

/**
 * The gradients of a recorded `conv2d` for the inputs that need one ([x, w, bias?]):
 * dx = col2im(wᵀ·g), dw = Σₙ gₙ·im2col(x)ₙᵀ, db = Σ g over N, Ho, Wo — with relu fused in
 * (`reluOut`: the output), g masked by relu's gradient first (inside the kernels when they run).
 */
export function conv2dGradients(g: Tensor, x: Tensor, w: Tensor, win: Window2d, needs: readonly boolean[], reluOut: Tensor | null = null): (Tensor | null)[] {
  const [n, c, h, width] = x.shape as [number, number, number, number];
  const o = w.shape[0]!;
  const inSize: [number, number] = [h, width];
  // explicit: an empty batch cannot infer a −1
  const length = win.outSize[0] * win.outSize[1];
  let gy: Tensor | null = reluOut === null ? g : null;
  const masked = (): Tensor => (gy ??= reluBackward(g, reluOut!));
  const needBias = needs.length > 2 && needs[2] === true;
  let gx: Tensor | null = null;
  let gw: Tensor | null = null;
  let gb: Tensor | null = null;
  if (needs[0]) {
    const data = runKernel("conv2dBackwardInput", {
      g,
      w,
      win,
      inSize,
      y: reluOut,
    });
    gx = data !== null ? fromKernel(data, g.dtype, [n, c, h, width]) : col2im(w.reshape([o, -1]).mT.matmul(masked().reshape([n, o, length])), win, inSize);
  }
  if (needs[1]) {
    const r = runKernel("conv2dBackwardWeight", {
      g,
      x,
      win,
      bias: needBias,
      y: reluOut,
    });
    if (r !== null) {
      gw = fromKernel(r.dw, g.dtype, w.shape);
      if (r.db !== null) gb = fromKernel(r.db, g.dtype, [o]);
    } else gw = masked().reshape([n, o, length]).matmul(im2col(x, win).mT).sum(0).reshape(w.shape);
  }
  if (needBias && gb === null) gb = masked().sum([0, 2, 3]);
  return needs.length > 2 ? [gx, gw, gb] : [gx, gw];
}
