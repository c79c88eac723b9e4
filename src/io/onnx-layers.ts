/**
 * @file How each tensorgrad module becomes ONNX nodes. One rule per module class; a rule gets
 * the module, its scope and the value flowing in (its graph name and the traced tensor, so
 * shapes are concrete) and returns the value flowing out. Containers recurse through `ctx.convert`.
 */
import { GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh } from "../nn/layers/activation.ts";
import { BatchNormBase } from "../nn/layers/batchnorm.ts";
import { Residual, Sequential } from "../nn/layers/container.ts";
import { Conv2d } from "../nn/layers/conv.ts";
import { Dropout } from "../nn/layers/dropout.ts";
import { Flatten, Identity, Linear } from "../nn/layers/linear.ts";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../nn/layers/pool.ts";
import type { Module } from "../nn/module.ts";
import { pair } from "../ops/conv.ts";
import { formatShape } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { float, type GraphBuilder, int, ints, string } from "./onnx-graph.ts";
import { DataType } from "./onnx-fields.ts";
import type { Attribute } from "./onnx-proto.ts";

/** A value in the graph: its name, the tensor it holds for the example input, and whether dim 0 is the batch ("N"). */
export interface Value {
  name: string;
  tensor: Tensor;
  batched: boolean;
}

export interface Context {
  g: GraphBuilder;
  opset: number;
  /** Dim 0 of the input is symbolic, so shapes written into the graph must not fix it. */
  dynamicBatch: boolean;
  /** Converts a submodule at dotted `path`. */
  convert(m: Module, path: string, x: Value): Value;
}

export type Convert<M extends Module> = (ctx: Context, m: M, path: string, x: Value) => Value;

export interface Rule {
  name: string;
  cls: abstract new (...args: never[]) => Module;
  convert: Convert<Module>;
  /** Runs on the exported model itself before tracing, with the example input's shape (e.g. builds a lazy model). */
  prepare?(m: Module, inputShape: readonly number[]): void;
}

export function rule<M extends Module>(
  name: string,
  cls: abstract new (...args: never[]) => M,
  convert: Convert<M>,
  prepare?: (m: M, inputShape: readonly number[]) => void,
): Rule {
  const r: Rule = { name, cls, convert: (ctx, m, path, x) => convert(ctx, m as M, path, x) };
  if (prepare !== undefined) r.prepare = (m, shape) => prepare(m as M, shape);
  return r;
}

/** "/2/block/0" for module path "2.block.0" ("" for the model itself). */
export const scopeOf = (path: string): string => (path === "" ? "" : `/${path.split(".").join("/")}`);
const child = (path: string, name: string): string => (path === "" ? name : `${path}.${name}`);
export const describe = (path: string, m: Module): string => (path === "" ? `the model (${m.constructor.name})` : `"${path}" (${m.constructor.name})`);

/** A module whose forward maps one tensor to one tensor. */
type Layer = { forward(x: Tensor): Tensor } & Module;

/** One `op` node on x; the traced output is what `m.forward` gives. */
function simple(ctx: Context, m: Layer, path: string, x: Value, op: string, attrs: readonly Attribute[] = []): Value {
  return { name: ctx.g.node(scopeOf(path), op, [x.name], attrs), tensor: m.forward(x.tensor), batched: x.batched };
}

const unary = <M extends Layer>(op: string, attrs: (m: M) => readonly Attribute[] = () => []): Convert<M> =>
  (ctx, m, path, x) => simple(ctx, m, path, x, op, attrs(m));

function needImage(x: Value, path: string, m: Module): void {
  if (x.tensor.ndim !== 4)
    throw new Error(`onnx.exportModel: ${describe(path, m)} gets shape ${formatShape(x.tensor.shape)}; the exported graph needs batched images [N, C, H, W] here`);
}

/** Reshape to `out`'s shape; dim 0 is copied from the input (`keepDim0`) or inferred, so any batch size runs. */
export function reshape(ctx: Context, scope: string, x: Value, out: Tensor, keepDim0: boolean): Value {
  const shape = out.shape.map((d, i) => (i === 0 && ctx.dynamicBatch ? (keepDim0 ? 0 : -1) : d));
  const name = ctx.g.node(scope, "Reshape", [x.name, ctx.g.int64s(scope, "shape", shape)]);
  return { name, tensor: out, batched: x.batched && keepDim0 };
}

export const sequential: Convert<Sequential> = (ctx, m, path, x) => {
  for (const [name, c] of m.namedChildren()) x = ctx.convert(c, child(path, name), x);
  return x;
};

const residual: Convert<Residual> = (ctx, m, path, x) => {
  const y = ctx.convert(m.block, child(path, "block"), x);
  return { name: ctx.g.node(scopeOf(path), "Add", [x.name, y.name]), tensor: x.tensor.add(y.tensor), batched: x.batched };
};

/** Gemm (y = x·Wᵀ + b) for [N, in]; otherwise MatMul with Wᵀ (+ Add), which broadcasts over leading dims. */
const linear: Convert<Linear> = (ctx, m, path, x) => {
  const { g } = ctx;
  const scope = scopeOf(path);
  const w = g.parameter(child(path, "weight"), m.weight);
  const b = m.bias ? g.parameter(child(path, "bias"), m.bias) : null;
  let name: string;
  if (x.tensor.ndim === 2) name = g.node(scope, "Gemm", b ? [x.name, w, b] : [x.name, w], [int("transB", 1)]);
  else {
    name = g.node(scope, "MatMul", [x.name, g.node(scope, "Transpose", [w], [ints("perm", [1, 0])])]);
    if (b) name = g.node(scope, "Add", [name, b]);
  }
  return { name, tensor: m.forward(x.tensor), batched: x.batched };
};

const conv2d: Convert<Conv2d> = (ctx, m, path, x) => {
  needImage(x, path, m);
  const [kh, kw] = m.kernelSize;
  const [dh, dw] = m.dilation;
  let pads: number[]; // ONNX order: [top, left, bottom, right]
  if (m.padding === "valid") pads = [0, 0, 0, 0];
  else if (m.padding === "same") {
    // as conv2d: (d·(k−1))/2 before, the rest after (asymmetric for even kernels)
    const [th, tw] = [dh * (kh - 1), dw * (kw - 1)];
    pads = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else pads = [m.padding[0], m.padding[1], m.padding[0], m.padding[1]];
  const inputs = [x.name, ctx.g.parameter(child(path, "weight"), m.weight)];
  if (m.bias) inputs.push(ctx.g.parameter(child(path, "bias"), m.bias));
  const attrs = [ints("kernel_shape", [kh, kw]), ints("strides", m.stride), ints("pads", pads), ints("dilations", m.dilation), int("group", m.groups)];
  return { name: ctx.g.node(scopeOf(path), "Conv", inputs, attrs), tensor: m.forward(x.tensor), batched: x.batched };
};

const maxPool2d: Convert<MaxPool2d> = (ctx, m, path, x) => {
  needImage(x, path, m);
  const [ph, pw] = pair(m.padding, "padding", "MaxPool2d", 0);
  return simple(ctx, m, path, x, "MaxPool", [
    ints("kernel_shape", pair(m.kernelSize, "kernelSize", "MaxPool2d")),
    ints("strides", pair(m.stride, "stride", "MaxPool2d")),
    ints("pads", [ph, pw, ph, pw]),
    ints("dilations", pair(m.dilation, "dilation", "MaxPool2d")),
    int("ceil_mode", m.ceilMode ? 1 : 0),
  ]);
};

const avgPool2d: Convert<AvgPool2d> = (ctx, m, path, x) => {
  needImage(x, path, m);
  const kernel = pair(m.kernelSize, "kernelSize", "AvgPool2d");
  const [ph, pw] = pair(m.padding, "padding", "AvgPool2d", 0);
  const override = m.divisorOverride;
  if (override !== null && m.ceilMode)
    throw new Error(`onnx.exportModel: ${describe(path, m)} with divisorOverride and ceilMode has no ONNX equivalent (AveragePool's partial windows use their own divisor)`);
  const attrs = [
    ints("kernel_shape", kernel),
    ints("strides", pair(m.stride, "stride", "AvgPool2d")),
    ints("pads", [ph, pw, ph, pw]),
    int("ceil_mode", m.ceilMode ? 1 : 0),
    int("count_include_pad", m.countIncludePad || override !== null ? 1 : 0),
  ];
  const out = simple(ctx, m, path, x, "AveragePool", attrs);
  if (override === null) return out;
  // every window is full-size here, so the mean times kh·kw / divisor is the sum over the divisor
  const scope = scopeOf(path);
  return { ...out, name: ctx.g.node(scope, "Mul", [out.name, ctx.g.floats(scope, "divisor_scale", [(kernel[0] * kernel[1]) / override])]) };
};

/** The [m, n] matrix whose row i averages input rows [⌊i·n/m⌋, ⌈(i+1)·n/m⌉), as adaptiveAvgPool2d builds it. */
function adaptiveMatrix(n: number, m: number): number[] {
  const data = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    const start = Math.floor((i * n) / m);
    const end = Math.ceil(((i + 1) * n) / m);
    for (let j = start; j < end; j++) data[i * n + j] = 1 / (end - start);
  }
  return data;
}

/** GlobalAveragePool for output 1×1, AveragePool when windows tile the input, else two MatMuls with averaging matrices. */
const adaptiveAvgPool2d: Convert<AdaptiveAvgPool2d> = (ctx, m, path, x) => {
  needImage(x, path, m);
  const out = m.forward(x.tensor);
  const [h, w] = x.tensor.shape.slice(2) as [number, number];
  const [ho, wo] = out.shape.slice(2) as [number, number];
  const { g } = ctx;
  const scope = scopeOf(path);
  if (ho === 1 && wo === 1) return { name: g.node(scope, "GlobalAveragePool", [x.name]), tensor: out, batched: x.batched };
  if (ho === h && wo === w) return { name: g.node(scope, "Identity", [x.name]), tensor: out, batched: x.batched };
  if (h % ho === 0 && w % wo === 0) {
    const k = [h / ho, w / wo];
    return { name: g.node(scope, "AveragePool", [x.name], [ints("kernel_shape", k), ints("strides", k)]), tensor: out, batched: x.batched };
  }
  // out = A_h · x · A_wᵀ with A [out, in] (windows overlap and differ in size)
  const right = g.node(scope, "MatMul", [x.name, g.floats(scope, "cols", transpose(adaptiveMatrix(w, wo), wo, w), [w, wo])]);
  return { name: g.node(scope, "MatMul", [g.floats(scope, "rows", adaptiveMatrix(h, ho), [ho, h]), right]), tensor: out, batched: x.batched };
};

function transpose(data: number[], rows: number, cols: number): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** BatchNormalization with the running statistics (what eval mode computes). */
const batchNorm: Convert<BatchNormBase> = (ctx, m, path, x) => {
  const { g } = ctx;
  const scope = scopeOf(path);
  if (m.running_mean === null || m.running_var === null)
    throw new Error(
      `onnx.exportModel: ${describe(path, m)} has no running statistics (trackRunningStats: false), so it normalises with batch statistics even in eval mode; ONNX BatchNormalization needs running statistics`,
    );
  const c = m.numFeatures;
  const scale = m.weight ? g.parameter(child(path, "weight"), m.weight) : g.floats(scope, "ones", new Array<number>(c).fill(1), [c]);
  const bias = m.bias ? g.parameter(child(path, "bias"), m.bias) : g.floats(scope, "zeros", new Array<number>(c).fill(0), [c]);
  const mean = g.parameter(child(path, "running_mean"), m.running_mean);
  const variance = g.parameter(child(path, "running_var"), m.running_var);
  const name = g.node(scope, "BatchNormalization", [x.name, scale, bias, mean, variance], [float("epsilon", m.eps)]);
  return { name, tensor: m.forward(x.tensor), batched: x.batched };
};

/** Flatten when the result is [N, rest] (ONNX Flatten is always 2-D), otherwise Reshape. */
const flatten: Convert<Flatten> = (ctx, m, path, x) => {
  const out = m.forward(x.tensor);
  const r = x.tensor.ndim;
  const start = m.startDim < 0 ? m.startDim + r : m.startDim;
  const end = m.endDim < 0 ? m.endDim + r : m.endDim;
  if (start >= end) return simple(ctx, m, path, x, "Identity");
  if (start === 1 && end === r - 1) return simple(ctx, m, path, x, "Flatten", [int("axis", 1)]);
  return reshape(ctx, scopeOf(path), x, out, start > 0);
};

/** x·½(1 + erf(x/√2)), or the tanh form; one Gelu node from opset 20. Same op order as tensorgrad's gelu. */
const gelu: Convert<GELU> = (ctx, m, path, x) => {
  if (ctx.opset >= 20) return simple(ctx, m, path, x, "Gelu", [string("approximate", m.approximate)]);
  const { g } = ctx;
  const scope = scopeOf(path);
  const k = (label: string, v: number) => g.floats(scope, label, [v]);
  let inner: string;
  if (m.approximate === "none") inner = g.node(scope, "Erf", [g.node(scope, "Mul", [x.name, k("sqrt1_2", Math.SQRT1_2)])]);
  else {
    const cube = g.node(scope, "Mul", [g.node(scope, "Mul", [x.name, x.name]), x.name]);
    const sum = g.node(scope, "Add", [x.name, g.node(scope, "Mul", [cube, k("coef", 0.044715)])]);
    inner = g.node(scope, "Tanh", [g.node(scope, "Mul", [sum, k("sqrt2_pi", Math.sqrt(2 / Math.PI))])]);
  }
  const name = g.node(scope, "Mul", [g.node(scope, "Mul", [x.name, g.node(scope, "Add", [inner, k("one", 1)])]), k("half", 0.5)]);
  return { name, tensor: m.forward(x.tensor), batched: x.batched };
};

/** 1 where x > 0, else 0: Greater, then Cast back to float. */
const step: Convert<Step> = (ctx, m, path, x) => {
  const scope = scopeOf(path);
  const positive = ctx.g.node(scope, "Greater", [x.name, ctx.g.floats(scope, "zero", [0])]);
  return { name: ctx.g.node(scope, "Cast", [positive], [int("to", DataType.FLOAT)]), tensor: m.forward(x.tensor), batched: x.batched };
};

/**
 * A rule applies to instances of its class (subclasses included) whose forward() is the class's
 * own, so a subclass with a new forward (a Keras model's input preparation, a user's custom
 * code) never falls to its parent's rule.
 */
export const RULES: readonly Rule[] = [
  rule("Sequential", Sequential, sequential),
  rule("Residual", Residual, residual),
  rule("Linear", Linear, linear),
  rule("Conv2d", Conv2d, conv2d),
  rule("MaxPool2d", MaxPool2d, maxPool2d),
  rule("AvgPool2d", AvgPool2d, avgPool2d),
  rule("AdaptiveAvgPool2d", AdaptiveAvgPool2d, adaptiveAvgPool2d),
  rule("BatchNorm1d/2d", BatchNormBase, batchNorm),
  rule("Flatten", Flatten, flatten),
  rule("Dropout", Dropout, unary("Identity")), // inference: the identity
  rule("Identity", Identity, unary("Identity")),
  rule("ReLU", ReLU, unary("Relu")),
  rule("LeakyReLU", LeakyReLU, unary("LeakyRelu", (m) => [float("alpha", m.negativeSlope)])),
  rule("Sigmoid", Sigmoid, unary("Sigmoid")),
  rule("Tanh", Tanh, unary("Tanh")),
  rule("GELU", GELU, gelu),
  rule("Softmax", Softmax, unary("Softmax", (m) => [int("axis", m.dim)])),
  rule("LogSoftmax", LogSoftmax, unary("LogSoftmax", (m) => [int("axis", m.dim)])),
  rule("Step", Step, step),
];

/**
 * Adds the rule for a module class defined above this layer (the Keras facade registers its
 * models and layers this way, so io never imports keras). Later rules are tried first.
 */
export function registerRule(r: Rule): void {
  (RULES as Rule[]).unshift(r);
}

/** The rule for `m`, or a clear error naming it and what is supported. */
export function ruleFor(m: Module, path: string): Rule {
  const hooks = m as unknown as { _forwardHooks: unknown[]; _forwardPreHooks: unknown[] };
  if (hooks._forwardHooks.length > 0 || hooks._forwardPreHooks.length > 0)
    throw new Error(`onnx.exportModel: ${describe(path, m)} has forward hooks, which the exported graph cannot run; remove them before exporting`);
  const found = RULES.find((r) => m instanceof r.cls && m.forward === r.cls.prototype.forward);
  if (found) return found;
  throw new Error(
    `onnx.exportModel: cannot export ${describe(path, m)}: its forward() is custom code, which the exporter does not trace. Supported modules: ${RULES.map((r) => r.name).join(", ")}. Build the model from these (e.g. in a Sequential) to export it.`,
  );
}
