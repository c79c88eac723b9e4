/** @file Inverted dropout: zero each element with probability p during training and scale the rest by 1/(1−p). */
import { allocate } from "../../base/dtype.ts";
import { defaultGenerator, type Generator } from "../../tensor/random.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { checkFloatArg } from "../util.ts";

export interface DropoutOptions {
  /** Draw the mask from this generator instead of the global (seeded) one. */
  generator?: Generator;
}

/**
 * Inverted dropout. In training each element is kept with probability `1 − p` and scaled by
 * `1 / (1 − p)`, so nothing changes at inference; with `training` false or `p = 0` the input
 * is returned as it is, and `p = 1` gives zeros. The mask comes from the seeded RNG.
 * @example tg.manualSeed(0); tg.F.dropout(tg.ones([4]), 0.5) // e.g. [2, 0, 2, 2]
 */
export function dropout(x: Tensor, p = 0.5, training = true, opts: DropoutOptions = {}): Tensor {
  checkFloatArg(x, "dropout", "input");
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const g = opts.generator ?? defaultGenerator;
  const keep = 1 - p;
  const scale = 1 / keep;
  const mask = allocate(x.dtype, x.numel());
  for (let i = 0; i < mask.length; i++) mask[i] = g.uniform() < keep ? scale : 0;
  return x.mul(new Tensor(mask, x.dtype, x.shape));
}
