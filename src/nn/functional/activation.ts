/** @file Activation functions for `tg.nn.functional`: the tensor ops under their functional names, plus GELU's tanh form. */
import * as ops from "../../ops/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { checkTensorArg } from "../util.ts";

export { leakyRelu, logSoftmax, relu, sigmoid, softmax, step, tanh } from "../../ops/index.ts";

/** `approximate: "none"` (default) is the exact `x·Φ(x)`; `"tanh"` is the tanh approximation, as in PyTorch. */
export interface GeluOptions {
  approximate?: "none" | "tanh";
}

/**
 * GELU: `x · Φ(x)` with Φ the standard normal CDF, or PyTorch's tanh approximation
 * `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
 * @example tg.F.gelu(tg.tensor([-1, 0, 1])) // [-0.1587, 0, 0.8413]
 */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  checkTensorArg(x, "gelu", "input");
  const approximate = opts.approximate ?? "none";
  if (approximate === "none") return ops.gelu(x);
  if (approximate !== "tanh") throw new Error(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(inner.tanh().add(1)).mul(0.5);
}
