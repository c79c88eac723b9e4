/** @file Data types, their storage arrays, and PyTorch's type-promotion rules. */

/** The element types a tensor can hold. `float32` is the default. */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The typed array that stores each dtype (bool is one byte per element, 0 or 1). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface ArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

/** Allocates a zero-filled storage array of `n` elements for `dtype`. */
export function allocate(dtype: DType, n: number): TypedArray {
  // one monomorphic `new` per dtype: V8 inlines these, while `new CTORS[dtype](n)` goes through the generic constructor
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    default:
      return new CTORS[dtype](n);
  }
}

/** The dtype a typed array stores, or undefined for an unsupported array type. */
export function dtypeOfArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array) return "bool";
  return undefined;
}

export function isFloating(d: DType): boolean {
  return d === "float32" || d === "float64";
}

export function assertDType(d: unknown, op: string): DType {
  if (d === "float32" || d === "float64" || d === "int32" || d === "bool") return d;
  throw new TypeError(`${op}: unknown dtype ${JSON.stringify(d)} (expected one of ${DTYPES.join(", ")})`);
}

/** 0 = bool, 1 = integer, 2 = floating: PyTorch promotes across categories first. */
function category(d: DType): number {
  return d === "bool" ? 0 : d === "int32" ? 1 : 2;
}

/** The smallest dtype both `a` and `b` convert to without losing their category (torch.promote_types). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return "float32";
  if (a === "int32" || b === "int32") return "int32";
  return "bool";
}

/** What an operand of an op contributes to the result dtype. */
export interface Operand {
  dtype: DType;
  /** 2 = tensor with dims, 1 = 0-d tensor, 0 = plain JS number ("wrapped number"). */
  priority: 0 | 1 | 2;
}

/**
 * PyTorch's `result_type`: a 0-d tensor or a number only changes the result when it is of a
 * higher category (bool < int < float) than every dimensioned operand; a float number
 * then gives the default dtype float32, never float64.
 */
export function resultType(operands: readonly Operand[]): DType {
  const best: (DType | undefined)[] = [undefined, undefined, undefined];
  for (const o of operands) {
    const cur = best[o.priority];
    best[o.priority] = cur === undefined ? o.dtype : promoteTypes(cur, o.dtype);
  }
  let result: DType | undefined = best[2];
  for (const p of [1, 0] as const) {
    const d = best[p];
    if (d === undefined) continue;
    if (result === undefined) {
      result = p === 0 && d === "float64" ? "float32" : d;
    } else if (category(d) > category(result)) {
      result = p === 0 && isFloating(d) ? "float32" : d;
    }
  }
  return result ?? "float32";
}

/** The dtype PyTorch infers for a JS number: integers become int32 (tensorgrad has no int64), others float32. */
export function numberDType(v: number | boolean): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int32" : "float64";
}
