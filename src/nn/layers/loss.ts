/** @file Loss modules: thin wrappers that keep a loss's options (PyTorch's MSELoss, CrossEntropyLoss, …). */
import type { Tensor } from "../../tensor/tensor.ts";
import { type CrossEntropyOptions, crossEntropy, type NLLLossOptions, nllLoss } from "../functional/classification.ts";
import {
  type BCELossOptions,
  type BCEWithLogitsLossOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  type HuberLossOptions,
  huberLoss,
  l1Loss,
  mseLoss,
  type ReductionOptions,
} from "../functional/loss.ts";
import { Module } from "../module.ts";
import { checkReduction, type Reduction } from "../util.ts";

/** Base of the loss modules: holds `reduction`; `call(input, target)` gives the loss. */
abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(opts: ReductionOptions = {}) {
    super();
    this.reduction = checkReduction(opts.reduction ?? "mean", this.constructor.name);
  }

  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

/** Mean squared error. @example new tg.nn.MSELoss().call(y, d) */
export class MSELoss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error. */
export class L1Loss extends Loss {
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Huber loss with threshold `delta` (default 1). */
export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(opts: HuberLossOptions = {}) {
    super(opts);
    this.delta = opts.delta ?? 1;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Cross entropy on logits; `weight` is kept as a buffer, as in PyTorch. */
export class CrossEntropyLoss extends Loss {
  declare readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    super(opts);
    this.registerBuffer("weight", opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

/** Negative log likelihood on log-probabilities. */
export class NLLLoss extends Loss {
  declare readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  constructor(opts: NLLLossOptions = {}) {
    super(opts);
    this.registerBuffer("weight", opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** Binary cross entropy on probabilities. */
export class BCELoss extends Loss {
  declare readonly weight: Tensor | null;
  constructor(opts: BCELossOptions = {}) {
    super(opts);
    this.registerBuffer("weight", opts.weight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/** Binary cross entropy on logits (stable); `weight` and `pos_weight` are buffers, as in PyTorch. */
export class BCEWithLogitsLoss extends Loss {
  declare readonly weight: Tensor | null;
  declare readonly pos_weight: Tensor | null;
  constructor(opts: BCEWithLogitsLossOptions = {}) {
    super(opts);
    this.registerBuffer("weight", opts.weight ?? null);
    this.registerBuffer("pos_weight", opts.posWeight ?? null);
  }
  /** camelCase alias of `pos_weight`. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}
