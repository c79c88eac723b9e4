/** @file Adadelta: step sizes from running averages of squared gradients and squared updates (PyTorch's rule). */
import { zerosLike } from "../ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, elementsOf, Optimizer, type ParamGroup, type Params, resolveOptions, updateElements } from "./optimizer.ts";

export interface AdadeltaOptions extends BaseOptions {
  /** Scales the delta before it is applied (default 1.0). */
  lr: number;
  /** Decay ρ of the running averages (default 0.9). */
  rho: number;
  /** Added inside both square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  maximize: boolean;
}

/**
 * AdaDelta, exactly as `torch.optim.Adadelta`:
 * `v ← ρv + (1−ρ)g²;  Δ = √(u + ε)/√(v + ε) · g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − ηΔ`.
 *
 * @example
 * const opt = new tg.optim.Adadelta(model.parameters());
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(params: Params<AdadeltaOptions>, options: Partial<AdadeltaOptions> = {}) {
    super(params, resolveOptions("Adadelta", { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false }, options));
  }

  protected override validateGroup(group: ParamGroup<AdadeltaOptions>): void {
    super.validateGroup(group);
    this.checkUnitInterval("rho value", group.rho, true);
    this.checkNonNegative("epsilon value (eps)", group.eps);
    this.checkNonNegative("weightDecay value", group.weightDecay);
  }

  protected updateGroup(group: ParamGroup<AdadeltaOptions>): void {
    const { lr, rho, eps, weightDecay, maximize } = group;
    const sign = maximize ? -1 : 1;
    for (const p of group.params) {
      if (p._grad === null) continue;
      const state = this.stateOf(p);
      if (state.square_avg === undefined) Object.assign(state, { step: 0, square_avg: zerosLike(p), acc_delta: zerosLike(p) });
      state.step = (state.step as number) + 1;
      const g = elementsOf(p._grad);
      const v = elementsOf(state.square_avg as Tensor);
      const u = elementsOf(state.acc_delta as Tensor);
      updateElements(p, (w) => {
        for (let i = 0; i < w.length; i++) {
          let gi = sign * g[i]!;
          if (weightDecay !== 0) gi = gi + weightDecay * w[i]!;
          v[i] = v[i]! * rho + (1 - rho) * gi * gi;
          const delta = (Math.sqrt(u[i]! + eps) / Math.sqrt(v[i]! + eps)) * gi;
          u[i] = u[i]! * rho + (1 - rho) * delta * delta;
          w[i] = w[i]! + -lr * delta;
        }
      });
    }
  }
}
