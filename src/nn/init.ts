/**
 * @file `tg.nn.init`: in-place initialisers (Xavier/Glorot, Kaiming/He, constants, uniform, normal)
 * with PyTorch's formulas, fan computation and gain table, drawing from the seeded RNG.
 */
import { noGrad } from "../autograd/mode.ts";
import { defaultGenerator, type Generator } from "../tensor/random.ts";
import { formatShape, sizeOf } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkFloatArg, checkTensorArg } from "./util.ts";

/** Names `calculateGain` knows (PyTorch's functional names; camelCase spellings are accepted too). */
export type Nonlinearity =
  | "linear"
  | "identity"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "leakyRelu"
  | "selu";

export type FanMode = "fanIn" | "fanOut" | "fan_in" | "fan_out";

interface RandomInitOptions {
  /** Draw from this generator instead of the global one (`tg.manualSeed`). */
  generator?: Generator;
}

/**
 * The recommended gain for a nonlinearity (PyTorch's table): 1 for linear / conv / sigmoid,
 * 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu (slope `param`, default 0.01), 3/4 for selu.
 * @example tg.nn.init.calculateGain("leaky_relu", 0.2) // 1.3867
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "identity":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "conv_transpose3d":
    case "convTranspose1d":
    case "convTranspose2d":
    case "convTranspose3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu":
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope)) throw new TypeError(`calculateGain: negative_slope ${slope} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/**
 * fanIn = size(1) · receptive field, fanOut = size(0) · receptive field, where the receptive
 * field is the product of dims 2.. (conv weights [out, in, kh, kw]); as PyTorch's
 * `_calculate_fan_in_and_fan_out`.
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  checkTensorArg(t, "calculateFanInAndFanOut", "tensor");
  if (t.ndim < 2)
    throw new Error(`calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dims, got shape ${formatShape(t.shape)}`);
  const receptive = sizeOf(t.shape.slice(2));
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

function correctFan(t: Tensor, mode: FanMode, op: string): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  if (mode === "fanIn" || mode === "fan_in") return fanIn;
  if (mode === "fanOut" || mode === "fan_out") return fanOut;
  throw new Error(`${op}: mode must be "fanIn" or "fanOut", got ${JSON.stringify(mode)}`);
}

/** Overwrites `t`'s elements (outside the graph) with `draw()` values; returns `t`. */
function fill(t: Tensor, op: string, draw: () => number): Tensor {
  checkFloatArg(t, op, "tensor");
  const data = new Float64Array(t.numel());
  for (let i = 0; i < data.length; i++) data[i] = draw();
  noGrad(() => t.copy_(new Tensor(data, "float64", t.shape)));
  return t;
}

/** Fills `t` with U(a, b) (default U(0, 1)). */
export function uniform(t: Tensor, opts: { a?: number; b?: number } & RandomInitOptions = {}): Tensor {
  const a = opts.a ?? 0;
  const b = opts.b ?? 1;
  if (!(a <= b)) throw new RangeError(`uniform: expects a <= b, got a=${a}, b=${b}`);
  const g = opts.generator ?? defaultGenerator;
  return fill(t, "uniform", () => a + (b - a) * g.uniform());
}

/** Fills `t` with N(mean, std²) (default N(0, 1)). */
export function normal(t: Tensor, opts: { mean?: number; std?: number } & RandomInitOptions = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  if (!(std >= 0)) throw new RangeError(`normal: std must be non-negative, got ${std}`);
  const g = opts.generator ?? defaultGenerator;
  return fill(t, "normal", () => mean + std * g.normal());
}

/** Fills `t` with `value`. */
export function constant(t: Tensor, value: number): Tensor {
  checkTensorArg(t, "constant", "tensor");
  noGrad(() => t.fill_(value));
  return t;
}

/** Fills `t` with zeros. */
export const zeros = (t: Tensor): Tensor => constant(t, 0);
/** Fills `t` with ones. */
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** Fills a 2-D `t` with the identity matrix (PyTorch's `eye_`). */
export function eye(t: Tensor): Tensor {
  checkTensorArg(t, "eye", "tensor");
  if (t.ndim !== 2) throw new Error(`eye: only 2-D tensors are supported, got shape ${formatShape(t.shape)}`);
  const [n, m] = t.shape as [number, number];
  const data = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  noGrad(() => t.copy_(new Tensor(data, "float64", t.shape)));
  return t;
}

/**
 * Glorot / Xavier uniform: U(−a, a) with `a = gain·√(6 / (fanIn + fanOut))`.
 * @example tg.nn.init.xavierUniform(layer.weight)
 */
export function xavierUniform(t: Tensor, opts: { gain?: number } & RandomInitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  const a = Math.sqrt(3) * std;
  return uniform(t, { a: -a, b: a, generator: opts.generator });
}

/** Glorot / Xavier normal: N(0, std²) with `std = gain·√(2 / (fanIn + fanOut))`. */
export function xavierNormal(t: Tensor, opts: { gain?: number } & RandomInitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return normal(t, { mean: 0, std, generator: opts.generator });
}

export interface KaimingOptions extends RandomInitOptions {
  /** Negative slope of the rectifier that follows (used with "leaky_relu"; default 0). */
  a?: number;
  /** "fanIn" (default) keeps the forward variance, "fanOut" the backward one. */
  mode?: FanMode;
  /** Default "leaky_relu" (with a = 0 that is relu's √2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions, op: string): number {
  const fan = correctFan(t, opts.mode ?? "fanIn", op);
  return calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0) / Math.sqrt(fan);
}

/**
 * Kaiming / He uniform: U(−b, b) with `b = gain·√(3 / fan)`. `nn.Linear`'s default is this with
 * `a = √5`, i.e. U(±1/√fanIn).
 * @example tg.nn.init.kaimingUniform(w, { nonlinearity: "relu" })
 */
export function kaimingUniform(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloatArg(t, "kaimingUniform", "tensor");
  if (t.numel() === 0) return t; // PyTorch: initialising a zero-element tensor is a no-op
  const bound = Math.sqrt(3) * kaimingStd(t, opts, "kaimingUniform");
  return uniform(t, { a: -bound, b: bound, generator: opts.generator });
}

/** Kaiming / He normal: N(0, std²) with `std = gain / √fan` (He's `randn·√(2/n)` for relu). */
export function kaimingNormal(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkFloatArg(t, "kaimingNormal", "tensor");
  if (t.numel() === 0) return t;
  return normal(t, { mean: 0, std: kaimingStd(t, opts, "kaimingNormal"), generator: opts.generator });
}

/**
 * PyTorch's default initialisation of Linear and ConvNd layers: the weight from
 * kaimingUniform(a = √5), i.e. U(±1/√fanIn), and the bias from U(±1/√fanIn) too.
 */
export function defaultLayerInit(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, { a: -bound, b: bound });
  }
}
