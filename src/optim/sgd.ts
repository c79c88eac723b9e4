/** @file SGD: stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay (PyTorch's rule). */
import { zerosLike } from "../ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, elementsOf, Optimizer, type ParamGroup, type Params, resolveOptions, updateElements } from "./optimizer.ts";

export interface SGDOptions extends BaseOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Dampening for momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent, exactly as `torch.optim.SGD`:
 * `g ← ∇ + λθ;  b ← μb + (1−τ)g (b₁ = g);  g ← nesterov ? g + μb : b;  θ ← θ − η g`.
 * With momentum this is the lectures' `v = μv − ε∇E; w += v` up to the scaling of v by ε.
 *
 * @example
 * const opt = new tg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> = {}) {
    const defaults = resolveOptions(
      "SGD",
      { lr: undefined as unknown as number, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
      options,
    );
    super(params, defaults);
  }

  protected override validateGroup(group: ParamGroup<SGDOptions>): void {
    super.validateGroup(group);
    this.checkNonNegative("momentum value", group.momentum);
    this.checkNonNegative("weightDecay value", group.weightDecay);
    if (typeof group.dampening !== "number") throw new TypeError(`SGD: dampening must be a number, got ${JSON.stringify(group.dampening)}`);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0))
      throw new Error("SGD: Nesterov momentum requires a momentum > 0 and zero dampening");
  }

  protected updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    const sign = maximize ? -1 : 1;
    for (const p of group.params) {
      if (p._grad === null) continue;
      const state = this.stateOf(p);
      const g = elementsOf(p._grad);
      if (momentum === 0) {
        state.momentum_buffer = null; // PyTorch records None: same state-dict layout
        updateElements(p, (w) => {
          for (let i = 0; i < w.length; i++) {
            let d = sign * g[i]!;
            if (weightDecay !== 0) d = d + weightDecay * w[i]!;
            w[i] = w[i]! + -lr * d;
          }
        });
        continue;
      }
      // the first step copies the gradient into the buffer: b₁ = g
      const first = state.momentum_buffer === null || state.momentum_buffer === undefined;
      if (first) state.momentum_buffer = zerosLike(p);
      const b = elementsOf(state.momentum_buffer as Tensor);
      updateElements(p, (w) => {
        for (let i = 0; i < w.length; i++) {
          let d = sign * g[i]!;
          if (weightDecay !== 0) d = d + weightDecay * w[i]!;
          b[i] = first ? d : b[i]! * momentum + (1 - dampening) * d;
          d = nesterov ? d + momentum * b[i]! : b[i]!;
          w[i] = w[i]! + -lr * d;
        }
      });
    }
  }
}
