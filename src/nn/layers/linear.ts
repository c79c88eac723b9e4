/** @file Linear (fully connected), Identity and Flatten layers. */
import type { FusionForm } from "../../fused/patterns.ts";
import * as ops from "../../ops/index.ts";
import type { DType } from "../../base/dtype.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { linearAct } from "../functional/linear.ts";
import { defaultLayerInit } from "../init.ts";
import { Module } from "../module.ts";
import { Parameter } from "../parameter.ts";
import { pyBool } from "../util.ts";

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

function checkSize(n: unknown, layer: string, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new RangeError(`${layer}: ${what} must be a non-negative integer, got ${String(n)}`);
  return n;
}

/**
 * `y = x·Wᵀ + b` with weight [out, in] and bias [out] (PyTorch's layout and names), both
 * initialised from U(−1/√in, 1/√in) as PyTorch does (kaimingUniform with a = √5).
 * @example
 * const fc = new tg.nn.Linear(784, 128);
 * fc.call(tg.randn([32, 784])).shape // [32, 128]
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkSize(inFeatures, "Linear", "inFeatures");
    this.outFeatures = checkSize(outFeatures, "Linear", "outFeatures");
    const dtype = opts.dtype ?? "float32";
    this.weight = new Parameter(ops.zeros([outFeatures, inFeatures], { dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(ops.zeros([outFeatures], { dtype })) : null;
    this.resetParameters();
  }

  /** Draws fresh parameters from PyTorch's default distributions (seeded RNG). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  override forward(x: Tensor): Tensor {
    return linearAct(x, this.weight, this.bias, false);
  }

  protected override fusionForm(): FusionForm | null {
    return this.constructor === Linear ? { kind: "linear", act: (x, relu) => linearAct(x, this.weight, this.bias, relu) } : null;
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. for an optional layer). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Merges dims `startDim..endDim` (default: all but the batch dim), e.g. [N, C, H, W] → [N, C·H·W].
 * @example new tg.nn.Flatten().call(tg.zeros([2, 1, 28, 28])).shape // [2, 784]
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }

  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
