/** @file History: the per-epoch record of a training run (Keras' `history.history`). */

/** Numbers logged at the end of one epoch, e.g. `{ loss, accuracy, val_loss, val_accuracy }`. */
export type Logs = Record<string, number>;

/**
 * What `fit` returns. `history.history.loss[i]` is the mean training loss of epoch i,
 * `val_loss` the validation loss after it, and likewise for every metric (`accuracy`, `val_accuracy`, …).
 *
 * @example
 * const history = await model.fit(x, y, { epochs: 3, validationSplit: 0.1 });
 * history.history.val_accuracy.at(-1)
 */
export class History {
  /** One array per logged quantity, one entry per epoch. */
  readonly history: Record<string, number[]> = {};
  /** The (0-based) epoch index of each entry. */
  readonly epoch: number[] = [];
  /** Run parameters (epochs, steps per epoch, batch size, samples), as Keras' `history.params`. */
  params: Record<string, number> = {};

  /** Appends the logs of one finished epoch. A key first seen late is padded with NaN for earlier epochs. */
  record(epoch: number, logs: Logs): void {
    const before = this.epoch.length;
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      this.history[k] ??= new Array<number>(before).fill(Number.NaN);
      this.history[k]!.push(v);
    }
    for (const values of Object.values(this.history)) if (values.length === before) values.push(Number.NaN);
  }

  /** The number of recorded epochs. */
  get length(): number {
    return this.epoch.length;
  }

  /** A JSON-ready copy: `{ epoch, history, params }` (NaN written as null). */
  toJSON(): { epoch: number[]; history: Record<string, (number | null)[]>; params: Record<string, number> } {
    const history: Record<string, (number | null)[]> = {};
    for (const [k, v] of Object.entries(this.history)) history[k] = v.map((x) => (Number.isFinite(x) ? x : null));
    return { epoch: [...this.epoch], history, params: { ...this.params } };
  }

  /** Rebuilds a History from `toJSON()` output (e.g. a checkpoint's). */
  static fromJSON(json: { epoch?: number[]; history?: Record<string, (number | null)[]>; params?: Record<string, number> }): History {
    const h = new History();
    h.epoch.push(...(json.epoch ?? []));
    for (const [k, v] of Object.entries(json.history ?? {})) h.history[k] = v.map((x) => (x === null ? Number.NaN : x));
    h.params = { ...(json.params ?? {}) };
    return h;
  }
}
