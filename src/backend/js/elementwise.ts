/** @file Reference elementwise kernels: unary, binary, where and dtype copies over any strides. */
import { allocate, type DType, type TypedArray } from "../../base/dtype.ts";
import { sizeOf } from "../../base/shape.ts";
import { type BinaryKernel, COMPARISONS, type StridedView, type UnaryKernel } from "../backend.ts";
import { isRowMajor, offsetsOf } from "../../base/strided.ts";

/** erf(x) to ~1e-14: Maclaurin series near 0, a continued fraction for erfc further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // continued fraction for erfc, accurate for larger |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const UNARY: Record<UnaryKernel, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x),
  erf,
  logicalNot: (x) => (x ? 0 : 1),
};

/** int32 results wrap on store, like C; true division of ints is done in float by the front end. */
const BINARY: Record<BinaryKernel, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: Math.max, // NaN propagates, as in PyTorch
  minimum: Math.min,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
};

export function copy(x: StridedView, dtype: DType): TypedArray {
  const n = sizeOf(x.shape);
  const out = allocate(dtype, n);
  const src = x.data;
  const offs = offsetsOf(x, n);
  // to bool: nonzero is true, NaN included (PyTorch), which JS truthiness gets wrong for NaN
  const toBool = dtype === "bool";
  if (offs === null) {
    // the builtin set (with its subarray) only pays off beyond a few dozen elements
    if (!toBool && n > 32 && src.constructor === out.constructor) {
      out.set(src.subarray(x.offset, x.offset + n) as never);
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = toBool ? (src[x.offset + i] !== 0 ? 1 : 0) : src[x.offset + i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = toBool ? (src[offs[i]!] !== 0 ? 1 : 0) : src[offs[i]!]!;
  }
  return out;
}

export function unary(op: UnaryKernel, x: StridedView): TypedArray {
  const n = sizeOf(x.shape);
  const out = allocate(x.dtype, n);
  const f = UNARY[op];
  const src = x.data;
  const offs = offsetsOf(x, n);
  if (offs === null) {
    const o = x.offset;
    for (let i = 0; i < n; i++) out[i] = f(src[o + i]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = f(src[offs[i]!]!);
  }
  return out;
}

/** True when every element of the view is one storage element (a broadcast scalar: stride 0 on every axis longer than 1). */
function isSplat(v: StridedView): boolean {
  for (let i = 0; i < v.shape.length; i++) if (v.strides[i] !== 0 && v.shape[i] !== 1) return false;
  return true;
}

export function binary(op: BinaryKernel, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const n = sizeOf(shape);
  const out = allocate(COMPARISONS.has(op) ? "bool" : a.dtype, n);
  const f = op === "mul" && a.dtype === "int32" ? Math.imul : BINARY[op];
  const da = a.data;
  const db = b.data;
  // a scalar broadcast against a dense operand (x * 2, 1 - x, a gradient expanded from a sum): no offset table
  if (n > 0 && isSplat(b) && isRowMajor(a)) {
    const pa = a.offset;
    const vb = db[b.offset]!;
    for (let i = 0; i < n; i++) out[i] = f(da[pa + i]!, vb);
    return out;
  }
  if (n > 0 && isSplat(a) && isRowMajor(b)) {
    const va = da[a.offset]!;
    const pb = b.offset;
    for (let i = 0; i < n; i++) out[i] = f(va, db[pb + i]!);
    return out;
  }
  const oa = offsetsOf(a, n);
  const ob = offsetsOf(b, n);
  if (oa === null && ob === null) {
    const pa = a.offset;
    const pb = b.offset;
    if (op === "add") for (let i = 0; i < n; i++) out[i] = da[pa + i]! + db[pb + i]!;
    else if (op === "mul") for (let i = 0; i < n; i++) out[i] = f(da[pa + i]!, db[pb + i]!);
    else for (let i = 0; i < n; i++) out[i] = f(da[pa + i]!, db[pb + i]!);
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = f(da[oa === null ? a.offset + i : oa[i]!]!, db[ob === null ? b.offset + i : ob[i]!]!);
    }
  }
  return out;
}

export function where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const n = sizeOf(shape);
  const out = allocate(a.dtype, n);
  const oc = offsetsOf(cond, n);
  const oa = offsetsOf(a, n);
  const ob = offsetsOf(b, n);
  for (let i = 0; i < n; i++) {
    const c = cond.data[oc === null ? cond.offset + i : oc[i]!];
    out[i] = c ? a.data[oa === null ? a.offset + i : oa[i]!]! : b.data[ob === null ? b.offset + i : ob[i]!]!;
  }
  return out;
}
