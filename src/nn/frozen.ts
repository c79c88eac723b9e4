/**
 * @file The context a frozen model (tg.jit.freeze) runs in: while it is active, the Linear layers
 * it names compute with a snapshot of their weights, pre-packed by the backend, instead of their
 * parameters. Nothing changes outside that context.
 */
import { isGradEnabled, noGrad } from "../autograd/mode.ts";
import type { PackedLinear } from "../backend/backend.ts";
import { fromKernel, kernels } from "../ops/core.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { linearAct } from "./functional/linear.ts";
import type { Module } from "./module.ts";
import { Parameter } from "./parameter.ts";

/** A Linear layer's weight and bias as they were when frozen, and the weight packed per backend (packed lazily, null: that backend cannot). */
export class FrozenLinear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly packed = new Map<string, PackedLinear | null>();

  constructor(weight: Tensor, bias: Tensor | null) {
    // copies: later writes to the parameters (optimizer steps, dataSync() views) must not show;
    // held as (gradient-free) Parameters so that they live where the backend's kernels read
    // parameters in place (wasm memory), and packLinear may keep a reference to them
    this.weight = new Parameter(noGrad(() => weight.contiguous().clone()), false);
    this.bias = bias === null ? null : new Parameter(noGrad(() => bias.clone()), false);
    this.packedFor();
  }

  /** The weight packed by the current backend, packing it on first use; null when the backend has no packed path. */
  private packedFor(): PackedLinear | null {
    const k = kernels();
    if (k.packLinear === undefined || k.linearPacked === undefined) return null;
    let p = this.packed.get(k.name);
    if (p === undefined) {
      p = k.packLinear(this.weight);
      this.packed.set(k.name, p);
    }
    return p;
  }

  /** `linearAct(x, weight, bias, relu)` with the snapshot: the backend's packed kernel where it has one, bit-identical either way. */
  forward(x: Tensor, relu: boolean): Tensor {
    const inF = this.weight.shape[1]!;
    const b = this.bias;
    const fast =
      x.ndim > 0 &&
      x.shape[x.ndim - 1] === inF &&
      x.dtype === this.weight.dtype &&
      !(isGradEnabled() && x._requiresGrad) &&
      (b === null || b.dtype === x.dtype);
    const packed = fast ? this.packedFor() : null;
    if (packed === null) return linearAct(x, this.weight, b, relu);
    const rows = x.ndim === 2 ? x : x.ndim === 1 ? x.reshape([1, inF]) : x.contiguous().reshape([-1, inF]);
    const data = kernels().linearPacked!(rows, packed, b, relu);
    return fromKernel(data, x.dtype, [...x.shape.slice(0, -1), packed.outFeatures]);
  }
}

let active: ReadonlyMap<Module, FrozenLinear> | null = null;

/** The snapshot a frozen model running now holds for `layer`, if any. */
export function frozenLinearOf(layer: Module): FrozenLinear | undefined {
  return active === null ? undefined : active.get(layer);
}

/** Runs `fn` with `table`'s Linear layers frozen (nests: the previous table is restored). */
export function withFrozenLinears<T>(table: ReadonlyMap<Module, FrozenLinear>, fn: () => T): T {
  const previous = active;
  active = table;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
