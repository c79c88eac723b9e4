/** @file Adam and AdamW (decoupled weight decay), with the AMSGrad variant (PyTorch's rules). */
import { adamStep } from "../fused/adam.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, elementsOf, Optimizer, type ParamGroup, type Params, resolveOptions, stateZerosLike, updateElements } from "./optimizer.ts";

export interface AdamOptions extends BaseOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates [β₁, β₂] of the first and second moment averages (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay θ ← θ(1 − ηλ) (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  maximize: boolean;
}

/** The shared update: `decoupled` selects AdamW's weight decay. */
abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  protected override validateGroup(group: ParamGroup<AdamOptions>): void {
    super.validateGroup(group);
    this.checkNonNegative("epsilon value (eps)", group.eps);
    const betas = group.betas as unknown;
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new TypeError(`${this.constructor.name}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
    this.checkUnitInterval("beta parameter at index 0", betas[0]);
    this.checkUnitInterval("beta parameter at index 1", betas[1]);
    this.checkNonNegative("weightDecay value", group.weightDecay);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = group.betas;
    const sign = maximize ? -1 : 1;
    const decoupled = this.decoupled;
    const decay = 1 - lr * weightDecay; // AdamW: θ ← θ(1 − ηλ) first
    const l2 = decoupled ? 0 : weightDecay; // Adam: g ← g + λθ
    for (const p of group.params) {
      if (p._grad === null) continue;
      const state = this.stateOf(p);
      if (state.exp_avg === undefined) {
        Object.assign(state, { step: 0, exp_avg: stateZerosLike(p), exp_avg_sq: stateZerosLike(p) });
        if (amsgrad) state.max_exp_avg_sq = stateZerosLike(p);
      }
      const step = (state.step as number) + 1;
      state.step = step;
      const stepSize = lr / (1 - beta1 ** step);
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
      const g = elementsOf(p._grad);
      const m = elementsOf(state.exp_avg as Tensor);
      const v = elementsOf(state.exp_avg_sq as Tensor);
      const vMax = amsgrad ? elementsOf((state.max_exp_avg_sq ??= stateZerosLike(p)) as Tensor) : null;
      const h = [beta1, beta2, stepSize, biasCorrection2Sqrt, eps, l2, decay, decoupled ? 1 : 0, sign];
      updateElements(p, (w) => adamStep(w, g, m, v, vMax, h));
    }
  }
}

/**
 * Adam, exactly as `torch.optim.Adam`: `m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 * θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`, with `g ← g + λθ` when weightDecay is set.
 *
 * @example
 * const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;

  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, resolveOptions("Adam", { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, options));
  }
}

/**
 * AdamW, exactly as `torch.optim.AdamW`: Adam with decoupled weight decay `θ ← θ(1 − ηλ)`
 * applied before the moment update (weightDecay defaults to 1e-2).
 *
 * @example
 * const opt = new tg.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;

  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, resolveOptions("AdamW", { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, options));
  }
}
