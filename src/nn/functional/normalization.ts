/** @file Batch normalisation: normalise each channel over the batch (and spatial dims), with running statistics. */
import { noGrad } from "../../autograd/mode.ts";
import { formatShape } from "../../base/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg, checkVector } from "../util.ts";

/** The keyword form of `batchNorm`'s trailing arguments (same defaults as PyTorch's `F.batch_norm`). */
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation of `x` ([N, C], [N, C, L] or [N, C, H, W]) per channel C:
 * `(x − mean) / √(var + eps) · weight + bias`.
 *
 * With `training`, mean and the biased variance come from the batch (over N, and L or H, W) and
 * the running statistics, when given, are updated in place:
 * `running = (1 − momentum)·running + momentum·batchStat`, with the UNBIASED variance, exactly
 * as PyTorch. Otherwise `runningMean` / `runningVar` normalise.
 *
 * Call it as PyTorch does, `batchNorm(x, rm, rv, weight, bias, training, momentum, eps)`, or with
 * an options object in place of the fourth argument.
 * @example tg.F.batchNorm(x, null, null, null, null, true) // per-column standardisation
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null | BatchNormOptions,
  bias?: Tensor | null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  if (weight !== undefined && weight !== null && !(weight instanceof Tensor)) {
    const o = weight;
    return batchNorm(x, runningMean, runningVar, o.weight ?? null, o.bias ?? null, o.training ?? false, o.momentum ?? 0.1, o.eps ?? 1e-5);
  }
  const op = "batchNorm";
  checkFloatArg(x, op, "input");
  if (x.ndim < 2) throw new Error(`${op}: expected input with at least 2 dims [N, C, ...], got shape ${formatShape(x.shape)}`);
  const c = x.shape[1]!;
  const named: [Tensor | null | undefined, string][] = [
    [runningMean, "runningMean"],
    [runningVar, "runningVar"],
    [weight, "weight"],
    [bias, "bias"],
  ];
  for (const [t, what] of named) {
    if (t === undefined || t === null) continue;
    checkFloatArg(t, op, what);
    checkVector(t, c, op, `${what} (one value per channel of input shape ${formatShape(x.shape)})`);
  }
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let xhat: Tensor;
  if (training) {
    const n = x.numel() / Math.max(c, 1);
    if (n <= 1)
      throw new Error(`${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`);
    const mean = x.mean(axes, true);
    const centered = x.sub(mean);
    const variance = centered.mul(centered).mean(axes, true); // biased: normalises the batch
    xhat = centered.mul(variance.add(eps).rsqrt());
    noGrad(() => {
      if (runningMean) runningMean.mul_(1 - momentum).add_(mean.detach().reshape([c]).mul(momentum));
      if (runningVar) runningVar.mul_(1 - momentum).add_(variance.detach().reshape([c]).mul((momentum * n) / (n - 1))); // unbiased
    });
  } else {
    if (!runningMean || !runningVar)
      throw new Error(`${op}: runningMean and runningVar must be given when training is false (or pass training = true)`);
    xhat = x.sub(runningMean.reshape(bshape)).mul(runningVar.reshape(bshape).add(eps).rsqrt());
  }
  if (weight) xhat = xhat.mul(weight.reshape(bshape));
  if (bias) xhat = xhat.add(bias.reshape(bshape));
  return xhat;
}
