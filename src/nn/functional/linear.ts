/** @file `linear(x, W, b)`: the fully connected layer's computation `x·Wᵀ + b` in PyTorch's weight layout. */
import { isGradEnabled } from "../../autograd/mode.ts";
import { fromKernel, kernels, record } from "../../ops/core.ts";
import { formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg } from "../util.ts";

/**
 * `x · weightᵀ + bias` with `weight` of shape [out, in] (PyTorch's layout) and `x` of shape
 * [..., in]; the result has shape [..., out].
 * @example tg.F.linear(tg.tensor([[1, 2]]), tg.tensor([[0.1, 0.2]]), tg.tensor([0.5])) // [[1.0]]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return linearAct(x, weight, bias, false);
}

/**
 * `linear`, then relu when `relu` is set (what nn.Sequential runs for a Linear followed by a ReLU).
 * When the backend has the fused `linear` kernel it is one kernel call with one output —
 * bit-identical to matmul, add and relu — recorded, when a graph is, as one `linear` node whose
 * gradients are exactly the separate ops' gradients (see autograd/rules.ts). Otherwise the separate
 * ops run.
 */
export function linearAct(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, relu: boolean): Tensor {
  checkFloatArg(x, "linear", "input");
  checkFloatArg(weight, "linear", "weight");
  if (weight.ndim !== 2) throw new Error(`linear: weight must be 2-D [out_features, in_features], got shape ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape as [number, number];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF)
    throw new Error(
      `linear: input shape ${formatShape(x.shape)} does not fit weight shape ${formatShape(weight.shape)} (the input's last dim must be in_features = ${inF})`,
    );
  const b = bias ?? null;
  if (b !== null) {
    checkFloatArg(b, "linear", "bias");
    if (b.ndim !== 1 || b.shape[0] !== outF)
      throw new Error(`linear: bias must have shape [${outF}] to match weight shape ${formatShape(weight.shape)}, got ${formatShape(b.shape)}`);
  }
  const fused = kernels().linear;
  // a recorded 1-D input keeps the separate ops: its bias gradient is not a sum over rows (−0 stays −0)
  const vectorGraph = x.ndim === 1 && isGradEnabled() && (x._requiresGrad || weight._requiresGrad || b?._requiresGrad === true);
  if (fused !== undefined && !vectorGraph && x.dtype === weight.dtype && (b === null || b.dtype === x.dtype)) {
    // the matmul front end's folding of leading dims: [..., in] → [rows, in]
    const rows = x.ndim === 2 ? x : x.ndim === 1 ? x.reshape([1, inF]) : x.contiguous().reshape([-1, inF]);
    const data = fused.call(kernels(), rows, weight, b, relu);
    const out = record("linear", b === null ? [rows, weight] : [rows, weight, b], fromKernel(data, x.dtype, [rows.shape[0]!, outF]), { relu });
    return x.ndim === 2 ? out : out.reshape([...x.shape.slice(0, -1), outF]);
  }
  const y = b === null ? x.matmul(weight.t()) : x.matmul(weight.t()).add(b);
  return relu ? y.relu() : y;
}
