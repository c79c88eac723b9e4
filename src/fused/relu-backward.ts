/**
 * @file relu's gradient given its output, `g · (y > 0 ? 1 : 0)`: one kernel where the backend
 * has it, else the composition gt, cast, mul (the same float product, so −0 for a negative g
 * where y ≤ 0 and NaN for an infinite one), recorded as one `reluBackward` primitive either way.
 */
import { withGradMode } from "../autograd/mode.ts";
import { fromKernel, record } from "../ops/core.ts";
import { isFloating } from "../base/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { runKernel } from "./kernels.ts";

/** relu's gradient `g · (y > 0)`, differentiable in `g` (second order). */
export function reluBackward(g: Tensor, y: Tensor): Tensor {
  if (g.dtype !== y.dtype || !isFloating(g.dtype) || g.shape.length !== y.shape.length || g.shape.some((d, i) => d !== y.shape[i]))
    return g.mul(y.gt(0).to(g.dtype));
  const data = runKernel("reluBackward", { g, y });
  const out = data !== null ? fromKernel(data, g.dtype, g.shape) : withGradMode(false, () => g.mul(y.gt(0).to(g.dtype)));
  return record("reluBackward", [g, y], out, null);
}
