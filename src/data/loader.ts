/** @file DataLoader: mini-batches from a dataset, optionally shuffled by a seeded generator. */
import { nextTick } from "../base/env.ts";
import { defaultGenerator, Generator } from "../tensor/random.ts";
import { collate, type Dataset } from "./dataset.ts";

export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Reshuffle the order at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Seed for this loader's own shuffling generator (otherwise the global one, see tg.manualSeed). */
  seed?: number;
  generator?: Generator;
}

/**
 * Iterates a dataset in mini-batches; both iterable and async-iterable, so
 * `for (const [x, y] of loader)` and `for await (...)` work. Each pass is one epoch.
 *
 * @example
 * const loader = new tg.data.DataLoader(new tg.data.TensorDataset(x, y), { batchSize: 128, shuffle: true, seed: 0 });
 * for (const [xb, yb] of loader) { ... }
 */
export class DataLoader<T = unknown> implements Iterable<T>, AsyncIterable<T> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator;

  constructor(dataset: Dataset<T>, opts: DataLoaderOptions = {}) {
    if (dataset === null || typeof dataset !== "object" || typeof dataset.get !== "function")
      throw new TypeError("DataLoader: dataset must have a length and a get(index) method (e.g. a TensorDataset)");
    const batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch (a fresh permutation when shuffling). */
  private order(): number[] {
    const n = this.dataset.length;
    return this.shuffle ? Array.from(this.generator.permutation(n)) : Array.from({ length: n }, (_, i) => i);
  }

  *[Symbol.iterator](): Iterator<T> {
    const idx = this.order();
    for (let start = 0; start < idx.length; start += this.batchSize) {
      const batch = idx.slice(start, start + this.batchSize);
      if (batch.length < this.batchSize && this.dropLast) break;
      yield this.dataset.getBatch ? this.dataset.getBatch(batch) : collate(batch.map((i) => this.dataset.get(i)));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (const batch of this) {
      yield batch;
      // let timers and I/O run between batches (progress bars, signals)
      await nextTick();
    }
  }
}
