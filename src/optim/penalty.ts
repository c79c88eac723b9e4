/**
 * @file Weight penalties for the lectures' regularised loss `E + λ/p ‖w‖ₚᵖ` (`tg.optim.penalty`):
 * differentiable scalars to add to the loss. Pass only the tensors to penalise (often the
 * weights, not the biases). For plain SGD, `l2` is the same as the optimizer's `weightDecay: λ`.
 */
import { Tensor } from "../tensor/tensor.ts";

function terms(params: Tensor | Iterable<Tensor>, lambda: number, op: string, each: (w: Tensor) => Tensor): Tensor {
  if (typeof lambda !== "number" || Number.isNaN(lambda) || lambda < 0)
    throw new RangeError(`penalty.${op}: lambda must be a number ≥ 0, got ${JSON.stringify(lambda)}`);
  const list = params instanceof Tensor ? [params] : [...params];
  if (list.length === 0) throw new Error(`penalty.${op}: got no tensors to penalise`);
  let total: Tensor | null = null;
  list.forEach((w, i) => {
    if (!(w instanceof Tensor)) throw new TypeError(`penalty.${op}: params[${i}] is not a Tensor`);
    const t = each(w).sum();
    total = total === null ? t : total.add(t);
  });
  return total!;
}

/**
 * L2 penalty `λ/2 · Σ w²` over all elements of `params` (its gradient is `λw`).
 *
 * @example
 * const loss = tg.nn.functional.mseLoss(model.call(x), y).add(tg.optim.penalty.l2([model.fc.weight], 1e-3));
 */
export function l2(params: Tensor | Iterable<Tensor>, lambda: number): Tensor {
  return terms(params, lambda, "l2", (w) => w.mul(w)).mul(lambda / 2);
}

/**
 * L1 penalty `λ · Σ |w|` over all elements of `params` (its gradient is `λ·sign(w)`; 0 at 0).
 *
 * @example
 * const loss = dataLoss.add(tg.optim.penalty.l1(model.parameters(), 1e-4));
 */
export function l1(params: Tensor | Iterable<Tensor>, lambda: number): Tensor {
  return terms(params, lambda, "l1", (w) => w.abs()).mul(lambda);
}

/**
 * The general penalty `λ/p · Σ |w|ᵖ` (p = 1 gives `l1`, p = 2 gives `l2`).
 *
 * @example
 * const pen = tg.optim.penalty.lp(model.parameters(), 1e-4, 3);
 */
export function lp(params: Tensor | Iterable<Tensor>, lambda: number, p: number): Tensor {
  if (typeof p !== "number" || !(p > 0) || !Number.isFinite(p)) throw new RangeError(`penalty.lp: p must be a finite number > 0, got ${JSON.stringify(p)}`);
  if (p === 1) return l1(params, lambda);
  if (p === 2) return l2(params, lambda);
  return terms(params, lambda, "lp", (w) => w.abs().pow(p)).mul(lambda / p);
}
