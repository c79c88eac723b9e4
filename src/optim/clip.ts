/** @file Gradient clipping: `clipGradNorm` (rescale all gradients to a maximal total norm) and `clipGradValue`. */
import { noGrad } from "../autograd/mode.ts";
import { div, stack, tensor } from "../ops/index.ts";
import { Tensor } from "../tensor/tensor.ts";

export interface ClipGradNormOptions {
  /** Throw if the total norm is NaN or ±Infinity instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

function paramList(parameters: Tensor | Iterable<Tensor>, op: string): Tensor[] {
  if (parameters instanceof Tensor) return [parameters];
  if (parameters === null || parameters === undefined || typeof (parameters as Iterable<Tensor>)[Symbol.iterator] !== "function")
    throw new TypeError(`${op}: parameters must be a Tensor or an iterable of Tensors (e.g. model.parameters())`);
  const list = [...parameters];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${op}: parameters[${i}] is not a Tensor`);
  });
  return list;
}

/** The p-norm of all elements of `x` as a 0-d tensor (p may be ±Infinity or 0). */
export function vectorNorm(x: Tensor, p: number): Tensor {
  if (p === Number.POSITIVE_INFINITY) return x.abs().amax();
  if (p === Number.NEGATIVE_INFINITY) return x.abs().amin();
  if (p === 0) return x.ne(0).sum().to(x.dtype);
  if (p === 1) return x.abs().sum();
  if (p === 2) return x.mul(x).sum().sqrt();
  return x.abs().pow(p).sum().pow(1 / p);
}

/**
 * Scales the gradients of `parameters` in place so that their total norm (as if all were
 * concatenated into one vector) is at most `maxNorm`; returns the total norm before clipping
 * as a 0-d tensor, like `torch.nn.utils.clip_grad_norm_`. `normType` may be `"inf"` / Infinity.
 *
 * @example
 * loss.backward();
 * const norm = tg.optim.clipGradNorm(model.parameters(), 1.0).item();
 * opt.step();
 */
export function clipGradNorm(
  parameters: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType: number | "inf" = 2,
  options: ClipGradNormOptions = {},
): Tensor {
  const params = paramList(parameters, "clipGradNorm");
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) throw new TypeError(`clipGradNorm: maxNorm must be a number, got ${JSON.stringify(maxNorm)}`);
  const p = normType === "inf" ? Number.POSITIVE_INFINITY : normType;
  if (typeof p !== "number" || Number.isNaN(p)) throw new TypeError(`clipGradNorm: normType must be a number or "inf", got ${JSON.stringify(normType)}`);
  // `_grad`: read and scaled in place here, never kept (reading `grad` would mark it as the caller's: Tensor._clearGrad)
  const grads = params.flatMap((q) => (q._grad === null ? [] : [q._grad]));
  if (grads.length === 0) return tensor(0);
  return noGrad(() => {
    const norms = grads.map((g) => vectorNorm(g.detach(), p));
    let total: Tensor;
    if (p === Number.POSITIVE_INFINITY) total = norms.length === 1 ? norms[0]! : stack(norms).amax();
    else total = vectorNorm(stack(norms), p);
    if (options.errorIfNonfinite && !Number.isFinite(total.item()))
      throw new Error(
        `clipGradNorm: the total norm of order ${p} for gradients from parameters is non-finite, so it cannot be clipped; pass { errorIfNonfinite: false } to scale the gradients by it anyway`,
      );
    const coef = div(maxNorm, total.add(1e-6)).clamp(null, 1);
    for (const g of grads) g.mul_(coef);
    return total;
  });
}

/**
 * Clamps every gradient element of `parameters` to [−clipValue, clipValue] in place
 * (`torch.nn.utils.clip_grad_value_`).
 *
 * @example
 * tg.optim.clipGradValue(model.parameters(), 0.5);
 */
export function clipGradValue(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  const params = paramList(parameters, "clipGradValue");
  if (typeof clipValue !== "number" || Number.isNaN(clipValue))
    throw new TypeError(`clipGradValue: clipValue must be a number, got ${JSON.stringify(clipValue)}`);
  noGrad(() => {
    for (const q of params) if (q._grad !== null) q._grad.copy_(q._grad.clamp(-clipValue, clipValue));
  });
}
