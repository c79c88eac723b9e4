/** @file Adagrad: per-coordinate learning rates from the running sum of squared gradients (PyTorch's rule). */
import { full } from "../ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, elementsOf, Optimizer, type ParamGroup, type Params, resolveOptions, updateElements } from "./optimizer.ts";

export interface AdagradOptions extends BaseOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: η_t = η / (1 + (t−1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to √sum (default 1e-10). */
  eps: number;
  maximize: boolean;
}

/**
 * AdaGrad, exactly as `torch.optim.Adagrad`: `h ← h + g²;  θ ← θ − η_t g / (√h + ε)`.
 * Its state (`sum`, `step`) is created at construction, as in PyTorch.
 *
 * @example
 * const opt = new tg.optim.Adagrad(model.parameters(), { lr: 0.1 });
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    const defaults = resolveOptions("Adagrad", { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false }, options);
    super(params, defaults);
    for (const group of this.paramGroups) for (const p of group.params) this.initState(p, group);
  }

  private initState(p: Tensor, group: ParamGroup<AdagradOptions>): void {
    this.state.set(p, { step: 0, sum: full(p.shape, group.initialAccumulatorValue, { dtype: p.dtype }) });
  }

  protected override validateGroup(group: ParamGroup<AdagradOptions>): void {
    super.validateGroup(group);
    this.checkNonNegative("lrDecay value", group.lrDecay);
    this.checkNonNegative("weightDecay value", group.weightDecay);
    this.checkNonNegative("initialAccumulatorValue", group.initialAccumulatorValue);
    this.checkNonNegative("epsilon value (eps)", group.eps);
  }

  protected updateGroup(group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, eps, maximize } = group;
    const sign = maximize ? -1 : 1;
    for (const p of group.params) {
      if (p._grad === null) continue;
      if (this.state.get(p)?.sum === undefined) this.initState(p, group); // a group added after construction
      const state = this.stateOf(p);
      const step = (state.step as number) + 1;
      state.step = step;
      const clr = lr / (1 + (step - 1) * lrDecay);
      const g = elementsOf(p._grad);
      const h = elementsOf(state.sum as Tensor);
      updateElements(p, (w) => {
        for (let i = 0; i < w.length; i++) {
          let gi = sign * g[i]!;
          if (weightDecay !== 0) gi = gi + weightDecay * w[i]!;
          h[i] = h[i]! + gi * gi; // addcmul_(g, g, value=1)
          w[i] = w[i]! + (-clr * gi) / (Math.sqrt(h[i]!) + eps); // addcdiv_(g, √h + ε, value=−clr)
        }
      });
    }
  }
}
