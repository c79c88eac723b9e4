/**
 * @file The gradient rules of the fused ops' recorded nodes, merged into autograd's one table
 * (autograd/rules.ts): each gives exactly the gradients the separate ops' rules would, from the
 * backend's gradient kernels outside createGraph and from differentiable ops under it.
 */
import type { VjpRule } from "../autograd/rules.ts";
import type { Window2d } from "../backend/backend.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { convReluMaxPoolGradients } from "./conv-relu-pool.ts";
import { conv2dGradients } from "./conv2d.ts";
import { linearGradients } from "./linear.ts";

/** The fused nodes and the parameters each records. */
export interface FusedNodeParams {
  /** rows x [M, K] · wᵀ + b, then relu. */
  linear: { relu: boolean };
  /** x ⋆ w + bias (groups 1), then relu. */
  conv2d: { win: Window2d; relu: boolean };
  /** maxPool2d(relu(x ⋆ w + bias), pool), the pool's argmax `indices` kept for the backward. */
  conv2dReluMaxPool: { win: Window2d; pool: Window2d; indices: Tensor };
}

export const fusedRules: { [K in keyof FusedNodeParams]: VjpRule<K> } = {
  linear: {
    saves: true,
    vjp: (g, { inputs: [x, w, b], out, params: { relu }, needs }) => linearGradients(g, x!, w!, b !== undefined, relu ? out : null, needs),
  },
  conv2d: {
    saves: true,
    vjp: (g, { inputs: [x, w], out, params: { win, relu }, needs }) => conv2dGradients(g, x!, w!, win, needs, relu ? out : null),
  },
  conv2dReluMaxPool: {
    saves: true,
    vjp: (g, { inputs: [x, w], out, params: { win, pool, indices }, needs }) => convReluMaxPoolGradients(g, x!, w!, out, indices, win, pool, needs),
  },
};
