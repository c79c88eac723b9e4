/** @file `linear(x, W, b)`: the fully connected layer's computation `x·Wᵀ + b` in PyTorch's weight layout. */
import { linearOp } from "../../fused/linear.ts";
import { formatShape } from "../../base/shape.ts";
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
 * The dispatcher (src/fused/linear.ts) runs it as one fused op where the backend can, with the
 * separate ops' bits and gradients.
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
  return linearOp(x, weight, b, relu);
}
