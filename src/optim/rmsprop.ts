/** @file RMSprop: divide by a running RMS of the gradient, optionally centered and with momentum (PyTorch's rule). */
import { zerosLike } from "../ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, elementsOf, Optimizer, type ParamGroup, type Params, resolveOptions, updateElements } from "./optimizer.ts";

export interface RMSpropOptions extends BaseOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the RMS (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by an estimate of the variance instead of the second moment (default false). */
  centered: boolean;
  maximize: boolean;
}

/**
 * RMSProp, exactly as `torch.optim.RMSprop`:
 * `v ← αv + (1−α)g²;  ḡ ← αḡ + (1−α)g (centered);  a = √(v − ḡ²) + ε  (else √v + ε);
 *  b ← μb + g/a, θ ← θ − ηb  (momentum)  or  θ ← θ − η g/a`.
 *
 * @example
 * const opt = new tg.optim.RMSprop(model.parameters(), { lr: 1e-3 });
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    const defaults = resolveOptions("RMSprop", { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }, options);
    super(params, defaults);
  }

  protected override validateGroup(group: ParamGroup<RMSpropOptions>): void {
    super.validateGroup(group);
    this.checkNonNegative("epsilon value (eps)", group.eps);
    this.checkNonNegative("momentum value", group.momentum);
    this.checkNonNegative("weightDecay value", group.weightDecay);
    this.checkNonNegative("alpha value", group.alpha);
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    const sign = maximize ? -1 : 1;
    for (const p of group.params) {
      if (p._grad === null) continue;
      const state = this.stateOf(p);
      if (state.square_avg === undefined) {
        state.step = 0;
        state.square_avg = zerosLike(p);
        if (momentum > 0) state.momentum_buffer = zerosLike(p);
        if (centered) state.grad_avg = zerosLike(p);
      }
      state.step = (state.step as number) + 1;
      const g = elementsOf(p._grad);
      const v = elementsOf(state.square_avg as Tensor);
      const gAvg = centered ? elementsOf((state.grad_avg ??= zerosLike(p)) as Tensor) : null;
      const buf = momentum > 0 ? elementsOf((state.momentum_buffer ??= zerosLike(p)) as Tensor) : null;
      updateElements(p, (w) => {
        for (let i = 0; i < w.length; i++) {
          let gi = sign * g[i]!;
          if (weightDecay !== 0) gi = gi + weightDecay * w[i]!;
          v[i] = v[i]! * alpha + (1 - alpha) * gi * gi;
          let avg: number;
          if (gAvg !== null) {
            gAvg[i] = gAvg[i]! * alpha + (1 - alpha) * gi;
            avg = Math.sqrt(v[i]! - gAvg[i]! * gAvg[i]!) + eps;
          } else {
            avg = Math.sqrt(v[i]!) + eps;
          }
          if (buf !== null) {
            buf[i] = buf[i]! * momentum + gi / avg;
            w[i] = w[i]! + -lr * buf[i]!;
          } else {
            w[i] = w[i]! + (-lr * gi) / avg;
          }
        }
      });
    }
  }
}
