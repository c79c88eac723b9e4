/**
 * @file Frozen linear layers (tg.jit.freeze): while a frozen model runs, a Linear layer's weight
 * and bias are replaced by a snapshot taken at freeze time, its weight pre-packed once by the
 * backend's `packLinear` where it has one, and run by `linearPacked` — bit-identical to the
 * ordinary fused linear on the snapshot, which runs everywhere else.
 */
import { isGradEnabled, noGrad } from "../autograd/mode.ts";
import type { PackedLinear } from "../backend/backend.ts";
import { kernels } from "../backend/registry.ts";
import { fromKernel } from "../ops/core.ts";
import { residentTensor } from "../ops/resident.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { hasKernel, runKernel } from "./kernels.ts";

/** A Linear layer's weight and bias as they were when frozen, and the weight packed per backend (lazily; null: that backend cannot). */
export class FrozenLinear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly packed = new Map<string, PackedLinear | null>();

  /** `source` and `sourceBias`: the live parameters this snapshot stands in for. */
  constructor(
    readonly source: Tensor,
    readonly sourceBias: Tensor | null,
  ) {
    // copies: later writes to the parameters (optimizer steps, dataSync() views) must not show;
    // resident where the backend keeps parameters (wasm memory), since packLinear may keep a
    // reference to the weight
    this.weight = residentTensor(noGrad(() => source.contiguous().clone()));
    this.bias = sourceBias === null ? null : residentTensor(noGrad(() => sourceBias.clone()));
    this.packedFor();
  }

  /** The weight packed by the current backend, packing it on first use; null when the backend has no packed path. */
  private packedFor(): PackedLinear | null {
    if (!hasKernel("packLinear") || !hasKernel("linearPacked")) return null;
    const name = kernels().name;
    let p = this.packed.get(name);
    if (p === undefined) {
      p = runKernel("packLinear", { w: this.weight });
      this.packed.set(name, p);
    }
    return p;
  }

  /** x · snapshotᵀ + bias (then relu) through the packed kernel, or null where it does not apply (the caller runs the ordinary linear on the snapshot). */
  forward(x: Tensor, relu: boolean): Tensor | null {
    const inF = this.weight.shape[1]!;
    const b = this.bias;
    const fits =
      x.ndim > 0 &&
      x.shape[x.ndim - 1] === inF &&
      x.dtype === this.weight.dtype &&
      !(isGradEnabled() && x._requiresGrad) &&
      (b === null || b.dtype === x.dtype);
    const packed = fits ? this.packedFor() : null;
    if (packed === null) return null;
    const rows = x.ndim === 2 ? x : x.ndim === 1 ? x.reshape([1, inF]) : x.contiguous().reshape([-1, inF]);
    const data = runKernel("linearPacked", { x: rows, packed, bias: b, relu });
    return data === null ? null : fromKernel(data, x.dtype, [...x.shape.slice(0, -1), packed.outFeatures]);
  }
}

/** Snapshots of the frozen model running now, by the live weight they stand in for. */
let active: ReadonlyMap<Tensor, FrozenLinear> | null = null;

/** The snapshot standing in for `weight` (with `bias`) while a frozen model runs, if any. */
export function frozenFor(weight: Tensor, bias: Tensor | null): FrozenLinear | undefined {
  const f = active?.get(weight);
  return f !== undefined && f.sourceBias === bias ? f : undefined;
}

/** Snapshots of these layers' weights and biases, for `withFrozenLinears`. */
export function freezeLinears(layers: Iterable<{ weight: Tensor; bias: Tensor | null }>): ReadonlyMap<Tensor, FrozenLinear> {
  const table = new Map<Tensor, FrozenLinear>();
  for (const { weight, bias } of layers) table.set(weight, new FrozenLinear(weight, bias));
  return table;
}

/** Runs `fn` with `table`'s layers frozen (nests: the previous table is restored). */
export function withFrozenLinears<T>(table: ReadonlyMap<Tensor, FrozenLinear>, fn: () => T): T {
  const previous = active;
  active = table;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
