/** @file `linear(x, W, b)`: the fully connected layer's computation `x·Wᵀ + b` in PyTorch's weight layout. */
import { formatShape } from "../../tensor/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg } from "../util.ts";

/**
 * `x · weightᵀ + bias` with `weight` of shape [out, in] (PyTorch's layout) and `x` of shape
 * [..., in]; the result has shape [..., out].
 * @example tg.F.linear(tg.tensor([[1, 2]]), tg.tensor([[0.1, 0.2]]), tg.tensor([0.5])) // [[1.0]]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkFloatArg(x, "linear", "input");
  checkFloatArg(weight, "linear", "weight");
  if (weight.ndim !== 2) throw new Error(`linear: weight must be 2-D [out_features, in_features], got shape ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape as [number, number];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF)
    throw new Error(
      `linear: input shape ${formatShape(x.shape)} does not fit weight shape ${formatShape(weight.shape)} (the input's last dim must be in_features = ${inF})`,
    );
  const y = x.matmul(weight.t());
  if (bias === undefined || bias === null) return y;
  checkFloatArg(bias, "linear", "bias");
  if (bias.ndim !== 1 || bias.shape[0] !== outF)
    throw new Error(`linear: bias must have shape [${outF}] to match weight shape ${formatShape(weight.shape)}, got ${formatShape(bias.shape)}`);
  return y.add(bias);
}
