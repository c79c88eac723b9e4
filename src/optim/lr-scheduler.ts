/**
 * @file Learning-rate schedulers (`tg.optim.lrScheduler`): StepLR, ExponentialLR,
 * CosineAnnealingLR and ReduceLROnPlateau, with PyTorch's step-by-step (chainable) rules, so
 * the same calls give the same learning rates. They write `group.lr` of the optimizer's groups.
 * State dicts use PyTorch's attribute names (`base_lrs`, `last_epoch`, `T_max`, …).
 */
import { Tensor } from "../tensor/tensor.ts";
import { Optimizer } from "./optimizer.ts";

export type SchedulerStateDict = Record<string, unknown>;

/** Copies arrays so a state dict does not alias the scheduler's fields. */
const copyValue = (v: unknown): unknown => (Array.isArray(v) ? [...v] : v);

/**
 * Base of the epoch-driven schedulers (PyTorch's `LRScheduler`): call `step()` once per epoch
 * (after `optimizer.step()`); `getLastLr()` gives the rates it set.
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The lr each group started from (`initialLr` of the groups). */
  baseLrs: number[];
  /** The number of `step()` calls so far, minus one (−1 before the first). */
  lastEpoch: number;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  /** Subclasses set their fields, then call `initialStep()`, as PyTorch's constructors do. */
  constructor(optimizer: Optimizer, lastEpoch = -1) {
    const name = this.constructor.name;
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: expects an Optimizer, got ${optimizer === null ? "null" : typeof optimizer}`);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new RangeError(`${name}: lastEpoch must be an integer ≥ −1, got ${lastEpoch}`);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    } else {
      optimizer.paramGroups.forEach((group, i) => {
        if (group.initialLr === undefined)
          throw new Error(`${name}: param 'initialLr' is not specified in paramGroups[${i}] when resuming an optimizer (lastEpoch ≥ 0)`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Advances one epoch and sets every group's lr. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const values = this.computeLr();
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = values[i]!;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates set by the last `step()` (one per param group). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The new rates for the epoch `lastEpoch` (PyTorch's chainable `get_lr`). */
  protected abstract computeLr(): number[];

  /** PyTorch state key → field name, for the subclass's own fields. */
  protected abstract ownStateKeys(): Record<string, string>;

  private stateKeys(): Record<string, string> {
    return { ...this.ownStateKeys(), base_lrs: "baseLrs", last_epoch: "lastEpoch", _step_count: "stepCount", _last_lr: "lastLr" };
  }

  /** The scheduler's state under PyTorch's names (everything but the optimizer). */
  stateDict(): SchedulerStateDict {
    const self = this as unknown as Record<string, unknown>;
    const out: SchedulerStateDict = {};
    for (const [key, field] of Object.entries(this.stateKeys())) out[key] = copyValue(self[field]);
    return out;
  }

  /** Restores a state dict from `stateDict()` (PyTorch's or camelCase keys). */
  loadStateDict(state: SchedulerStateDict): void {
    loadFields(this, this.stateKeys(), state, this.constructor.name);
  }
}

function loadFields(target: object, keys: Record<string, string>, state: SchedulerStateDict, name: string): void {
  if (state === null || typeof state !== "object") throw new TypeError(`${name}.loadStateDict: expects an object from stateDict()`);
  const self = target as Record<string, unknown>;
  for (const [key, field] of Object.entries(keys)) {
    const v = key in state ? state[key] : state[field];
    if (v !== undefined) self[field] = copyValue(v);
  }
}

/** Reads `(optimizer, value, opts)` or `(optimizer, { key: value, ...opts })`. */
function positional<T extends object>(name: string, key: string, arg: number | T, opts: T | undefined): [number, T] {
  if (typeof arg === "number") return [arg, opts ?? ({} as T)];
  const value = arg !== null && typeof arg === "object" ? (arg as Record<string, unknown>)[key] : undefined;
  if (typeof value === "number") return [value, arg];
  throw new TypeError(`${name}: ${key} is required, e.g. new ${name}(optimizer, { ${key}: ... })`);
}

export interface StepLROptions {
  /** Multiplicative decay every `stepSize` epochs (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/**
 * Multiplies the lr by `gamma` every `stepSize` epochs.
 *
 * @example
 * const sched = new tg.optim.lrScheduler.StepLR(opt, 30, { gamma: 0.1 }); // or (opt, { stepSize: 30 })
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, stepSize: number | (StepLROptions & { stepSize: number }), options?: StepLROptions) {
    const [size, opts] = positional("StepLR", "stepSize", stepSize, options);
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`StepLR: stepSize must be a positive integer, got ${size}`);
    super(optimizer, opts.lastEpoch ?? -1);
    this.stepSize = size;
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected ownStateKeys(): Record<string, string> {
    return { step_size: "stepSize", gamma: "gamma" };
  }
}

/**
 * Multiplies the lr by `gamma` every epoch.
 *
 * @example
 * const sched = new tg.optim.lrScheduler.ExponentialLR(opt, 0.95);
 */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer, gamma: number | { gamma: number; lastEpoch?: number }, options?: { lastEpoch?: number }) {
    const [g, opts] = positional("ExponentialLR", "gamma", gamma, options);
    super(optimizer, opts.lastEpoch ?? -1);
    this.gamma = g;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected ownStateKeys(): Record<string, string> {
    return { gamma: "gamma" };
  }
}

export interface CosineAnnealingLROptions {
  /** The lowest lr (default 0). */
  etaMin?: number;
  lastEpoch?: number;
}

/**
 * Cosine annealing from the initial lr down to `etaMin` over `tMax` epochs (and back up,
 * periodically, if stepped further), in PyTorch's recursive form:
 * `η_t = η_min + (η_max − η_min)(1 + cos(πt/T_max))/2` when nothing else changes the lr.
 *
 * @example
 * const sched = new tg.optim.lrScheduler.CosineAnnealingLR(opt, 50, { etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, tMax: number | (CosineAnnealingLROptions & { tMax: number }), options?: CosineAnnealingLROptions) {
    const [t, opts] = positional("CosineAnnealingLR", "tMax", tMax, options);
    if (!(t > 0)) throw new RangeError(`CosineAnnealingLR: tMax must be positive, got ${t}`);
    super(optimizer, opts.lastEpoch ?? -1);
    this.tMax = t;
    this.etaMin = opts.etaMin ?? 0;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if ((e - 1 - T) % (2 * T) === 0) return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }

  protected ownStateKeys(): Record<string, string> {
    return { T_max: "tMax", eta_min: "etaMin" };
  }
}

export interface ReduceLROnPlateauOptions {
  /** `"min"`: reduce when the metric stops decreasing; `"max"`: when it stops increasing (default "min"). */
  mode?: "min" | "max";
  /** new lr = lr · factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** Minimal change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** `"rel"`: relative to the best value; `"abs"`: absolute (default "rel"). */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound on the lr: one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the lr by `factor` when a metric (e.g. the validation loss) has not improved for
 * `patience` epochs. Call `step(metric)` once per epoch.
 *
 * @example
 * const sched = new tg.optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 5 });
 * for (...) { train(); sched.step(validationLoss); }
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  mode: "min" | "max";
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: "rel" | "abs";
  cooldown: number;
  minLrs: number[];
  eps: number;
  /** The best metric seen so far. */
  best = 0;
  /** Epochs since the last improvement (reset by a reduction and during cooldown). */
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private modeWorse = Number.POSITIVE_INFINITY;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError("ReduceLROnPlateau: expects an Optimizer");
    const { mode = "min", factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = "rel", cooldown = 0, minLr = 0, eps = 1e-8 } = options;
    if (!(factor < 1)) throw new RangeError(`ReduceLROnPlateau: factor should be < 1.0, got ${factor}`);
    this.optimizer = optimizer;
    this.factor = factor;
    const n = optimizer.paramGroups.length;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n) throw new Error(`ReduceLROnPlateau: expected ${n} minLr values (one per param group), got ${minLr.length}`);
      this.minLrs = [...minLr];
    } else {
      this.minLrs = new Array<number>(n).fill(minLr);
    }
    this.patience = patience;
    this.cooldown = cooldown;
    this.mode = mode;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.eps = eps;
    this.initIsBetter();
    this.reset();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private initIsBetter(): void {
    if (this.mode !== "min" && this.mode !== "max") throw new Error(`ReduceLROnPlateau: mode ${JSON.stringify(this.mode)} is unknown (use "min" or "max")`);
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs")
      throw new Error(`ReduceLROnPlateau: thresholdMode ${JSON.stringify(this.thresholdMode)} is unknown (use "rel" or "abs")`);
    this.modeWorse = this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private reset(): void {
    this.best = this.modeWorse;
    this.cooldownCounter = 0;
    this.numBadEpochs = 0;
  }

  /** True while waiting out the cooldown after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** Records this epoch's metric and reduces the lr if it has plateaued. */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : Number(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // ignore any bad epochs in cooldown
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  /** The current learning rates (one per param group). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  private static readonly STATE_KEYS: Record<string, string> = {
    mode: "mode",
    factor: "factor",
    patience: "patience",
    threshold: "threshold",
    threshold_mode: "thresholdMode",
    cooldown: "cooldown",
    cooldown_counter: "cooldownCounter",
    min_lrs: "minLrs",
    eps: "eps",
    best: "best",
    num_bad_epochs: "numBadEpochs",
    mode_worse: "modeWorse",
    last_epoch: "lastEpoch",
    _last_lr: "lastLr",
  };

  /** The scheduler's state under PyTorch's names. */
  stateDict(): SchedulerStateDict {
    const self = this as unknown as Record<string, unknown>;
    const out: SchedulerStateDict = {};
    for (const [key, field] of Object.entries(ReduceLROnPlateau.STATE_KEYS)) out[key] = copyValue(self[field]);
    return out;
  }

  /** Restores a state dict from `stateDict()`; a `best` of null (±Infinity after JSON) means "none yet". */
  loadStateDict(state: SchedulerStateDict): void {
    loadFields(this, ReduceLROnPlateau.STATE_KEYS, state, "ReduceLROnPlateau");
    this.initIsBetter();
    if ((this.best as unknown) === null) this.best = this.modeWorse;
  }
}
