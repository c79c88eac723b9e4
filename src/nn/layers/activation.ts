/** @file Activation layers: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax and the lectures' Step. */
import type { FusionForm } from "../../fused/patterns.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { gelu } from "../functional/activation.ts";
import { Module } from "../module.ts";
import { pyFloat } from "../util.ts";

/** max(x, 0). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }

  protected override fusionForm(): FusionForm | null {
    return this.constructor === ReLU ? { kind: "relu" } : null;
  }
}

/** x where x > 0, else negativeSlope·x. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }

  override forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** 1 / (1 + e^(−x)). */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** tanh(x). */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** GELU, exact (`approximate: "none"`, default) or the tanh approximation. */
export class GELU extends Module {
  readonly approximate: "none" | "tanh";

  constructor(opts: { approximate?: "none" | "tanh" } = {}) {
    super();
    this.approximate = opts.approximate ?? "none";
  }

  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

function checkDim(dim: unknown, layer: string): number {
  if (typeof dim !== "number" || !Number.isInteger(dim))
    throw new TypeError(`${layer}: dim must be an integer (the class dim, e.g. 1 for [N, C] or -1), got ${String(dim)}`);
  return dim;
}

/** softmax along `dim` (max-subtracted, so large inputs do not overflow). */
export class Softmax extends Module {
  readonly dim: number;

  constructor(dim: number) {
    super();
    this.dim = checkDim(dim, "Softmax");
  }

  override forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  readonly dim: number;

  constructor(dim: number) {
    super();
    this.dim = checkDim(dim, "LogSoftmax");
  }

  override forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** The lectures' step function (Heaviside): 1 where x > 0, else 0. Its gradient is 0 (not in PyTorch). */
export class Step extends Module {
  override forward(x: Tensor): Tensor {
    return x.step();
  }
}
