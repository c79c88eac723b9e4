/** @file The gradients of the recorded `linear` op (nn/functional/linear.ts records it; autograd/rules.ts calls this). */
import { isGradEnabled } from "../autograd/mode.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { fromKernel, kernels } from "./core.ts";
import { reluBackward } from "./elementwise.ts";

/**
 * The gradients of a recorded `linear` (rows x [M, K], weight [N, K], output `out`; relu applied
 * when `reluOut` is that output), for the inputs `needs` marks: [dx, dw] or, with a bias,
 * [dx, dw, db]. Outside createGraph the backend's `linearBackward` computes them in one call where
 * it has it (the masked gradient is formed once, never copied out); otherwise, and under
 * createGraph, reluBackward, two matmuls and a sum, with the same bits.
 */
export function linearGradients(g: Tensor, x: Tensor, w: Tensor, hasBias: boolean, reluOut: Tensor | null, needs: readonly boolean[]): (Tensor | null)[] {
  const want: [boolean, boolean, boolean] = [needs[0] === true, needs[1] === true, hasBias && needs[2] === true];
  const hook = kernels().linearBackward;
  if (hook !== undefined && !isGradEnabled() && g.dtype === "float32" && x.dtype === "float32" && w.dtype === "float32" && x.ndim === 2) {
    const r = hook.call(kernels(), g, x, w, reluOut, want);
    if (r !== null) {
      const dx = r.dx === null ? null : fromKernel(r.dx, g.dtype, x.shape);
      const dw = r.dw === null ? null : fromKernel(r.dw, g.dtype, w.shape);
      const db = r.db === null ? null : fromKernel(r.db, g.dtype, [w.shape[0]!]);
      return hasBias ? [dx, dw, db] : [dx, dw];
    }
  }
  const gy = reluOut !== null ? reluBackward(g, reluOut) : g;
  const grads = [want[0] ? gy.matmul(w) : null, want[1] ? gy.mT.matmul(x) : null];
  if (hasBias) grads.push(want[2] ? gy.sum(0) : null);
  return grads;
}
