/**
 * @file ONNX's elementwise, activation, comparison, reduction and softmax ops as tensorgrad ops
 * (each rule is a few tensor ops, so gradients come from tensorgrad's own rules). Broadcasting
 * is numpy's, which tensorgrad's binary ops already follow.
 */
import { type DType, isFloating } from "../../base/dtype.ts";
import { formatShape, normalizeDim } from "../../base/shape.ts";
import * as ops from "../../ops/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { DataType } from "../onnx-fields.ts";
import { type Attrs, axesOf, numbers, type OpRule, req, scalar } from "./attrs.ts";
import { checkShapeValues, MAX_ELEMENTS } from "./ops-shape.ts";
import { dtypeFor, onnxTypeOf } from "./tensors.ts";

const unary = (f: (x: Tensor, a: Attrs) => Tensor): OpRule => (x, a) => f(req(x, 0), a);

/** A binary op whose result keeps the first operand's dtype (ONNX: both operands have one type). */
const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpRule => (x) => {
  const a = req(x, 0);
  const b = req(x, 1);
  const out = f(a, b.dtype === a.dtype ? b : b.to(a.dtype));
  return out.dtype === a.dtype || out.dtype === "bool" ? out : out.to(a.dtype);
};

/** Integer division truncates, as in C (ONNX's Div on integer types). */
function divide(a: Tensor, b: Tensor): Tensor {
  const q = ops.div(a, b);
  if (isFloating(a.dtype)) return q;
  return q.to("int32");
}

const variadic = (f: (a: Tensor, b: Tensor) => Tensor): OpRule => (x) => {
  const ts = x.filter((t): t is Tensor => t !== undefined);
  if (ts.length === 0) throw new Error("expects at least one input");
  return ts.slice(1).reduce((acc, t) => f(acc, t), ts[0]!);
};

const floatOnly = (x: Tensor): Tensor => (isFloating(x.dtype) ? x : x.to("float32"));
const softplus = (x: Tensor): Tensor => ops.where(x.gt(20), x, x.exp().add(1).log()); // log(1 + eˣ), linear where it would overflow
const hardSigmoid = (x: Tensor, alpha: number, beta: number): Tensor => x.mul(alpha).add(beta).clamp(0, 1);

/** ONNX's reduce ops: axes from the attribute (or, for ReduceSum from opset 13, the second input); none means all. */
function reduce(f: (x: Tensor, axes: number[], keep: boolean) => Tensor, axesInput: (opset: number) => boolean): OpRule {
  return (x, a, opset) => {
    const input = req(x, 0);
    const keep = a.int("keepdims", 1) !== 0;
    const given = axesInput(opset) ? (x[1] === undefined ? undefined : numbers(x[1], "axes")) : a.ints("axes");
    if ((given === undefined || given.length === 0) && a.int("noop_with_empty_axes", 0) === 1) return input;
    const axes = given === undefined || given.length === 0 ? input.shape.map((_, i) => i) : axesOf(given, input.ndim, "reduce");
    return f(input, axes, keep);
  };
}
const attrAxes = () => false;

/** Softmax-like ops: from opset 13 along one axis (default -1); before, over the dims from `axis` (default 1) flattened. */
function softmaxLike(f: (x: Tensor, dim: number) => Tensor): OpRule {
  return (x, a, opset) => {
    const input = req(x, 0);
    if (opset >= 13) return f(input, a.int("axis", -1));
    const axis = normalizeDim(a.int("axis", 1), Math.max(input.ndim, 1), "softmax");
    const rows = input.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    return f(input.reshape([rows, -1]), 1).reshape(input.shape);
  };
}

function argReduce(which: "argmax" | "argmin"): OpRule {
  return (x, a) => {
    const input = req(x, 0);
    const axis = normalizeDim(a.int("axis", 0), input.ndim, which);
    const keep = a.int("keepdims", 1) !== 0;
    const reduceArg = which === "argmax" ? ops.argmax : ops.argmin;
    if (a.int("select_last_index", 0) === 0) return reduceArg(input, axis, keep);
    const n = input.shape[axis]!;
    const reversed = ops.tensor(Array.from({ length: n }, (_, i) => n - 1 - i), { dtype: "int32" });
    const args: (number | null | Tensor)[] = input.shape.map(() => null);
    args[axis] = reversed;
    return ops.sub(n - 1, reduceArg(input.index(...args), axis, keep));
  };
}

function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === "bool" && x.dtype !== "bool") return x.ne(0);
  return x.to(dtype);
}

/** Along `axis`, y = x · M for an [n, n] 0/1 matrix M (CumSum's running sums as one matmul, so it is differentiable). */
function alongAxis(x: Tensor, axis: number, m: (i: number, j: number) => boolean): Tensor {
  const n = x.shape[axis]!;
  if (n * n > MAX_ELEMENTS) throw new Error(`CumSum over ${n} positions is too long for its [n, n] matmul form`);
  const data: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data.push(m(i, j) ? 1 : 0);
  const xf = floatOnly(x);
  const y = xf.transpose(axis, -1).matmul(ops.tensor(data, { dtype: xf.dtype }).reshape([n, n])).transpose(axis, -1);
  return y.dtype === x.dtype ? y : y.to(x.dtype);
}

/** A bool mask of `shape`'s last two dims, true where `keep(row, col)`. */
function matrixMask(shape: readonly number[], keep: (i: number, j: number) => boolean): Tensor {
  const [r, c] = [shape[shape.length - 2] ?? 1, shape[shape.length - 1] ?? 1];
  const data: boolean[] = [];
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data.push(keep(i, j));
  return ops.tensor(data, { dtype: "bool" }).reshape([r, c]);
}

/**
 * Rounds floats with `f(t, x)` where t is x truncated toward zero (through int32; values of
 * magnitude ≥ 2³¹, ±∞ and NaN are integral already and pass through). No gradient (it is 0 almost everywhere).
 */
function integral(x: Tensor, f: (t: Tensor, x: Tensor) => Tensor): Tensor {
  if (!isFloating(x.dtype)) return x;
  const v = x.detach();
  const big = v.abs().ge(2 ** 31).logicalOr(v.ne(v));
  const safe = ops.where(big, 0, v);
  return ops.where(big, v, f(safe.to("int32").to(x.dtype), safe));
}
const floor = (x: Tensor) => integral(x, (t, v) => t.sub(t.gt(v).to(v.dtype)));
const ceil = (x: Tensor) => integral(x, (t, v) => t.add(t.lt(v).to(v.dtype)));
/** Rounds half to even, as ONNX's Round (and NumPy) do. */
const round = (x: Tensor) =>
  integral(x, (_t, v) => {
    const fl = floor(v);
    const frac = v.sub(fl);
    const odd = fl.sub(floor(fl.div(2)).mul(2)).ne(0);
    return ops.where(frac.gt(0.5).logicalOr(frac.eq(0.5).logicalAnd(odd)), fl.add(1), fl);
  });

/** ONNX Mod: the sign of the divisor (fmod 0, integers only) or of the dividend (fmod 1, C's fmod); computed in float64. */
function mod(a: Tensor, b: Tensor, fmod: boolean): Tensor {
  const [x, y] = [a.to("float64"), b.to("float64")];
  const q = x.div(y);
  const whole = fmod ? integral(q, (t) => t) : floor(q);
  const r = x.sub(whole.mul(y));
  return r.dtype === a.dtype ? r : r.to(a.dtype);
}

/**
 * The product over `axes` as sign · exp(Σ log|x|) in float64 (exact to float32 precision), zero
 * where a factor is zero. Its gradient is product / x, except at zero factors (there: 0).
 */
function product(x: Tensor, axes: number[], keep: boolean): Tensor {
  const v = x.to("float64");
  const zero = v.eq(0);
  const magnitude = ops.where(zero, 1, v).abs().log().sum(axes, keep).exp();
  const negatives = v.lt(0).sum(axes, keep);
  const sign = ops.sub(1, negatives.sub(negatives.div(2).to("int32").mul(2)).mul(2));
  const p = ops.where(zero.sum(axes, keep).gt(0), 0, magnitude.mul(sign));
  return p.dtype === x.dtype ? p : p.to(x.dtype);
}

/**
 * Einsum as one broadcast product and a sum: every operand is laid out over all the equation's
 * letters (a repeated letter within an operand takes the diagonal, as a product with an identity
 * mask), multiplied together, and the letters not in the output summed away. Differentiable; the
 * intermediate has one dim per letter (phase 2: pairwise matmuls for large contractions).
 */
function einsum(equation: string, xs: Tensor[]): Tensor {
  const [lhs, rhs] = equation.replace(/\s/g, "").split("->") as [string, string | undefined];
  const terms = lhs.split(",");
  if (terms.length !== xs.length) throw new Error(`equation "${equation}" has ${terms.length} operands, got ${xs.length} inputs`);
  const ellipsisRank = Math.max(0, ...terms.map((t, i) => (t.includes("...") ? xs[i]!.ndim - t.replace("...", "").length : 0)));
  const dots = Array.from({ length: ellipsisRank }, (_, i) => String.fromCharCode(0x100 + i));
  const expand = (t: string, ndim: number) => {
    const n = ndim - t.replace("...", "").length;
    return [...t.replace("...", "\0")].flatMap((c) => (c === "\0" ? dots.slice(ellipsisRank - n) : [c]));
  };
  const operands = terms.map((t, i) => expand(t, xs[i]!.ndim));
  const counts = new Map<string, number>();
  for (const o of operands) for (const c of o) counts.set(c, (counts.get(c) ?? 0) + 1);
  const out = rhs === undefined ? [...dots, ...[...counts.keys()].filter((c) => !dots.includes(c) && counts.get(c) === 1).sort()] : expand(rhs, ellipsisRank + rhs.replace("...", "").length);
  const letters = [...new Set([...out, ...operands.flat()])];
  let product: Tensor | null = null;
  operands.forEach((o, i) => {
    let t = xs[i]!;
    if (o.length !== t.ndim) throw new Error(`operand ${i} ("${terms[i]}") does not match its shape ${formatShape(t.shape)}`);
    let names = [...o];
    for (let p = 0; p < names.length; p++) {
      const q = names.indexOf(names[p]!, p + 1);
      if (q < 0) continue;
      const n = t.shape[p]!;
      const eye = ops.eye(n).to(t.dtype).reshape(t.shape.map((_, k) => (k === p || k === q ? n : 1)));
      t = t.mul(eye).sum(q);
      names.splice(q, 1);
      p--;
    }
    const perm = letters.filter((c) => names.includes(c)).map((c) => names.indexOf(c));
    t = t.permute(perm);
    names = perm.map((k) => names[k]!);
    t = t.reshape(letters.map((c) => (names.includes(c) ? t.shape[names.indexOf(c)]! : 1)));
    product = product === null ? t : product.mul(t);
  });
  const summed = letters.map((c, k) => (out.includes(c) ? -1 : k)).filter((k) => k >= 0);
  const y = summed.length > 0 ? product!.sum(summed) : product!;
  const kept = letters.filter((c) => out.includes(c));
  return y.permute(out.map((c) => kept.indexOf(c)));
}

/** Saturates to ONNX type `code`'s range (uint8 unless it is int8). */
const saturateTo = (x: Tensor, code: number) => (code === DataType.INT8 ? x.clamp(-128, 127) : x.clamp(0, 255));
/** A per-axis [C] parameter shaped to broadcast along `axis` of an x with `ndim` dims; scalars broadcast as they are. */
function alongDim(p: Tensor, axis: number, ndim: number): Tensor {
  if (p.numel() === 1) return p.reshape([]);
  const d = normalizeDim(axis, ndim, "quantization axis");
  return p.reshape(Array.from({ length: ndim }, (_, i) => (i === d ? -1 : 1)));
}

export const MATH_OPS: Record<string, OpRule> = {
  Einsum: (x, a) => einsum(a.string("equation", ""), x.filter((t): t is Tensor => t !== undefined)),
  QuantizeLinear: (x, a) => {
    const input = req(x, 0);
    const axis = a.int("axis", 1);
    const zp = x[2];
    const q = round(floatOnly(input).div(alongDim(req(x, 1), axis, input.ndim)));
    const shifted = zp === undefined ? q : q.add(alongDim(zp, axis, input.ndim));
    return saturateTo(shifted, zp === undefined ? DataType.UINT8 : (onnxTypeOf(zp) ?? DataType.UINT8)).to("int32");
  },
  DequantizeLinear: (x, a) => {
    const input = req(x, 0);
    const axis = a.int("axis", 1);
    const zp = x[2];
    const centered = zp === undefined ? input.to("float32") : input.to("float32").sub(alongDim(zp, axis, input.ndim));
    return centered.mul(alongDim(req(x, 1), axis, input.ndim));
  },
  DynamicQuantizeLinear: (x) => {
    const input = req(x, 0);
    const lo = ops.minimum(ops.amin(input), 0);
    const hi = ops.maximum(ops.amax(input), 0);
    const scale = hi.sub(lo).div(255);
    const zp = saturateTo(round(ops.neg(lo).div(scale)), DataType.UINT8);
    return [saturateTo(round(input.div(scale)).add(zp), DataType.UINT8).to("int32"), scale, zp.to("int32")];
  },
  MeanVarianceNormalization: unary((x, a) => {
    const axes = axesOf(a.ints("axes") ?? [0, 2, 3], x.ndim, "MeanVarianceNormalization");
    const centered = x.sub(x.mean(axes, true));
    return centered.div(centered.square().mean(axes, true).sqrt().add(1e-9));
  }),
  Floor: unary(floor),
  Ceil: unary(ceil),
  Round: unary(round),
  Mod: (x, a) => mod(req(x, 0), req(x, 1), a.int("fmod", 0) === 1),
  CumSum: (x, a) => {
    const input = req(x, 0);
    const axis = normalizeDim(scalar(x[1], 0, "axis")!, input.ndim, "CumSum");
    const [exclusive, reverse] = [a.int("exclusive", 0) === 1, a.int("reverse", 0) === 1];
    return alongAxis(input, axis, (i, j) => (reverse ? (exclusive ? i > j : i >= j) : exclusive ? i < j : i <= j));
  },
  Trilu: (x, a) => {
    const input = req(x, 0);
    const k = scalar(x[1], 0, "k")!;
    const upper = a.int("upper", 1) === 1;
    return ops.where(matrixMask(input.shape, (i, j) => (upper ? j - i >= k : j - i <= k)), input, ops.zeros([], { dtype: input.dtype }));
  },
  EyeLike: (x, a) => {
    const input = req(x, 0);
    const k = a.int("k", 0);
    const dtype = a.has("dtype") ? dtypeFor(a.int("dtype", DataType.FLOAT), "EyeLike's dtype") : input.dtype;
    return matrixMask(input.shape, (i, j) => j - i === k).to(dtype);
  },
  Hardmax: softmaxLike((t, dim) => {
    const d = normalizeDim(dim, t.ndim, "Hardmax");
    const n = t.shape[d]!;
    const hot = ops.argmax(t, d, true).eq(ops.arange(0, n, 1, { dtype: "int32" }).reshape(t.shape.map((_, i) => (i === d ? n : 1))));
    return hot.to(t.dtype);
  }),
  OneHot: (x, a) => {
    const indices = req(x, 0);
    const depth = scalar(req(x, 1), 0, "depth")!;
    checkShapeValues([...indices.shape, depth], "OneHot");
    const [off, on] = numbers(req(x, 2), "values");
    const axis = a.int("axis", -1);
    const d = axis < 0 ? axis + indices.ndim + 1 : axis;
    const idx = ops.where(indices.lt(0), indices.add(depth), indices).unsqueeze(d);
    const classes = ops.arange(0, depth, 1, { dtype: "int32" }).reshape(idx.shape.map((_, i) => (i === d ? depth : 1)));
    return ops.where(idx.eq(classes), on!, off!).to(req(x, 2).dtype);
  },
  Sinh: unary((x) => x.exp().sub(x.neg().exp()).div(2)),
  Cosh: unary((x) => x.exp().add(x.neg().exp()).div(2)),
  Shrink: unary((x, a) => {
    const [bias, lambd] = [a.float("bias", 0), a.float("lambd", 0.5)];
    return ops.where(x.lt(-lambd), x.add(bias), ops.where(x.gt(lambd), x.sub(bias), 0)).to(x.dtype);
  }),
  Add: binary(ops.add),
  Sub: binary(ops.sub),
  Mul: binary(ops.mul),
  Div: binary(divide),
  Pow: (x) => {
    const base = req(x, 0);
    const out = ops.pow(floatOnly(base), floatOnly(req(x, 1)));
    return out.dtype === base.dtype ? out : out.to(base.dtype);
  },
  Max: variadic(ops.maximum),
  Min: variadic(ops.minimum),
  Sum: variadic(ops.add),
  Mean: (x, a, opset, outputs) => ops.div(variadic(ops.add)(x, a, opset, outputs) as Tensor, x.filter((t) => t !== undefined).length),
  Neg: unary(ops.neg),
  Abs: unary(ops.abs),
  Sign: unary(ops.sign),
  Exp: unary(ops.exp),
  Log: unary(ops.log),
  Sqrt: unary(ops.sqrt),
  Reciprocal: unary((x) => ops.div(1, x)),
  Sin: unary(ops.sin),
  Cos: unary(ops.cos),
  Tan: unary((x) => x.sin().div(x.cos())),
  Erf: unary(ops.erf),
  Relu: unary(ops.relu),
  LeakyRelu: unary((x, a) => ops.leakyRelu(x, a.float("alpha", 0.01))),
  PRelu: (x) => {
    const input = req(x, 0);
    return ops.where(input.lt(0), input.mul(req(x, 1)), input);
  },
  Sigmoid: unary(ops.sigmoid),
  HardSigmoid: unary((x, a) => hardSigmoid(x, a.float("alpha", 0.2), a.float("beta", 0.5))),
  HardSwish: unary((x) => x.mul(hardSigmoid(x, 1 / 6, 0.5))),
  Tanh: unary(ops.tanh),
  Elu: unary((x, a) => ops.where(x.lt(0), x.exp().sub(1).mul(a.float("alpha", 1)), x)),
  Celu: unary((x, a) => {
    const alpha = a.float("alpha", 1);
    return x.relu().add(x.div(alpha).exp().sub(1).mul(alpha).minimum(0));
  }),
  Selu: unary((x, a) => ops.where(x.le(0), x.exp().sub(1).mul(a.float("alpha", 1.6732631921768188)), x).mul(a.float("gamma", 1.0507010221481323))),
  ThresholdedRelu: unary((x, a) => ops.where(x.gt(a.float("alpha", 1)), x, 0)),
  Softplus: unary(softplus),
  Softsign: unary((x) => x.div(x.abs().add(1))),
  Mish: unary((x) => x.mul(softplus(x).tanh())),
  Gelu: unary((x, a) => {
    if (a.string("approximate", "none") !== "tanh") return ops.gelu(x);
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(inner.tanh().add(1)).mul(0.5);
  }),
  Softmax: softmaxLike(ops.softmax),
  LogSoftmax: softmaxLike(ops.logSoftmax),
  Clip: (x, a, opset) => {
    const input = req(x, 0);
    const lo = opset < 11 ? a.float("min", Number.NEGATIVE_INFINITY) : scalar(x[1], null, "min");
    const hi = opset < 11 ? a.float("max", Number.POSITIVE_INFINITY) : scalar(x[2], null, "max");
    const finite = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
    if (finite(lo) === null && finite(hi) === null) return input;
    return input.clamp(finite(lo), finite(hi));
  },
  Equal: binary(ops.eq),
  Greater: binary(ops.gt),
  GreaterOrEqual: binary(ops.ge),
  Less: binary(ops.lt),
  LessOrEqual: binary(ops.le),
  Not: unary(ops.logicalNot),
  And: (x) => ops.logicalAnd(req(x, 0), req(x, 1)),
  Or: (x) => ops.logicalOr(req(x, 0), req(x, 1)),
  Xor: (x) => ops.ne(req(x, 0), req(x, 1)),
  IsNaN: unary((x) => x.ne(x)),
  IsInf: unary((x, a) => {
    const pos = a.int("detect_positive", 1) !== 0 ? x.eq(Number.POSITIVE_INFINITY) : ops.zerosLike(x).ne(0);
    const neg = a.int("detect_negative", 1) !== 0 ? x.eq(Number.NEGATIVE_INFINITY) : ops.zerosLike(x).ne(0);
    return ops.logicalOr(pos, neg);
  }),
  Where: (x) => {
    const c = req(x, 0);
    return ops.where(c.dtype === "bool" ? c : c.ne(0), req(x, 1), req(x, 2));
  },
  Cast: (x, a) => cast(req(x, 0), dtypeFor(a.int("to", DataType.FLOAT), "Cast's target")),
  CastLike: (x) => cast(req(x, 0), req(x, 1).dtype),
  ReduceSum: reduce((x, axes, keep) => x.sum(axes, keep), (opset) => opset >= 13),
  ReduceMean: reduce((x, axes, keep) => floatOnly(x).mean(axes, keep), attrAxes),
  ReduceMax: reduce((x, axes, keep) => ops.amax(x, axes, keep), attrAxes),
  ReduceMin: reduce((x, axes, keep) => ops.amin(x, axes, keep), attrAxes),
  ReduceL1: reduce((x, axes, keep) => x.abs().sum(axes, keep), attrAxes),
  ReduceL2: reduce((x, axes, keep) => floatOnly(x.mul(x).sum(axes, keep)).sqrt(), attrAxes),
  ReduceSumSquare: reduce((x, axes, keep) => x.mul(x).sum(axes, keep), attrAxes),
  ReduceLogSum: reduce((x, axes, keep) => floatOnly(x.sum(axes, keep)).log(), attrAxes),
  ReduceLogSumExp: reduce((x, axes, keep) => ops.logSumExp(x, axes, keep), attrAxes),
  ReduceProd: reduce(product, attrAxes),
  ArgMax: argReduce("argmax"),
  ArgMin: argReduce("argmin"),
};
