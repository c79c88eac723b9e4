/** @file BatchNorm1d and BatchNorm2d: learnable per-channel scale and shift, running statistics for inference. */
import { noGrad } from "../../autograd/mode.ts";
import * as ops from "../../ops/index.ts";
import type { DType } from "../../base/dtype.ts";
import { formatShape } from "../../base/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { batchNorm } from "../functional/normalization.ts";
import { Module } from "../module.ts";
import { Parameter } from "../parameter.ts";
import { pyBool, pyFloat } from "../util.ts";

export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learn weight (γ, init 1) and bias (β, init 0) per channel (default true). */
  affine?: boolean;
  /** Keep running_mean / running_var for evaluation mode (default true). */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype (default float32). */
  dtype?: DType;
}

/**
 * Shared body of BatchNorm1d / BatchNorm2d (PyTorch's `_BatchNorm`). The state dict holds
 * weight, bias, running_mean, running_var and num_batches_tracked, as in PyTorch; the count is
 * an int32 0-d tensor here (PyTorch: int64), which safetensors converts when moving models.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  /** Running per-channel mean (a buffer; null without trackRunningStats). */
  declare readonly running_mean: Tensor | null;
  /** Running per-channel unbiased variance (a buffer). */
  declare readonly running_var: Tensor | null;
  /** Training batches seen so far (int32 0-d buffer). */
  declare readonly num_batches_tracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new RangeError(`${name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    const dtype = opts.dtype ?? "float32";
    this.weight = this.affine ? new Parameter(ops.ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(ops.zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer("running_mean", track ? ops.zeros([numFeatures], { dtype }) : null);
    this.registerBuffer("running_var", track ? ops.ones([numFeatures], { dtype }) : null);
    this.registerBuffer("num_batches_tracked", track ? ops.zeros([], { dtype: "int32" }) : null);
  }

  /** camelCase alias of `running_mean`. */
  get runningMean(): Tensor | null {
    return this.running_mean;
  }

  /** camelCase alias of `running_var`. */
  get runningVar(): Tensor | null {
    return this.running_var;
  }

  /** camelCase alias of `num_batches_tracked`. */
  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }

  /** Resets running_mean to 0, running_var to 1 and the batch count to 0. */
  resetRunningStats(): void {
    noGrad(() => {
      this.running_mean?.fill_(0);
      this.running_var?.fill_(1);
      this.num_batches_tracked?.fill_(0);
    });
  }

  /** Resets the running statistics, weight to 1 and bias to 0. */
  resetParameters(): void {
    this.resetRunningStats();
    noGrad(() => {
      this.weight?.fill_(1);
      this.bias?.fill_(0);
    });
  }

  /** Throws unless `x` has the rank this layer expects. */
  protected abstract checkInputDim(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const count = this.num_batches_tracked;
      noGrad(() => count.add_(1));
      if (this.momentum === null) factor = 1 / count.item(); // cumulative moving average
    }
    const useBatchStats = this.training || (this.running_mean === null && this.running_var === null);
    const passStats = !this.training || this.trackRunningStats;
    return batchNorm(
      x,
      passStats ? this.running_mean : null,
      passStats ? this.running_var : null,
      this.weight,
      this.bias,
      useBatchStats,
      factor,
      this.eps,
    );
  }

  override extraRepr(): string {
    const m = this.momentum === null ? "None" : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${m}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs (statistics over N, and L).
 * @example const bn = new tg.nn.BatchNorm1d(128); bn.call(h); bn.eval(); // now uses running stats
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new Error(`BatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L], got ${x.ndim}D input of shape ${formatShape(x.shape)}`);
  }
}

/** Batch normalisation over [N, C, H, W] inputs (statistics over N, H and W). */
export class BatchNorm2d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected 4D input [N, C, H, W], got ${x.ndim}D input of shape ${formatShape(x.shape)}`);
  }
}
