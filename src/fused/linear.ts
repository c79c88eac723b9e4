/**
 * @file The fused linear layer `x·wᵀ + b`, then relu when asked: one kernel call and one recorded
 * `linear` node where the backend has the kernel, else matmul, add and relu; and the node's
 * gradients, from one `linearBackward` call where the backend has it, else reluBackward, two
 * matmuls and a sum — bit-identical either way.
 */
import { isGradEnabled } from "../autograd/mode.ts";
import { fromKernel, record } from "../ops/core.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { frozenFor } from "./frozen-linear.ts";
import { runKernel } from "./kernels.ts";
import { reluBackward } from "./relu-backward.ts";

/**
 * x [..., in] · weightᵀ (weight [out, in]) + bias [out], then relu when `relu`; operands already
 * checked (F.linear checks them). The composition is matmul, add, relu.
 */
export function linearOp(x: Tensor, weight: Tensor, b: Tensor | null, relu: boolean): Tensor {
  // inside a frozen model (tg.jit.freeze): the snapshot of this layer, its weight pre-packed
  const frozen = frozenFor(weight, b);
  if (frozen !== undefined) return frozen.forward(x, relu) ?? linearOp(x, frozen.weight, frozen.bias, relu);
  const [outF, inF] = weight.shape as [number, number];
  // a recorded 1-D input keeps the separate ops: its bias gradient is not a sum over rows (−0 stays −0)
  const vectorGraph = x.ndim === 1 && isGradEnabled() && (x._requiresGrad || weight._requiresGrad || b?._requiresGrad === true);
  if (!vectorGraph) {
    // the matmul front end's folding of leading dims: [..., in] → [rows, in]
    const rows = x.ndim === 2 ? x : x.ndim === 1 ? x.reshape([1, inF]) : x.contiguous().reshape([-1, inF]);
    const data = runKernel("linear", { x: rows, w: weight, bias: b, relu });
    if (data !== null) {
      const out = record("linear", b === null ? [rows, weight] : [rows, weight, b], fromKernel(data, x.dtype, [rows.shape[0]!, outF]), { relu });
      return x.ndim === 2 ? out : out.reshape([...x.shape.slice(0, -1), outF]);
    }
  }
  const y = b === null ? x.matmul(weight.t()) : x.matmul(weight.t()).add(b);
  return relu ? y.relu() : y;
}

/**
 * The gradients of a recorded `linear` (rows x [M, K], weight [N, K]; relu applied when `reluOut`
 * is the output) for the inputs `needs` marks: [dx, dw] or, with a bias, [dx, dw, db].
 */
export function linearGradients(g: Tensor, x: Tensor, w: Tensor, hasBias: boolean, reluOut: Tensor | null, needs: readonly boolean[]): (Tensor | null)[] {
  const want: [boolean, boolean, boolean] = [needs[0] === true, needs[1] === true, hasBias && needs[2] === true];
  const r = runKernel("linearBackward", { g, x, w, y: reluOut, needs: want });
  if (r !== null) {
    const dx = r.dx === null ? null : fromKernel(r.dx, g.dtype, x.shape);
    const dw = r.dw === null ? null : fromKernel(r.dw, g.dtype, w.shape);
    const db = r.db === null ? null : fromKernel(r.db, g.dtype, [w.shape[0]!]);
    return hasBias ? [dx, dw, db] : [dx, dw];
  }
  const gy = reluOut !== null ? reluBackward(g, reluOut) : g;
  const grads = [want[0] ? gy.matmul(w) : null, want[1] ? gy.mT.matmul(x) : null];
  if (hasBias) grads.push(want[2] ? gy.sum(0) : null);
  return grads;
}
