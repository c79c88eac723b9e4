/**
 * @file Training callbacks, as Keras has them: hooks that run at the start and end of training,
 * of each epoch and of each batch. Built in: earlyStopping, modelCheckpoint, terminateOnNaN,
 * learningRateScheduler (a function of the epoch, or any `tg.optim.lrScheduler`), lambdaCallback;
 * any object with some of the `on…` methods is a callback too.
 */
import { noGrad } from "../autograd/mode.ts";
import { requireNode } from "../base/env.ts";
import { save } from "../io/files.ts";
import type { Module, StateDict } from "../nn/module.ts";
import { LRScheduler, ReduceLROnPlateau } from "../optim/lr-scheduler.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import type { History, Logs } from "./history.ts";

/** What every hook receives as its last argument: the model being trained and a way to stop. */
export interface TrainContext {
  readonly model: Module;
  readonly optimizer: Optimizer;
  /** The history so far (epochs already finished). */
  readonly history: History;
  /** Epochs, steps per epoch, batch size, samples. */
  readonly params: Record<string, number>;
  /** Set to true to end training after the current batch (Keras' `model.stop_training`). */
  stopTraining: boolean;
  /** Lines for the user (the progress display's stream; silent with verbose 0). */
  log(message: string): void;
}

type Hook<A extends unknown[]> = (...args: [...A, TrainContext]) => void | Promise<void>;

/**
 * A callback: any of these methods, all optional and possibly async. Epochs and batches are
 * counted from 0. Epoch-end logs hold `loss`, the metrics and their `val_` versions; batch-end logs
 * the running means of the epoch so far plus `batch` and `size`.
 *
 * @example
 * const logger = { onEpochEnd: (epoch, logs) => console.log(epoch, logs.loss) };
 * await model.fit(x, y, { epochs: 3, callbacks: [logger] });
 */
export interface Callback {
  onTrainBegin?: Hook<[logs: Logs]>;
  onTrainEnd?: Hook<[logs: Logs]>;
  onEpochBegin?: Hook<[epoch: number, logs: Logs]>;
  onEpochEnd?: Hook<[epoch: number, logs: Logs]>;
  onBatchBegin?: Hook<[batch: number, logs: Logs]>;
  onBatchEnd?: Hook<[batch: number, logs: Logs]>;
}

/** Calls `hook` on every callback in order, awaiting each. */
export async function runCallbacks<K extends keyof Callback>(
  callbacks: readonly Callback[],
  hook: K,
  args: Parameters<NonNullable<Callback[K]>>,
): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof fn === "function") await fn.apply(cb, args);
  }
}

/** Wraps plain functions as a callback (Keras' LambdaCallback). */
export function lambdaCallback(hooks: Callback): Callback {
  return { ...hooks };
}

type Mode = "min" | "max" | "auto";

/** "auto": maximise accuracy-like quantities, minimise the rest (losses, errors), as Keras does. */
function resolveMode(mode: Mode, monitor: string, op: string): "min" | "max" {
  if (mode === "min" || mode === "max") return mode;
  if (mode !== "auto") throw new Error(`${op}: mode must be "min", "max" or "auto", got ${JSON.stringify(mode)}`);
  return /acc|auc|precision|recall/i.test(monitor) ? "max" : "min";
}

/** A detached copy of a state dict (the module's own tensors keep changing). */
function snapshot(dict: StateDict): StateDict {
  const out: StateDict = {};
  for (const [k, t] of Object.entries(dict)) out[k] = noGrad(() => t.clone());
  return out;
}

export interface EarlyStoppingOptions {
  /** The logged quantity to watch (default "val_loss"). */
  monitor?: string;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** "min", "max" or "auto" (from the name: accuracies are maximised; default "auto"). */
  mode?: Mode;
  /** Stop unless the quantity beats this value. */
  baseline?: number;
  /** When stopping, load the weights of the best epoch back (default false). */
  restoreBestWeights?: boolean;
  /** Ignore the first epochs, e.g. a warm-up (default 0). */
  startFromEpoch?: number;
}

/** The callback earlyStopping returns; `stoppedEpoch` and `bestEpoch` tell what happened (−1: not stopped). */
export interface EarlyStopping extends Callback {
  readonly stoppedEpoch: number;
  readonly bestEpoch: number;
  readonly best: number;
}

/**
 * Stops training when `monitor` has not improved by more than `minDelta` for `patience` epochs
 * (Keras' EarlyStopping, the same rules).
 * @example tg.train.callbacks.earlyStopping({ monitor: "val_loss", patience: 3, restoreBestWeights: true })
 */
export function earlyStopping(opts: EarlyStoppingOptions = {}): EarlyStopping {
  const monitor = opts.monitor ?? "val_loss";
  const patience = opts.patience ?? 0;
  const minDeltaAbs = Math.abs(opts.minDelta ?? 0);
  if (!Number.isInteger(patience) || patience < 0) throw new RangeError(`earlyStopping: patience must be a non-negative integer, got ${patience}`);
  const mode = resolveMode(opts.mode ?? "auto", monitor, "earlyStopping");
  const minDelta = mode === "max" ? minDeltaAbs : -minDeltaAbs;
  const better = (a: number, b: number) => (mode === "max" ? a - minDelta > b : a - minDelta < b);
  let wait = 0;
  let bestWeights: StateDict | null = null;
  let warned = false;
  const state = {
    stoppedEpoch: -1,
    bestEpoch: -1,
    best: mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
  };
  return {
    get stoppedEpoch() {
      return state.stoppedEpoch;
    },
    get bestEpoch() {
      return state.bestEpoch;
    },
    get best() {
      return state.best;
    },
    onTrainBegin() {
      wait = 0;
      bestWeights = null;
      state.stoppedEpoch = -1;
      state.bestEpoch = -1;
      state.best = mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    },
    onEpochEnd(epoch, logs, ctx) {
      const current = logs[monitor];
      if (current === undefined || Number.isNaN(current)) {
        if (!warned) ctx.log(`earlyStopping: "${monitor}" is not logged (available: ${Object.keys(logs).join(", ")}); not stopping`);
        warned = true;
        return;
      }
      if (epoch < (opts.startFromEpoch ?? 0)) return;
      if (opts.restoreBestWeights && bestWeights === null) bestWeights = snapshot(ctx.model.stateDict());
      wait += 1;
      if (better(current, state.best)) {
        state.best = current;
        state.bestEpoch = epoch;
        if (opts.restoreBestWeights) bestWeights = snapshot(ctx.model.stateDict());
        if (opts.baseline === undefined || better(current, opts.baseline)) wait = 0;
        return;
      }
      if (wait >= patience && epoch > 0) {
        state.stoppedEpoch = epoch;
        ctx.stopTraining = true;
        if (opts.restoreBestWeights && bestWeights !== null) {
          ctx.model.loadStateDict(bestWeights);
          ctx.log(`Restoring model weights from the end of the best epoch: ${state.bestEpoch + 1}.`);
        }
      }
    },
    onTrainEnd(_logs, ctx) {
      if (state.stoppedEpoch >= 0) ctx.log(`Epoch ${state.stoppedEpoch + 1}: early stopping`);
    },
  };
}

/** The callback terminateOnNaN returns; `stopped` says where a loss went non-finite (null: it did not). */
export interface TerminateOnNaN extends Callback {
  readonly stopped: { epoch: number; batch: number; message: string } | null;
}

/**
 * Stops training at the first batch whose loss is NaN or ±Infinity, as Keras' TerminateOnNaN, and
 * at an epoch's end where `val_loss` is. The weights are then not finite: `stopped` (epoch and batch
 * from 0; batch −1: the validation) lets whatever saves afterwards keep the last good files.
 * @example const nan = tg.train.callbacks.terminateOnNaN(); await model.fit(x, y, { callbacks: [nan] }); if (nan.stopped) …
 */
export function terminateOnNaN(): TerminateOnNaN {
  let epochNow = 0;
  let stopped: TerminateOnNaN["stopped"] = null;
  const check = (batch: number, logs: Logs, ctx: TrainContext) => {
    const bad = Object.entries(logs).find(([k, v]) => /(^|_)loss$/.test(k) && !Number.isFinite(v));
    if (stopped !== null || bad === undefined) return;
    const where = batch < 0 ? `Epoch ${epochNow + 1} (validation)` : `Epoch ${epochNow + 1}, batch ${batch + 1}/${ctx.params.steps}`;
    const message = `${where}: ${bad[0]} is ${bad[1]}; training stopped, it diverged (is the learning rate, ${ctx.optimizer.paramGroups[0]?.lr}, too high?)`;
    stopped = { epoch: epochNow, batch, message };
    ctx.stopTraining = true;
    ctx.log(message);
  };
  return {
    get stopped() {
      return stopped;
    },
    onTrainBegin() {
      stopped = null;
    },
    onEpochBegin(epoch) {
      epochNow = epoch;
    },
    onBatchEnd: (batch, logs, ctx) => check(batch, logs, ctx),
    onEpochEnd: (_epoch, logs, ctx) => check(-1, logs, ctx),
  };
}

export interface ModelCheckpointOptions {
  /** The quantity that decides "best" (default "val_loss"). */
  monitor?: string;
  /** Only write when `monitor` improved (default false: every epoch). */
  saveBestOnly?: boolean;
  mode?: Mode;
  /** Print a line for each save (default false). */
  verbose?: boolean;
}

/** Fills `{epoch}`, `{epoch:02d}`, `{val_loss:.4f}` … in a checkpoint path (epoch counted from 1, as Keras). */
export function formatCheckpointPath(path: string, epoch: number, logs: Logs): string {
  return path.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, name: string, spec: string | undefined) => {
    const value = name === "epoch" ? epoch + 1 : logs[name];
    if (value === undefined) return whole;
    const m = spec ? /^(0?)(\d*)(?:\.(\d+))?([dfe]?)$/.exec(spec) : null;
    if (!m) return String(value);
    const [, zero, width, precision, kind] = m;
    let s = kind === "e" ? value.toExponential(Number(precision ?? 6)) : precision !== undefined || kind === "f" ? value.toFixed(Number(precision ?? 6)) : String(Math.round(value));
    if (width) s = s.padStart(Number(width), zero ? "0" : " ");
    return s;
  });
}

/**
 * Saves the model's state dict as safetensors (`tg.save`) at the end of every epoch, or only when
 * `monitor` improves. The path may contain `{epoch}` / `{epoch:02d}` / `{val_loss:.4f}`; missing
 * directories are created.
 * @example tg.train.callbacks.modelCheckpoint("ckpt/model-{epoch:02d}.safetensors", { saveBestOnly: true })
 */
export function modelCheckpoint(path: string, opts: ModelCheckpointOptions = {}): Callback {
  if (typeof path !== "string" || path === "") throw new TypeError("modelCheckpoint: path must be a non-empty string");
  const monitor = opts.monitor ?? "val_loss";
  const mode = resolveMode(opts.mode ?? "auto", monitor, "modelCheckpoint");
  let best = mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return {
    onTrainBegin() {
      best = mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    },
    async onEpochEnd(epoch, logs, ctx) {
      if (opts.saveBestOnly) {
        const current = logs[monitor];
        if (current === undefined || Number.isNaN(current)) {
          ctx.log(`modelCheckpoint: "${monitor}" is not logged; skipping`);
          return;
        }
        if (!(mode === "max" ? current > best : current < best)) return;
        best = current;
      }
      const file = formatCheckpointPath(path, epoch, logs);
      requireNode("modelCheckpoint", "it writes files");
      const { mkdir } = await import("node:fs/promises");
      const { dirname } = await import("node:path");
      await mkdir(dirname(file), { recursive: true });
      await save(ctx.model.stateDict(), file, { metadata: { epoch: String(epoch + 1) } });
      if (opts.verbose) ctx.log(`Epoch ${epoch + 1}: saved model to ${file}`);
    },
  };
}

/** `(epoch, lr) => newLr`, Keras' LearningRateScheduler function (epochs from 0). */
export type LrSchedule = (epoch: number, lr: number) => number;

/**
 * Learning-rate scheduling as a callback. Given a function `(epoch, lr) => lr`, it sets every
 * param group's lr at the start of each epoch (Keras' LearningRateScheduler). Given a
 * `tg.optim.lrScheduler` (StepLR, CosineAnnealingLR, …), it calls `scheduler.step()` at the end
 * of each epoch; ReduceLROnPlateau gets `logs[monitor]` (default "val_loss", else "loss").
 * The epoch's logs gain `learning_rate` (the lr the epoch trained with).
 * @example
 * tg.train.callbacks.learningRateScheduler((epoch, lr) => (epoch < 5 ? lr : lr * 0.9))
 * tg.train.callbacks.learningRateScheduler(new tg.optim.lrScheduler.StepLR(opt, { stepSize: 2 }))
 */
export function learningRateScheduler(schedule: LrSchedule | LRScheduler | ReduceLROnPlateau, opts: { monitor?: string; verbose?: boolean } = {}): Callback {
  let epochLr = Number.NaN;
  if (typeof schedule === "function") {
    return {
      onEpochBegin(epoch, _logs, ctx) {
        for (const group of ctx.optimizer.paramGroups) {
          const lr = schedule(epoch, group.lr);
          if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0)
            throw new Error(`learningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch} (expected a number ≥ 0)`);
          group.lr = lr;
        }
        epochLr = ctx.optimizer.paramGroups[0]!.lr;
        if (opts.verbose) ctx.log(`Epoch ${epoch + 1}: learning rate ${epochLr}`);
      },
      onEpochEnd(_epoch, logs) {
        logs.learning_rate = epochLr;
      },
    };
  }
  if (!(schedule instanceof LRScheduler) && !(schedule instanceof ReduceLROnPlateau))
    throw new TypeError("learningRateScheduler: expects a function (epoch, lr) => lr or a tg.optim.lrScheduler instance");
  return {
    onEpochBegin(_epoch, _logs, ctx) {
      epochLr = ctx.optimizer.paramGroups[0]!.lr;
    },
    onEpochEnd(_epoch, logs, ctx) {
      logs.learning_rate = epochLr;
      if (schedule instanceof ReduceLROnPlateau) {
        const monitor = opts.monitor ?? ("val_loss" in logs ? "val_loss" : "loss");
        const value = logs[monitor];
        if (value === undefined) throw new Error(`learningRateScheduler: ReduceLROnPlateau monitors "${monitor}", which is not logged`);
        schedule.step(value);
      } else {
        schedule.step();
      }
      if (opts.verbose) ctx.log(`learning rate is now ${ctx.optimizer.paramGroups[0]!.lr}`);
    },
  };
}
