/**
 * @file Keras-style layer specifications. Each `tg.keras.<layer>(...)` returns a spec that, once
 * the input shape is known, builds ordinary tensorgrad modules: `dense(128, { activation: "relu" })`
 * becomes `nn.Linear` + `nn.ReLU`, so a Keras-style model is the nn.Sequential a PyTorch user
 * would write (state-dict keys `0.weight`, `0.bias`, `2.weight`, …) and moves to and from PyTorch as is.
 *
 * Layout: images are NCHW, like the rest of tensorgrad (Keras' default is NHWC). `input([1, 28, 28])`
 * declares channels-first images; `input([28, 28, 1], { dataFormat: "channelsLast" })` accepts
 * NHWC batches and transposes them on the way in. Flat rows ([N, 784]) are reshaped to the
 * declared input shape automatically.
 */
import { noGrad } from "../autograd/mode.ts";
import * as init from "../nn/init.ts";
import { GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh } from "../nn/layers/activation.ts";
import { BatchNorm1d, BatchNorm2d } from "../nn/layers/batchnorm.ts";
import { Conv2d } from "../nn/layers/conv.ts";
import { Dropout } from "../nn/layers/dropout.ts";
import { Flatten, Linear } from "../nn/layers/linear.ts";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../nn/layers/pool.ts";
import { Module } from "../nn/module.ts";
import { zeros } from "../ops/creation.ts";
import { formatShape } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Activation names (Keras' spellings; snake_case aliases accepted). */
export type ActivationName = "relu" | "sigmoid" | "tanh" | "softmax" | "linear" | "gelu" | "leakyRelu";

/** The module for an activation name (null for "linear"). Softmax is over dim 1, the class/channel dim in NCHW. */
export function activationModule(name: ActivationName | string | null | undefined, layer: string): Module | null {
  switch (name ?? "linear") {
    case "linear":
    case "identity":
      return null;
    case "relu":
      return new ReLU();
    case "sigmoid":
      return new Sigmoid();
    case "tanh":
      return new Tanh();
    case "softmax":
      return new Softmax(1);
    case "gelu":
      return new GELU();
    case "leakyRelu":
    case "leaky_relu":
      return new LeakyReLU(0.2); // Keras' keras.activations.leaky_relu slope
    default:
      throw new Error(
        `${layer}: unknown activation ${JSON.stringify(name)}; known: "relu", "sigmoid", "tanh", "softmax", "linear", "gelu", "leakyRelu"`,
      );
  }
}

/** Kernel / bias initialiser names (Keras' spellings; "pytorch" keeps nn.Linear's / nn.Conv2d's own default). */
export type InitializerName =
  | "glorotUniform"
  | "glorotNormal"
  | "heUniform"
  | "heNormal"
  | "lecunUniform"
  | "lecunNormal"
  | "zeros"
  | "ones"
  | "randomNormal"
  | "randomUniform"
  | "pytorch";

const INIT_ALIASES: Record<string, InitializerName> = {
  glorot_uniform: "glorotUniform",
  glorot_normal: "glorotNormal",
  he_uniform: "heUniform",
  he_normal: "heNormal",
  lecun_uniform: "lecunUniform",
  lecun_normal: "lecunNormal",
  random_normal: "randomNormal",
  random_uniform: "randomUniform",
  xavierUniform: "glorotUniform",
  xavierNormal: "glorotNormal",
};

/** Fills `t` by a Keras initialiser name (normal ones are untruncated, unlike Keras' truncated normals). */
export function initialize(t: Tensor, name: InitializerName | string, layer: string): void {
  const key = INIT_ALIASES[name] ?? name;
  const fanIn = t.ndim >= 2 ? init.calculateFanInAndFanOut(t).fanIn : t.numel();
  switch (key) {
    case "pytorch":
      return;
    case "glorotUniform":
      init.xavierUniform(t);
      return;
    case "glorotNormal":
      init.xavierNormal(t);
      return;
    case "heUniform":
      init.uniform(t, { a: -Math.sqrt(6 / fanIn), b: Math.sqrt(6 / fanIn) });
      return;
    case "heNormal":
      init.normal(t, { std: Math.sqrt(2 / fanIn) });
      return;
    case "lecunUniform":
      init.uniform(t, { a: -Math.sqrt(3 / fanIn), b: Math.sqrt(3 / fanIn) });
      return;
    case "lecunNormal":
      init.normal(t, { std: Math.sqrt(1 / fanIn) });
      return;
    case "zeros":
      init.zeros(t);
      return;
    case "ones":
      init.ones(t);
      return;
    case "randomNormal":
      init.normal(t, { std: 0.05 });
      return;
    case "randomUniform":
      init.uniform(t, { a: -0.05, b: 0.05 });
      return;
    default:
      throw new Error(`${layer}: unknown initializer ${JSON.stringify(name)}; known: ${["glorotUniform", "glorotNormal", "heUniform", "heNormal", "lecunUniform", "lecunNormal", "zeros", "ones", "randomNormal", "randomUniform", "pytorch"].join(", ")}`);
  }
}

/** A Keras-style layer: what the model builds once it knows the per-sample input shape. */
export interface LayerSpec {
  /** Keras' class name, shown by summary() (e.g. "Dense"). */
  readonly className: string;
  /** The name prefix (e.g. "dense" → dense, dense_1, …) unless `name` is set. */
  readonly baseName: string;
  readonly name?: string;
  /** Builds the modules for a per-sample input shape (without the batch dim). */
  build(inputShape: readonly number[]): Module[];
}

/** The input declaration (not a layer: it builds nothing). */
export interface InputSpec {
  readonly className: "InputLayer";
  /** Per-sample shape as the user gives it. */
  readonly shape: readonly number[];
  readonly dataFormat: "channelsFirst" | "channelsLast";
}

export function isInputSpec(v: unknown): v is InputSpec {
  return v !== null && typeof v === "object" && (v as InputSpec).className === "InputLayer";
}

function positiveInt(v: unknown, layer: string, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

function pair(v: number | readonly [number, number], layer: string, what: string): [number, number] {
  if (typeof v === "number") return [positiveInt(v, layer, what), v];
  if (Array.isArray(v) && v.length === 2) return [positiveInt(v[0], layer, what), positiveInt(v[1], layer, what)];
  throw new TypeError(`${layer}: ${what} must be a positive integer or a pair [h, w], got ${JSON.stringify(v)}`);
}

function needRank(shape: readonly number[], rank: number, layer: string, what: string): void {
  if (shape.length !== rank) throw new Error(`${layer}: expects ${what}, got per-sample input shape ${formatShape(shape)} (shapes exclude the batch dim)`);
}

/**
 * Declares the per-sample input shape (without the batch dim), e.g. `input([784])` or
 * `input([1, 28, 28])` (NCHW). With `dataFormat: "channelsLast"`, `input([28, 28, 1])` takes
 * NHWC batches as Keras does and transposes them to NCHW.
 */
export function input(shape: readonly number[], opts: { dataFormat?: "channelsFirst" | "channelsLast" } = {}): InputSpec {
  if (!Array.isArray(shape) || shape.length === 0) throw new TypeError(`input: shape must be a non-empty array of sizes without the batch dim, e.g. [784], got ${JSON.stringify(shape)}`);
  for (const d of shape) positiveInt(d, "input", "every dim of shape");
  const dataFormat = opts.dataFormat ?? "channelsFirst";
  if (dataFormat !== "channelsFirst" && dataFormat !== "channelsLast")
    throw new Error(`input: dataFormat must be "channelsFirst" or "channelsLast", got ${JSON.stringify(dataFormat)}`);
  if (dataFormat === "channelsLast" && shape.length !== 3) throw new Error(`input: dataFormat "channelsLast" needs an image shape [H, W, C], got ${formatShape(shape)}`);
  return { className: "InputLayer", shape: [...shape], dataFormat };
}

export interface DenseOptions {
  /** Applied after the affine map (default "linear": none). */
  activation?: ActivationName | null;
  /** Learn a bias (default true). */
  useBias?: boolean;
  /** Default "glorotUniform" (Keras' default). */
  kernelInitializer?: InitializerName;
  /** Default "zeros". */
  biasInitializer?: InitializerName;
  name?: string;
}

/**
 * A fully connected layer `activation(x·Wᵀ + b)`: builds `nn.Linear(in, units)` (weight [units, in],
 * PyTorch's layout) and the activation's module. Initialised as Keras does (Glorot-uniform kernel, zero bias).
 * @example tg.keras.dense(128, { activation: "relu" })
 */
export function dense(units: number, opts: DenseOptions = {}): LayerSpec {
  positiveInt(units, "dense", "units");
  const activation = opts.activation ?? "linear";
  activationModule(activation, "dense"); // validate now, not at build time
  return {
    className: "Dense",
    baseName: "dense",
    name: opts.name,
    build(shape) {
      const inFeatures = shape.at(-1)!;
      const linear = new Linear(inFeatures, units, { bias: opts.useBias ?? true });
      initialize(linear.weight, opts.kernelInitializer ?? "glorotUniform", "dense");
      if (linear.bias) initialize(linear.bias, opts.biasInitializer ?? "zeros", "dense");
      const act = activationModule(activation, "dense");
      return act ? [linear, act] : [linear];
    },
  };
}

export interface Conv2dOptions {
  /** Default 1. */
  strides?: number | readonly [number, number];
  /** "valid" (no padding, default) or "same" (output size ⌈input / stride⌉). */
  padding?: "valid" | "same";
  activation?: ActivationName | null;
  useBias?: boolean;
  kernelInitializer?: InitializerName;
  biasInitializer?: InitializerName;
  name?: string;
}

/** Padding for "same" with stride > 1: symmetric (k − 1) / 2, which gives ⌈n / stride⌉ outputs for odd kernels. */
function samePadding(kernel: [number, number], strides: [number, number], layer: string): [number, number] | "same" {
  if (strides[0] === 1 && strides[1] === 1) return "same";
  if (kernel[0] % 2 === 0 || kernel[1] % 2 === 0)
    throw new Error(`${layer}: padding "same" with strides > 1 needs an odd kernel size here, got [${kernel.join(", ")}]`);
  return [(kernel[0] - 1) / 2, (kernel[1] - 1) / 2];
}

/**
 * A 2-D convolution over NCHW images: builds `nn.Conv2d(inChannels, filters, kernelSize)`
 * (weight [filters, in, kh, kw]) and the activation's module.
 * @example tg.keras.conv2d(16, 3, { padding: "same", activation: "relu" })
 */
export function conv2d(filters: number, kernelSize: number | readonly [number, number], opts: Conv2dOptions = {}): LayerSpec {
  positiveInt(filters, "conv2d", "filters");
  const kernel = pair(kernelSize, "conv2d", "kernelSize");
  const strides = pair(opts.strides ?? 1, "conv2d", "strides");
  const padding = opts.padding ?? "valid";
  if (padding !== "valid" && padding !== "same") throw new Error(`conv2d: padding must be "valid" or "same", got ${JSON.stringify(padding)}`);
  const pad = padding === "same" ? samePadding(kernel, strides, "conv2d") : 0;
  const activation = opts.activation ?? "linear";
  activationModule(activation, "conv2d");
  return {
    className: "Conv2D",
    baseName: "conv2d",
    name: opts.name,
    build(shape) {
      needRank(shape, 3, "conv2d", "images [C, H, W] (NCHW; declare input([C, H, W]))");
      const conv = new Conv2d(shape[0]!, filters, kernel, { stride: strides, padding: pad, bias: opts.useBias ?? true });
      initialize(conv.weight, opts.kernelInitializer ?? "glorotUniform", "conv2d");
      if (conv.bias) initialize(conv.bias, opts.biasInitializer ?? "zeros", "conv2d");
      const act = activationModule(activation, "conv2d");
      return act ? [conv, act] : [conv];
    },
  };
}

export interface Pooling2dOptions {
  /** Default: poolSize. */
  strides?: number | readonly [number, number];
  /** "valid" (default) or "same" (output size ⌈input / stride⌉; padding does not count in averages). */
  padding?: "valid" | "same";
  name?: string;
}

function pooling(kind: "max" | "avg", poolSize: number | readonly [number, number], opts: Pooling2dOptions): LayerSpec {
  const layer = kind === "max" ? "maxPooling2d" : "averagePooling2d";
  const k = pair(poolSize, layer, "poolSize");
  const s = pair(opts.strides ?? k, layer, "strides");
  const padding = opts.padding ?? "valid";
  if (padding !== "valid" && padding !== "same") throw new Error(`${layer}: padding must be "valid" or "same", got ${JSON.stringify(padding)}`);
  let pad: [number, number] = [0, 0];
  let ceilMode = false;
  if (padding === "same") {
    // ⌈n / s⌉ outputs: ceil mode when the window equals the stride, symmetric padding for odd windows
    if (k[0] === s[0] && k[1] === s[1]) ceilMode = true;
    else if (k[0] % 2 === 1 && k[1] % 2 === 1) pad = [(k[0] - 1) / 2, (k[1] - 1) / 2];
    else throw new Error(`${layer}: padding "same" needs strides equal to poolSize or an odd poolSize here, got poolSize [${k.join(", ")}], strides [${s.join(", ")}]`);
  }
  return {
    className: kind === "max" ? "MaxPooling2D" : "AveragePooling2D",
    baseName: kind === "max" ? "max_pooling2d" : "average_pooling2d",
    name: opts.name,
    build(shape) {
      needRank(shape, 3, layer, "images [C, H, W]");
      return [
        kind === "max"
          ? new MaxPool2d(k, { stride: s, padding: pad, ceilMode })
          : new AvgPool2d(k, { stride: s, padding: pad, ceilMode, countIncludePad: false }),
      ];
    },
  };
}

/** Max over poolSize windows (stride = poolSize unless given). @example tg.keras.maxPooling2d(2) */
export function maxPooling2d(poolSize: number | readonly [number, number] = 2, opts: Pooling2dOptions = {}): LayerSpec {
  return pooling("max", poolSize, opts);
}

/** Mean over poolSize windows. @example tg.keras.averagePooling2d(2) */
export function averagePooling2d(poolSize: number | readonly [number, number] = 2, opts: Pooling2dOptions = {}): LayerSpec {
  return pooling("avg", poolSize, opts);
}

/** Mean over H and W: [N, C, H, W] → [N, C] (builds nn.AdaptiveAvgPool2d(1) + nn.Flatten). */
export function globalAveragePooling2d(opts: { name?: string } = {}): LayerSpec {
  return {
    className: "GlobalAveragePooling2D",
    baseName: "global_average_pooling2d",
    name: opts.name,
    build(shape) {
      needRank(shape, 3, "globalAveragePooling2d", "images [C, H, W]");
      return [new AdaptiveAvgPool2d(1), new Flatten()];
    },
  };
}

/** [N, ...] → [N, product] (NCHW images flatten in C, H, W order, as in PyTorch). */
export function flatten(opts: { name?: string } = {}): LayerSpec {
  return { className: "Flatten", baseName: "flatten", name: opts.name, build: () => [new Flatten()] };
}

/** Inverted dropout with probability `rate` while training (nn.Dropout). */
export function dropout(rate: number, opts: { name?: string } = {}): LayerSpec {
  if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${String(rate)}`);
  return { className: "Dropout", baseName: "dropout", name: opts.name, build: () => [new Dropout(rate)] };
}

export interface BatchNormalizationOptions {
  /** Keras' momentum of the moving averages (default 0.99; PyTorch's momentum is 1 − this). */
  momentum?: number;
  /** Added to the variance (default 1e-3, Keras' default). */
  epsilon?: number;
  name?: string;
}

/**
 * Batch normalisation over the feature dim of [N, F] inputs or the channel dim of NCHW images
 * (nn.BatchNorm1d / nn.BatchNorm2d with Keras' defaults: momentum 0.99, epsilon 1e-3).
 */
export function batchNormalization(opts: BatchNormalizationOptions = {}): LayerSpec {
  const momentum = opts.momentum ?? 0.99;
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`batchNormalization: momentum must be in [0, 1], got ${momentum}`);
  return {
    className: "BatchNormalization",
    baseName: "batch_normalization",
    name: opts.name,
    build(shape) {
      const o = { momentum: 1 - momentum, eps: opts.epsilon ?? 1e-3 };
      if (shape.length === 1) return [new BatchNorm1d(shape[0]!, o)];
      if (shape.length === 3) return [new BatchNorm2d(shape[0]!, o)];
      throw new Error(`batchNormalization: expects features [F] or images [C, H, W], got per-sample shape ${formatShape(shape)}`);
    },
  };
}

/** A standalone activation layer. @example tg.keras.activation("relu") */
export function activation(name: ActivationName, opts: { name?: string } = {}): LayerSpec {
  activationModule(name, "activation");
  return {
    className: "Activation",
    baseName: "activation",
    name: opts.name,
    build: () => {
      const m = activationModule(name, "activation");
      return m ? [m] : [];
    },
  };
}

/** Reshapes each sample: [N, ...] → [N, ...targetShape] (a module with no parameters). */
export class Reshape extends Module {
  readonly targetShape: number[];

  constructor(targetShape: readonly number[]) {
    super();
    this.targetShape = [...targetShape];
  }

  override forward(x: Tensor): Tensor {
    return x.reshape([x.shape[0]!, ...this.targetShape]);
  }

  override extraRepr(): string {
    return `target_shape=(${this.targetShape.join(", ")})`;
  }
}

/** Reshapes each sample to `targetShape` (e.g. [784] → [1, 28, 28]). @example tg.keras.reshape([1, 28, 28]) */
export function reshape(targetShape: readonly number[], opts: { name?: string } = {}): LayerSpec {
  for (const d of targetShape) positiveInt(d, "reshape", "every dim of targetShape");
  return {
    className: "Reshape",
    baseName: "reshape",
    name: opts.name,
    build(shape) {
      const n = shape.reduce((a, b) => a * b, 1);
      const m = targetShape.reduce((a, b) => a * b, 1);
      if (n !== m) throw new Error(`reshape: cannot reshape per-sample shape ${formatShape(shape)} (${n} values) to ${formatShape(targetShape)} (${m})`);
      return [new Reshape(targetShape)];
    },
  };
}

/** Wraps a ready-made nn.Module so it can sit in a Keras-style model (e.g. `new tg.nn.ReLU()`). */
export function moduleSpec(m: Module): LayerSpec {
  const cls = m.constructor.name;
  return { className: cls, baseName: cls.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase(), build: () => [m] };
}

/** The per-sample output shape of `modules` for a per-sample input shape (one zero sample through them, eval mode). */
export function outputShape(modules: readonly Module[], shape: readonly number[]): number[] {
  if (modules.length === 0) return [...shape];
  const modes = modules.map((m) => m.training);
  try {
    for (const m of modules) m.eval();
    let x = zeros([1, ...shape]);
    noGrad(() => {
      for (const m of modules) x = m.call(x) as Tensor;
    });
    return x.shape.slice(1);
  } finally {
    modules.forEach((m, i) => {
      m.train(modes[i]);
    });
  }
}
