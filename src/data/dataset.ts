/** @file Datasets: the indexable collections a DataLoader draws batches from. */
import { stack } from "../ops/shape.ts";
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { tensor } from "../ops/creation.ts";

/** Anything with a length and random access by index (PyTorch's map-style Dataset). */
export interface Dataset<T = unknown> {
  readonly length: number;
  get(index: number): T;
  /** Optional fast path: a whole batch at once (TensorDataset gathers rows in one op). */
  getBatch?(indices: readonly number[]): T;
}

/**
 * Rows of equal-length tensors, item i = [t0[i], t1[i], ...] (e.g. inputs and labels).
 * @example const ds = new tg.data.TensorDataset(x, y); ds.get(0) // [x[0], y[0]]
 */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error("TensorDataset: expects at least one tensor");
    const n = tensors[0]!.shape[0];
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new TypeError(`TensorDataset: argument ${i} is not a Tensor`);
      if (t.ndim === 0 || t.shape[0] !== n)
        throw new Error(
          `TensorDataset: all tensors need the same first dim, got ${formatShape(tensors[0]!.shape)} and ${formatShape(t.shape)}`,
        );
    });
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  get(index: number): Tensor[] {
    checkIndex(index, this.length, "TensorDataset");
    return this.tensors.map((t) => t.index(index));
  }

  getBatch(indices: readonly number[]): Tensor[] {
    for (const i of indices) checkIndex(i, this.length, "TensorDataset");
    const idx = tensor(Int32Array.from(indices), { dtype: "int32" });
    return this.tensors.map((t) => t.index(idx));
  }
}

/** A view of `dataset` restricted to `indices` (what randomSplit returns). */
export class Subset<T> implements Dataset<T> {
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: readonly number[],
  ) {}

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    checkIndex(index, this.length, "Subset");
    return this.dataset.get(this.indices[index]!);
  }

  getBatch(indices: readonly number[]): T {
    const mapped = indices.map((i) => {
      checkIndex(i, this.length, "Subset");
      return this.indices[i]!;
    });
    return this.dataset.getBatch ? this.dataset.getBatch(mapped) : collate(mapped.map((i) => this.dataset.get(i)));
  }
}

function checkIndex(i: number, n: number, op: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`${op}: index ${i} is out of range for length ${n}`);
}

/**
 * Stacks a list of samples into a batch: tensors are stacked along a new dim 0, numbers become a
 * 1-D tensor (int32 when all are integers, as labels are), arrays/tuples are collated position by position.
 */
export function collate<T>(items: readonly T[]): T {
  const first = items[0];
  if (first instanceof Tensor) return stack(items as unknown as Tensor[], 0) as T;
  if (typeof first === "number") {
    const nums = items as unknown as number[];
    return tensor(nums, { dtype: nums.every(Number.isInteger) ? "int32" : "float32" }) as T;
  }
  if (Array.isArray(first)) return first.map((_, j) => collate(items.map((it) => (it as unknown[])[j]))) as T;
  throw new TypeError(`collate: cannot batch items of type ${typeof first} (expected tensors, numbers or arrays of them)`);
}
