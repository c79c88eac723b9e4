/** @file The Dropout layer: inverted dropout in training mode, the identity in evaluation mode. */
import type { Generator } from "../../tensor/random.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { dropout } from "../functional/dropout.ts";
import { Module } from "../module.ts";
import { pyFloat } from "../util.ts";

/**
 * Zeroes each element with probability `p` while training and scales the survivors by
 * 1/(1 − p); after `eval()` it passes its input through.
 * @example const drop = new tg.nn.Dropout(0.5); drop.eval(); drop.call(x) // x
 */
export class Dropout extends Module {
  readonly p: number;
  private readonly _generator: Generator | undefined;

  constructor(p = 0.5, opts: { generator?: Generator } = {}) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`Dropout: probability has to be between 0 and 1, but got ${p}`);
    this.p = p;
    this._generator = opts.generator;
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { generator: this._generator });
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
