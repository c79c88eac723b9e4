/**
 * @file The Keras-style Sequential model: `compile / fit / evaluate / predict / summary` on top of
 * an ordinary `nn.Sequential` of tensorgrad modules (so `stateDict`, safetensors, and hand-written
 * PyTorch-style loops all work on it). Training runs `tg.train.fit`.
 */
import { tensor } from "../ops/creation.ts";
import { Sigmoid, Softmax } from "../nn/layers/activation.ts";
import { runSequence } from "../fused/patterns.ts";
import { Sequential } from "../nn/layers/container.ts";
import { Module } from "../nn/module.ts";
import { Optimizer } from "../optim/optimizer.ts";
import { isFloating } from "../base/dtype.ts";
import { defaultGenerator, Generator } from "../tensor/random.ts";
import { formatShape, shapesEqual } from "../base/shape.ts";
import { type NestedArray, Tensor } from "../tensor/tensor.ts";
import type { Callback } from "../train/callbacks.ts";
import type { History } from "../train/history.ts";
import { evaluate as evaluateLoop, fit as fitLoop, predict as predictLoop, type TrainingSpec } from "../train/loop.ts";
import { getMetric, type Metric, type MetricLike } from "../train/metrics.ts";
import type { ProgressStream } from "../train/progress.ts";
import { type InputSpec, isInputSpec, type LayerSpec, moduleSpec, outputShape } from "./layers.ts";
import { type KerasLoss, kerasLoss, type LossFn, type LossLike, lossFunction } from "./losses.ts";
import { type OptimizerFactory, type OptimizerLike, optimizerFactory } from "./optimizers.ts";

export interface CompileOptions {
  /** A name ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamw"), a factory, or a tg.optim instance (default "rmsprop", as Keras). */
  optimizer?: OptimizerLike;
  /** A name ("sparseCategoricalCrossentropy", …), a tg.keras.losses.* object, a function (pred, target) => Tensor, or a loss module. */
  loss: LossLike;
  /** Names ("accuracy", "mse", "mae", "topKAccuracy"), functions (pred, target) => number, or { name, fn }. */
  metrics?: readonly MetricLike[];
}

export interface KerasFitOptions {
  /** Default 32. */
  batchSize?: number;
  /** Default 1. */
  epochs?: number;
  /** Start counting at this epoch (resuming; default 0). */
  initialEpoch?: number;
  /** Reshuffle the training samples each epoch (default true). */
  shuffle?: boolean;
  /**
   * Hold out this fraction of the samples for validation: a random subset drawn from the seeded
   * generator, or — with `shuffle: false` — the last samples, as Keras always does.
   */
  validationSplit?: number;
  /** [x, y] to validate on after each epoch (takes precedence over validationSplit). */
  validationData?: readonly [Tensor | NestedArray, Tensor | NestedArray];
  callbacks?: readonly Callback[];
  /** 0 silent, 1 progress bar / a line per epoch, 2 a line per epoch (default 1). */
  verbose?: 0 | 1 | 2;
  /** Seed of the shuffling order (default: the global generator, seeded by tg.manualSeed). */
  seed?: number;
  /** The generator for the validation split and shuffling (overrides seed), e.g. one restored from a checkpoint. */
  generator?: Generator;
  stream?: ProgressStream;
}

/** One Keras layer of a built model: its modules (consecutive children) and per-sample output shape. */
export interface LayerInfo {
  readonly name: string;
  readonly className: string;
  readonly modules: readonly Module[];
  readonly outputShape: readonly number[];
}

interface Compiled {
  optimizer: OptimizerFactory | Optimizer;
  loss: LossLike;
  metrics: Metric[];
}

function toTensor(v: Tensor | NestedArray | ArrayLike<number>, what: string): Tensor {
  if (v instanceof Tensor) return v;
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return tensor(v as NestedArray);
  throw new TypeError(`${what} must be a Tensor or a (nested) array of numbers, got ${v === null ? "null" : typeof v}`);
}

/**
 * A stack of Keras-style layers that is also an `nn.Sequential` of the modules they build.
 * Create it with `tg.keras.sequential([...])`.
 */
export class KerasSequential extends Sequential {
  private readonly _specs: LayerSpec[];
  private readonly _input: InputSpec | null;
  private readonly _name: string;
  private _layers: LayerInfo[] | null = null;
  private _compiled: Compiled | null = null;
  private _optimizer: Optimizer | null = null;
  private _history: History | null = null;
  /** The per-sample input shape as declared (or as first seen). */
  private _inputShape: number[] | null = null;

  constructor(layers: readonly (LayerSpec | InputSpec | Module)[], opts: { name?: string } = {}) {
    super();
    if (!Array.isArray(layers)) throw new TypeError("sequential: expects an array of layers, e.g. [tg.keras.input([784]), tg.keras.dense(10)]");
    const specs: LayerSpec[] = [];
    let inputSpec: InputSpec | null = null;
    layers.forEach((l, i) => {
      if (isInputSpec(l)) {
        if (i !== 0) throw new Error("sequential: input(...) must come first");
        inputSpec = l;
      } else if (l instanceof Module) specs.push(moduleSpec(l));
      else if (l !== null && typeof l === "object" && typeof (l as LayerSpec).build === "function") specs.push(l as LayerSpec);
      else throw new TypeError(`sequential: item ${i} is not a layer (use tg.keras.dense(...), tg.keras.conv2d(...), … or an nn.Module)`);
    });
    this._specs = specs;
    this._input = inputSpec;
    this._name = opts.name ?? "sequential";
    if (inputSpec) this.build((inputSpec as InputSpec).shape);
  }

  /** True once the layers have been built (at construction with input(), else on the first call). */
  get built(): boolean {
    return this._layers !== null;
  }

  /** The Keras layers of the built model. */
  get layers(): readonly LayerInfo[] {
    if (!this._layers) throw new Error("layers: the model is not built yet (start it with tg.keras.input(shape), or call it on data first)");
    return this._layers;
  }

  /** The optimizer, once compiled and built. */
  get optimizer(): Optimizer | null {
    return this._optimizer;
  }

  /** The History of the last fit (Keras' `model.history`). */
  get history(): History | null {
    return this._history;
  }

  /** The per-sample shape the layers see (NCHW for images). */
  private internalShape(shape: readonly number[]): number[] {
    return this._input?.dataFormat === "channelsLast" ? [shape[2]!, shape[0]!, shape[1]!] : [...shape];
  }

  /** Creates the modules for a per-sample input shape as the user declares it. */
  build(inputShape: readonly number[]): void {
    if (this._layers) return;
    let shape = this.internalShape(inputShape);
    const counts = new Map<string, number>();
    const layers: LayerInfo[] = [];
    for (const spec of this._specs) {
      const k = counts.get(spec.baseName) ?? 0;
      counts.set(spec.baseName, k + 1);
      const name = spec.name ?? (k === 0 ? spec.baseName : `${spec.baseName}_${k}`);
      let modules: Module[];
      try {
        modules = spec.build(shape);
        shape = outputShape(modules, shape);
      } catch (e) {
        throw new Error(`sequential: layer "${name}" (${spec.className}) cannot take per-sample input ${formatShape(shape)}: ${(e as Error).message}`);
      }
      for (const m of modules) this.append(m);
      layers.push({ name, className: spec.className, modules, outputShape: shape });
    }
    this._layers = layers;
    this._inputShape = [...inputShape];
  }

  /** Reshapes flat rows to the declared input shape, transposes NHWC input, builds on first use. */
  private prepare(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new TypeError(`${this._name}: input must be a Tensor`);
    if (x.ndim < 2) throw new Error(`${this._name}: expects a batch [N, ...], got shape ${formatShape(x.shape)}`);
    if (!this._layers) this.build(x.shape.slice(1));
    const want = this._inputShape!;
    let out = isFloating(x.dtype) ? x : x.to("float32");
    if (!shapesEqual(out.shape.slice(1), want)) {
      const n = want.reduce((a, b) => a * b, 1);
      if (out.numel() !== out.shape[0]! * n)
        throw new Error(`${this._name}: expected input of shape (None, ${want.join(", ")}), got [${x.shape.join(", ")}]`);
      out = out.reshape([out.shape[0]!, ...want]);
    }
    if (this._input?.dataFormat === "channelsLast") out = out.permute(0, 3, 1, 2);
    return out;
  }

  override forward(x: Tensor): Tensor {
    return super.forward(this.prepare(x));
  }

  /** The forward pass without the final activation (the logits of a softmax/sigmoid output). */
  forwardLogits(x: Tensor): Tensor {
    const out = this.prepare(x);
    const children = this.children();
    const last = children.at(-1);
    const skip = last instanceof Softmax || last instanceof Sigmoid ? 1 : 0;
    // nn.Sequential's loop, so the fused layers (Linear/Conv2d → ReLU, Conv2d → ReLU → MaxPool2d) run here too
    return runSequence(children.slice(0, children.length - skip), out) as Tensor;
  }

  /** Sets the optimizer, loss and metrics for fit / evaluate. */
  compile(opts: CompileOptions): void {
    if (opts === null || typeof opts !== "object") throw new TypeError("compile: expects { optimizer, loss, metrics }");
    if (opts.loss === undefined) throw new Error('compile: a loss is required, e.g. { loss: "sparseCategoricalCrossentropy" }');
    kerasLoss(opts.loss); // validate
    const metrics = (opts.metrics ?? []).map(getMetric);
    this._compiled = { optimizer: optimizerFactory(opts.optimizer ?? "rmsprop"), loss: opts.loss, metrics };
    this._optimizer = null;
    if (this._layers) this.ready("compile");
  }

  /** The training spec for the compiled loss: fused softmax/sigmoid + cross entropy where they meet. */
  private ready(op: string): TrainingSpec {
    const c = this._compiled;
    if (!c) throw new Error(`${op}: call model.compile({ optimizer, loss, metrics }) first`);
    if (!this._layers) throw new Error(`${op}: the model is not built (call it on data, or start it with tg.keras.input(shape))`);
    if (this.parameters().length === 0) throw new Error(`${op}: the model has no parameters to train`);
    this._optimizer ??= c.optimizer instanceof Optimizer ? c.optimizer : c.optimizer.create(this.parameters());
    const kl: KerasLoss | null = kerasLoss(c.loss);
    const last = this.children().at(-1);
    let fused: "softmax" | "sigmoid" | null = null;
    if (kl && !kl.fromLogits) {
      const ce = kl.kind === "sparseCategoricalCrossentropy" || kl.kind === "categoricalCrossentropy";
      if (ce && last instanceof Softmax && (last.dim === 1 || last.dim === -1)) fused = "softmax";
      if (kl.kind === "binaryCrossentropy" && last instanceof Sigmoid) fused = "sigmoid";
    }
    let loss: LossFn;
    if (kl) loss = lossFunction(kl, fused !== null || kl.fromLogits);
    else if (c.loss instanceof Module) {
      const m = c.loss;
      loss = (p, t) => m.call(p, t) as Tensor;
    } else loss = c.loss as LossFn;
    return {
      model: this,
      optimizer: this._optimizer!,
      loss,
      forward: fused ? (x) => this.forwardLogits(x) : (x) => this.call(x) as Tensor,
      toPrediction: fused === "softmax" ? (z) => z.softmax(1) : fused === "sigmoid" ? (z) => z.sigmoid() : undefined,
      metrics: c.metrics,
    };
  }

  /**
   * Trains for `epochs` epochs and returns the History (`history.history.loss`, `.val_loss`,
   * `.accuracy`, `.val_accuracy`, …).
   * @example const history = await model.fit(x, y, { batchSize: 200, epochs: 3, validationSplit: 0.1 });
   */
  async fit(x: Tensor | NestedArray, y: Tensor | NestedArray, opts: KerasFitOptions = {}): Promise<History> {
    let xs = toTensor(x, "fit: x");
    let ys = toTensor(y, "fit: y");
    if (!this._layers) this.prepare(xs.narrow(0, 0, Math.min(1, xs.shape[0] ?? 0)));
    const spec = this.ready("fit");
    const generator = opts.generator ?? (opts.seed !== undefined ? new Generator(opts.seed) : defaultGenerator);
    let validationData: [Tensor, Tensor] | null = null;
    if (opts.validationData) {
      if (!Array.isArray(opts.validationData) || opts.validationData.length !== 2) throw new TypeError("fit: validationData must be [x, y]");
      validationData = [toTensor(opts.validationData[0], "fit: validationData x"), toTensor(opts.validationData[1], "fit: validationData y")];
    } else if (opts.validationSplit !== undefined && opts.validationSplit !== 0) {
      const vs = opts.validationSplit;
      if (typeof vs !== "number" || !(vs > 0 && vs < 1)) throw new RangeError(`fit: validationSplit must be in (0, 1), got ${String(vs)}`);
      const n = xs.shape[0]!;
      const splitAt = Math.floor(n * (1 - vs));
      if (splitAt === 0 || splitAt === n) throw new Error(`fit: validationSplit ${vs} of ${n} samples leaves an empty training or validation set`);
      if (ys.shape[0] !== n) throw new Error(`fit: x ${formatShape(xs.shape)} and y ${formatShape(ys.shape)} must have the same number of samples`);
      if (opts.shuffle === false) {
        // Keras' rule: the last samples (no look-ahead for ordered data such as time series)
        validationData = [xs.narrow(0, splitAt, n - splitAt), ys.narrow(0, splitAt, n - splitAt)];
        xs = xs.narrow(0, 0, splitAt);
        ys = ys.narrow(0, 0, splitAt);
      } else {
        // a seeded random subset: Keras' "last samples" would be a single class on class-sorted data
        const perm = generator.permutation(n);
        const pick = (from: number, len: number) => tensor(Int32Array.from(perm.subarray(from, from + len)), { dtype: "int32" });
        const val = pick(splitAt, n - splitAt);
        const train = pick(0, splitAt);
        validationData = [xs.index(val), ys.index(val)];
        xs = xs.index(train);
        ys = ys.index(train);
      }
    }
    this._history = await fitLoop(spec, xs, ys, {
      batchSize: opts.batchSize ?? 32,
      epochs: opts.epochs ?? 1,
      initialEpoch: opts.initialEpoch,
      shuffle: opts.shuffle ?? true,
      validationData,
      callbacks: opts.callbacks,
      verbose: opts.verbose ?? 1,
      generator,
      stream: opts.stream,
    });
    return this._history;
  }

  /**
   * The loss and the compiled metrics on (x, y), in evaluation mode: `[loss, ...metrics]`.
   * @example const [loss, acc] = await model.evaluate(xTest, yTest);
   */
  async evaluate(x: Tensor | NestedArray, y: Tensor | NestedArray, opts: { batchSize?: number; verbose?: 0 | 1 } = {}): Promise<number[]> {
    const xs = toTensor(x, "evaluate: x");
    const ys = toTensor(y, "evaluate: y");
    if (!this._layers) this.prepare(xs.narrow(0, 0, Math.min(1, xs.shape[0] ?? 0)));
    const spec = this.ready("evaluate");
    const logs = await evaluateLoop(spec, xs, ys, { batchSize: opts.batchSize ?? 32 });
    const out = [logs.loss!, ...spec.metrics!.map((m) => logs[m.name]!)];
    if (opts.verbose) console.log(Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(" - "));
    return out;
  }

  /** The model's outputs (probabilities for a softmax output), in evaluation mode, computed in batches. */
  predict(x: Tensor | NestedArray, opts: { batchSize?: number } = {}): Tensor {
    return predictLoop(this, toTensor(x, "predict: x"), { batchSize: opts.batchSize ?? 32 });
  }

  /** The number of parameter values (trainable) and of float buffer values (non-trainable, e.g. batch-norm statistics). */
  countParams(): { trainable: number; nonTrainable: number } {
    return countOf(this);
  }

  /**
   * Prints (and returns) a table of the layers, their output shapes and parameter counts, like Keras.
   * @example model.summary()
   */
  summary(opts: { print?: (line: string) => void } = {}): string {
    const layers = this.layers;
    const rows = layers.map((l) => {
      const c = l.modules.reduce((acc, m) => {
        const k = countOf(m);
        return { trainable: acc.trainable + k.trainable, nonTrainable: acc.nonTrainable + k.nonTrainable };
      }, { trainable: 0, nonTrainable: 0 });
      return [`${l.name} (${l.className})`, `(None, ${l.outputShape.join(", ")})`, String(c.trainable + c.nonTrainable)];
    });
    const w0 = Math.max(28, ...rows.map((r) => r[0]!.length + 2));
    const w1 = Math.max(26, ...rows.map((r) => r[1]!.length + 2));
    const w2 = 10;
    const width = w0 + w1 + w2 + 1;
    const line = (a: string, b: string, c: string) => ` ${a.padEnd(w0)}${b.padEnd(w1)}${c.padEnd(w2)}`;
    const total = countOf(this);
    const bytes = (n: number) => formatBytes(n * 4);
    const fmt = (n: number) => n.toLocaleString("en-US");
    const out = [
      `Model: "${this._name}"`,
      "_".repeat(width),
      line("Layer (type)", "Output Shape", "Param #"),
      "=".repeat(width),
      ...rows.flatMap((r, i) => (i < rows.length - 1 ? [line(r[0]!, r[1]!, r[2]!), ""] : [line(r[0]!, r[1]!, r[2]!)])),
      "=".repeat(width),
      `Total params: ${fmt(total.trainable + total.nonTrainable)} (${bytes(total.trainable + total.nonTrainable)})`,
      `Trainable params: ${fmt(total.trainable)} (${bytes(total.trainable)})`,
      `Non-trainable params: ${fmt(total.nonTrainable)} (${bytes(total.nonTrainable)})`,
      "_".repeat(width),
    ].join("\n");
    (opts.print ?? console.log)(out);
    return out;
  }
}

function countOf(m: Module): { trainable: number; nonTrainable: number } {
  let trainable = 0;
  let nonTrainable = 0;
  for (const p of m.parameters()) (p.requiresGrad ? (trainable += p.numel()) : (nonTrainable += p.numel()));
  for (const [, b] of m.namedBuffers()) if (isFloating(b.dtype)) nonTrainable += b.numel();
  return { trainable, nonTrainable };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n.toFixed(2)} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(2)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * A Keras-style Sequential model. Give `tg.keras.input(shape)` first to build it at once;
 * otherwise it is built on its first call. The result is an `nn.Sequential` of tensorgrad modules.
 * @example
 * const model = tg.keras.sequential([
 *   tg.keras.input([784]),
 *   tg.keras.dense(128, { activation: "relu" }),
 *   tg.keras.dense(10, { activation: "softmax" }),
 * ]);
 * model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
 */
export function sequential(layers: readonly (LayerSpec | InputSpec | Module)[], opts: { name?: string } = {}): KerasSequential {
  return new KerasSequential(layers, opts);
}
