/** @file Creating tensors: from JS data, constant fills, ranges, identity, and seeded random values. */
import { allocate, assertDType, type DType, dtypeOfArray, isFloating, type TypedArray } from "../base/dtype.ts";
import { defaultGenerator, type Generator } from "../tensor/random.ts";
import { checkShape, sizeOf } from "../base/shape.ts";
import { type NestedArray, Tensor } from "../tensor/tensor.ts";
import { kernels } from "./core.ts";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Draw from this generator instead of the global one. */
  generator?: Generator;
}

function finish(data: TypedArray, dtype: DType, shape: readonly number[], opts: CreateOptions | undefined): Tensor {
  const t = new Tensor(data, dtype, shape);
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function dtypeOpt(opts: CreateOptions | undefined, fallback: DType, op: string): DType {
  return opts?.dtype === undefined ? fallback : assertDType(opts.dtype, op);
}

/** Walks nested arrays: returns the shape and checks that no level is ragged. */
function nestedShape(data: unknown, op: string): { shape: number[]; hasBool: boolean } {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  let hasBool = false;
  let hasNumber = false;
  const check = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof v === "boolean") hasBool = true;
      else if (typeof v === "number") hasNumber = true;
      else
        throw new TypeError(`${op}: element ${path} is ${Array.isArray(v) ? "an array" : typeof v}, expected a number or boolean (is the array ragged?)`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth])
      throw new Error(
        `${op}: ragged nested array: expected length ${shape[depth]} at ${path || "the top level"}, got ${Array.isArray(v) ? v.length : typeof v}`,
      );
    for (let i = 0; i < v.length; i++) check(v[i], depth + 1, `${path}[${i}]`);
  };
  check(data, 0, "");
  // only all-boolean data is bool: [true, 2.5] is float32 [1, 2.5], as torch.tensor([True, 2.5])
  return { shape, hasBool: hasBool && !hasNumber };
}

/**
 * A tensor from nested arrays, a number, a boolean, a typed array (1-D) or another tensor (copied).
 * JS numbers carry no int/float distinction, so numbers become float32 unless `dtype` says otherwise;
 * booleans become bool; an Int32Array int32, a Float64Array float64.
 *
 * @example tg.tensor([[1, 2], [3, 4]], { requiresGrad: true })
 * @example tg.tensor([0, 2, 1], { dtype: "int32" })
 */
export function tensor(data: NestedArray | ArrayLike<number> | Tensor, opts?: CreateOptions): Tensor {
  if (data instanceof Tensor) {
    const dtype = dtypeOpt(opts, data.dtype, "tensor");
    return finish(kernels().copy(data, dtype), dtype, data.shape, opts);
  }
  if (ArrayBuffer.isView(data)) {
    const src = data as unknown as TypedArray;
    const dtype = dtypeOpt(opts, dtypeOfArray(src) === "bool" ? "float32" : (dtypeOfArray(src) ?? "float32"), "tensor");
    const out = allocate(dtype, src.length);
    // same element type: one memcpy (tg.tensor(floats) starts every inference call)
    if (dtype !== "bool" && dtypeOfArray(src) === dtype) out.set(src);
    else for (let i = 0; i < src.length; i++) out[i] = dtype === "bool" ? (src[i] !== 0 ? 1 : 0) : src[i]!;
    return finish(out, dtype, [src.length], opts);
  }
  if (typeof data === "number" || typeof data === "boolean") {
    const dtype = dtypeOpt(opts, typeof data === "boolean" ? "bool" : "float32", "tensor");
    const out = allocate(dtype, 1);
    out[0] = dtype === "bool" ? (Number(data) !== 0 ? 1 : 0) : Number(data);
    return finish(out, dtype, [], opts);
  }
  if (!Array.isArray(data))
    throw new TypeError(`tensor: expected nested arrays, a number, a typed array or a Tensor, got ${data === null ? "null" : typeof data}`);
  const { shape, hasBool } = nestedShape(data, "tensor");
  const dtype = dtypeOpt(opts, hasBool ? "bool" : "float32", "tensor");
  const out = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (v: unknown) => {
    if (Array.isArray(v)) for (const e of v) fill(e);
    else out[k++] = dtype === "bool" ? (Number(v) !== 0 ? 1 : 0) : Number(v); // nonzero (NaN too) is true
  };
  fill(data);
  return finish(out, dtype, shape, opts);
}

/** A tensor of `shape` filled with `value` (float32 unless `dtype`; a boolean value gives bool). */
export function full(shape: readonly number[], value: number | boolean, opts?: CreateOptions): Tensor {
  const s = checkShape(shape, "full");
  const dtype = dtypeOpt(opts, typeof value === "boolean" ? "bool" : "float32", "full");
  const data = allocate(dtype, sizeOf(s));
  if (value !== 0 && value !== false) data.fill(dtype === "bool" ? 1 : Number(value)); // a bool holds 0 or 1
  return finish(data, dtype, s, opts);
}

/** A tensor of zeros. @example tg.zeros([2, 3]) */
export const zeros = (shape: readonly number[], opts?: CreateOptions): Tensor => full(shape, 0, opts);
/** A tensor of ones. */
export const ones = (shape: readonly number[], opts?: CreateOptions): Tensor => full(shape, 1, opts);
/** Zeros with `t`'s shape and dtype. */
export const zerosLike = (t: Tensor, opts?: CreateOptions): Tensor => full(t.shape, 0, { dtype: t.dtype, ...opts });
/** Ones with `t`'s shape and dtype. */
export const onesLike = (t: Tensor, opts?: CreateOptions): Tensor => full(t.shape, 1, { dtype: t.dtype, ...opts });
/** `value` with `t`'s shape and dtype. */
export const fullLike = (t: Tensor, value: number, opts?: CreateOptions): Tensor => full(t.shape, value, { dtype: t.dtype, ...opts });

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 * Integer arguments give int32 (PyTorch gives its integer type), any fractional one float32.
 */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  for (const [name, v] of [
    ["start", start],
    ["end", end],
    ["step", step],
  ] as const)
    if (!Number.isFinite(v)) throw new RangeError(`arange: ${name} must be a finite number, got ${v}`);
  if (step === 0) throw new RangeError("arange: step must be non-zero");
  if ((end - start) * step < 0)
    throw new RangeError(`arange: the range [${start}, ${end}) cannot be walked with step ${step} (wrong sign)`);
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = dtypeOpt(opts, allInt ? "int32" : "float32", "arange");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(data, dtype, [n], opts);
}

/** `steps` evenly spaced values from `start` to `end`, both included (float32 unless `dtype`). */
export function linspace(start: number, end: number, steps: number, opts?: CreateOptions): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = dtypeOpt(opts, "float32", "linspace");
  const data = allocate(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // filled from both ends, as PyTorch does, so the last value is exactly `end`; one step is just `start`
  const half = steps === 1 ? 1 : Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) data[i] = i < half ? start + i * step : end - (steps - 1 - i) * step;
  return finish(data, dtype, [steps], opts);
}

/** The n×m identity matrix (m = n by default). */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  const s = checkShape([n, m], "eye");
  const t = zeros(s, { dtype: opts?.dtype ?? "float32" });
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function randomFill(shape: readonly number[], opts: RandomOptions | undefined, op: string, draw: (g: Generator) => number): Tensor {
  const s = checkShape(shape, op);
  const dtype = dtypeOpt(opts, "float32", op);
  if (!isFloating(dtype)) throw new TypeError(`${op}: dtype must be float32 or float64, got ${dtype}`);
  const g = opts?.generator ?? defaultGenerator;
  const data = allocate(dtype, sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = draw(g);
  return finish(data, dtype, s, opts);
}

/** Uniform samples in [0, 1) from the seeded generator. */
export const rand = (shape: readonly number[], opts?: RandomOptions): Tensor => randomFill(shape, opts, "rand", (g) => g.uniform());
/** Standard-normal samples from the seeded generator. */
export const randn = (shape: readonly number[], opts?: RandomOptions): Tensor => randomFill(shape, opts, "randn", (g) => g.normal());

/** Uniform integers in [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], opts?: { generator?: Generator }): Tensor {
  const s = checkShape(shape, "randint");
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new RangeError(`randint: expects integers low < high, got low=${low}, high=${high}`);
  const g = opts?.generator ?? defaultGenerator;
  const data = new Int32Array(sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = g.integer(low, high);
  return new Tensor(data, "int32", s);
}

/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, opts?: { generator?: Generator }): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`randperm: n must be a non-negative integer, got ${n}`);
  return new Tensor((opts?.generator ?? defaultGenerator).permutation(n), "int32", [n]);
}
