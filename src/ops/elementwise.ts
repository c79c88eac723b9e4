/** @file Elementwise ops: unary math, binary arithmetic with broadcasting and type promotion, comparisons, where. */
import { type BinaryKernel, COMPARISONS, type UnaryKernel } from "../backend/backend.ts";
import { type DType, isFloating } from "../base/dtype.ts";
import { broadcastShapes, formatShape } from "../base/shape.ts";
import { Tensor, type TensorLike } from "../tensor/tensor.ts";
import { asTensor, broadcastView, checkTensor, checkTensorLike, fromKernel, kernels, promote, record, scalarTensor } from "./core.ts";

type DiffUnary = "neg" | "abs" | "exp" | "log" | "sqrt" | "rsqrt" | "sin" | "cos" | "tanh" | "sigmoid" | "relu" | "erf";

/** Unary float math: integer and bool inputs are computed in float32, like PyTorch's `exp(int_tensor)`. */
function unaryFloat(op: DiffUnary, x: Tensor): Tensor {
  checkTensor(x, op);
  const input = isFloating(x.dtype) ? x : asTensor(x, "float32");
  return record(op, [input], fromKernel(kernels().unary(op, input), input.dtype, input.shape), null);
}

/** Unary ops that keep integer dtypes (neg, abs, relu, sign). */
function unaryKeep(op: "neg" | "abs" | "relu", x: Tensor): Tensor {
  checkTensor(x, op);
  if (x.dtype === "bool") throw new TypeError(`${op}: not supported for bool tensors (convert with .to("int32") first)`);
  return record(op, [x], fromKernel(kernels().unary(op, x), x.dtype, x.shape), null);
}

export const neg = (x: Tensor): Tensor => unaryKeep("neg", x);
export const abs = (x: Tensor): Tensor => unaryKeep("abs", x);
export const relu = (x: Tensor): Tensor => unaryKeep("relu", x);
export const exp = (x: Tensor): Tensor => unaryFloat("exp", x);
export const log = (x: Tensor): Tensor => unaryFloat("log", x);
export const sqrt = (x: Tensor): Tensor => unaryFloat("sqrt", x);
export const rsqrt = (x: Tensor): Tensor => unaryFloat("rsqrt", x);
export const sin = (x: Tensor): Tensor => unaryFloat("sin", x);
export const cos = (x: Tensor): Tensor => unaryFloat("cos", x);
export const tanh = (x: Tensor): Tensor => unaryFloat("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unaryFloat("sigmoid", x);
export const erf = (x: Tensor): Tensor => unaryFloat("erf", x);

/** -1, 0 or 1 by sign (not differentiable: its derivative is 0 almost everywhere). */
export function sign(x: Tensor): Tensor {
  checkTensor(x, "sign");
  return fromKernel(kernels().unary("sign", x), x.dtype, x.shape);
}

function runBinary(op: BinaryKernel, a: Tensor, b: Tensor, name: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const data = kernels().binary(op, broadcastView(a, shape), broadcastView(b, shape), shape);
  return fromKernel(data, COMPARISONS.has(op) ? "bool" : a.dtype, shape);
}

/** Arithmetic with broadcasting; `compute` overrides the promoted dtype (true division of ints). */
function arith(op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum", a: TensorLike, b: TensorLike): Tensor {
  checkTensorLike(a, op, "first argument");
  checkTensorLike(b, op, "second argument");
  let dtype = promote(a, b);
  if (op === "div" && !isFloating(dtype)) dtype = "float32";
  if (dtype === "bool" && op !== "maximum" && op !== "minimum" && op !== "mul" && op !== "add")
    throw new TypeError(`${op}: not supported for two bool operands (convert with .to("int32") first)`);
  const ta = asTensor(a, dtype);
  const tb = asTensor(b, dtype);
  const out = runBinary(op, ta, tb, op);
  if (dtype === "bool" && (op === "add" || op === "mul")) {
    // bool + bool is logical or, bool * bool logical and (PyTorch)
    for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i] ? 1 : 0;
  }
  return record(op, [ta, tb], out, null);
}

/** Elementwise `a + b` with broadcasting. @example tg.add(x, 1) */
export const add = (a: TensorLike, b: TensorLike): Tensor => arith("add", a, b);
/** Elementwise `a - b` with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => arith("sub", a, b);
/** Elementwise `a * b` with broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => arith("mul", a, b);
/** Elementwise true division `a / b` (integers give float32, as in PyTorch). */
export const div = (a: TensorLike, b: TensorLike): Tensor => arith("div", a, b);
/** Elementwise `a ** b`. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => arith("pow", a, b);
/** Elementwise maximum (NaN propagates; ties share the gradient). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => arith("maximum", a, b);
/** Elementwise minimum. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => arith("minimum", a, b);

function compare(op: "eq" | "ne" | "gt" | "ge" | "lt" | "le", a: TensorLike, b: TensorLike): Tensor {
  checkTensorLike(a, op, "first argument");
  checkTensorLike(b, op, "second argument");
  const dtype = promote(a, b);
  return runBinary(op, asTensor(a, dtype), asTensor(b, dtype), op);
}

export const eq = (a: TensorLike, b: TensorLike): Tensor => compare("eq", a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare("ne", a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare("gt", a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare("ge", a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare("lt", a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => compare("le", a, b);

export function logicalNot(x: Tensor): Tensor {
  checkTensor(x, "logicalNot");
  const b = asTensor(x, "bool");
  return fromKernel(kernels().unary("logicalNot", b), "bool", b.shape);
}
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => mul(asBool(a), asBool(b));
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => add(asBool(a), asBool(b));
const asBool = (x: TensorLike): Tensor => (x instanceof Tensor ? asTensor(x, "bool") : scalarTensor(x, "bool"));

/**
 * Elementwise choice: `condition ? x : y`, all three broadcast together.
 * @example tg.where(x.gt(0), x, 0) // relu
 */
export function where(condition: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  checkTensorLike(condition, "where", "condition");
  checkTensorLike(x, "where", "x");
  checkTensorLike(y, "where", "y");
  const c = condition instanceof Tensor ? condition : scalarTensor(condition, "bool");
  if (c.dtype !== "bool") throw new TypeError(`where: condition must be a bool tensor, got dtype ${c.dtype} (use a comparison like x.gt(0))`);
  const dtype: DType = promote(x, y);
  const tx = asTensor(x, dtype);
  const ty = asTensor(y, dtype);
  const shape = broadcastShapes(broadcastShapes(c.shape, tx.shape, "where"), ty.shape, "where");
  const data = kernels().where(broadcastView(c, shape), broadcastView(tx, shape), broadcastView(ty, shape), shape);
  return record("where", [c, tx, ty], fromKernel(data, dtype, shape), null);
}

/** x² (as `x * x`). */
export const square = (x: Tensor): Tensor => mul(x, x);

/** `x` where `x > 0`, else `negativeSlope * x`. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkTensor(x, "leakyRelu");
  return where(x.gt(0), x, x.mul(negativeSlope));
}

/** GELU, exact form `x · Φ(x) = x · ½(1 + erf(x/√2))` (PyTorch's default). */
export function gelu(x: Tensor): Tensor {
  checkTensor(x, "gelu");
  return x.mul(erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
}

/** Heaviside step: 1 where x > 0, else 0, in x's dtype (the lectures' step function; no gradient). */
export function step(x: Tensor): Tensor {
  checkTensor(x, "step");
  return x.gt(0).to(x.dtype);
}

/** Limits values to [min, max]; either bound may be null. The gradient passes where the bound is not active. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, "clamp");
  if ((min === undefined || min === null) && (max === undefined || max === null))
    throw new Error("clamp: at least one of min or max must be given");
  let out = x;
  if (min !== undefined && min !== null) out = where(out.lt(min), asTensor(min, promote(x, min)), out);
  if (max !== undefined && max !== null) out = where(out.gt(max), asTensor(max, promote(out, max)), out);
  return out;
}

/** Throws unless the two tensors have exactly the same shape (for ops that do not broadcast). */
export function checkSameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    throw new Error(`${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} must be equal`);
}

export type { UnaryKernel };
