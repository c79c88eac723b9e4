/**
 * @file ONNX tensors as tensorgrad tensors: TensorProto.DataType codes, their tensorgrad dtypes
 * (every integer type is int32, saturated: int64's ±2⁶³ sentinels, as Slice uses, stay "very
 * large"; float16 / bfloat16 widen to float32), and the decoding of a TensorProto's payload,
 * whose size is checked against its dims before anything is allocated.
 */
import type { DType, TypedArray } from "../../base/dtype.ts";
import { allocate } from "../../base/dtype.ts";
import { formatShape } from "../../base/shape.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { DataType } from "../onnx-fields.ts";
import type { TensorProto } from "./proto.ts";

/** TensorProto.DataType names by code ("undefined", "float", …; DataType lists them in code order). */
export const ONNX_TYPES: readonly string[] = Object.keys(DataType).map((name) => name.toLowerCase());

/** Bytes per element in raw_data, by DataType code (0: no fixed-size raw form). */
const RAW_SIZE = [0, 4, 1, 1, 2, 2, 4, 8, 0, 1, 2, 8, 4, 8, 8, 16, 2];

export function onnxTypeName(code: number): string {
  return ONNX_TYPES[code] ?? `type ${code}`;
}

/** The tensorgrad dtype that holds ONNX type `code`, or an Error naming the type and `what`. */
export function dtypeFor(code: number, what: string): DType {
  switch (code) {
    case DataType.FLOAT:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return "float32";
    case DataType.DOUBLE:
      return "float64";
    case DataType.BOOL:
      return "bool";
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.INT32:
    case DataType.INT64:
    case DataType.UINT32:
    case DataType.UINT64:
      return "int32";
    default:
      throw new Error(`onnx: ${what} has element type ${onnxTypeName(code)}, which tensorgrad does not support (float, double, float16, bfloat16, bool and integer types are)`);
  }
}

const INT32_MAX = 2 ** 31 - 1;
const saturate = (v: number) => (v > INT32_MAX ? INT32_MAX : v < -INT32_MAX - 1 ? -INT32_MAX - 1 : v);

/** A float16 bit pattern as a number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Element count of `dims`, each a non-negative integer; an Error for a negative or absurd size. */
export function elementCount(dims: readonly number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`onnx: ${what} has an invalid dim ${d} in ${formatShape(dims)}`);
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new Error(`onnx: ${what} claims ${formatShape(dims)}: more elements than any file can hold`);
  }
  return n;
}

/** Reads element i of raw little-endian bytes of ONNX type `code`. */
function rawReader(raw: Uint8Array, code: number): (i: number) => number {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (code) {
    case DataType.FLOAT:
      return (i) => v.getFloat32(i * 4, true);
    case DataType.DOUBLE:
      return (i) => v.getFloat64(i * 8, true);
    case DataType.UINT8:
    case DataType.BOOL:
      return (i) => v.getUint8(i);
    case DataType.INT8:
      return (i) => v.getInt8(i);
    case DataType.UINT16:
      return (i) => v.getUint16(i * 2, true);
    case DataType.INT16:
      return (i) => v.getInt16(i * 2, true);
    case DataType.INT32:
      return (i) => v.getInt32(i * 4, true);
    case DataType.UINT32:
      return (i) => v.getUint32(i * 4, true);
    case DataType.INT64:
      return (i) => Number(v.getBigInt64(i * 8, true));
    case DataType.UINT64:
      return (i) => Number(v.getBigUint64(i * 8, true));
    case DataType.FLOAT16:
      return (i) => halfToFloat(v.getUint16(i * 2, true));
    case DataType.BFLOAT16:
      return (i) => bfloat16ToFloat(v.getUint16(i * 2, true));
    default:
      return () => 0;
  }
}

const scratch = new DataView(new ArrayBuffer(4));
/** A bfloat16 bit pattern (the top half of a float32) as a number. */
function bfloat16ToFloat(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}

/** The typed-field array that holds ONNX type `code`'s values when raw_data is absent. */
function fieldFor(t: TensorProto): number[] {
  switch (t.dataType) {
    case DataType.FLOAT:
      return t.floatData;
    case DataType.DOUBLE:
      return t.doubleData;
    case DataType.INT64:
      return t.int64Data;
    case DataType.UINT32:
    case DataType.UINT64:
      return t.uint64Data;
    default:
      return t.int32Data; // int32, int16, int8, uint16, uint8, bool, float16 and bfloat16 bits
  }
}

const onnxTypes = new WeakMap<Tensor, number>();
/** The ONNX element type a tensor was read as (tensorgrad keeps every integer type as int32), when known. */
export function onnxTypeOf(t: Tensor): number | undefined {
  return onnxTypes.get(t);
}

/** Records that `t` holds ONNX type `name` (a graph input's declared type). */
export function setOnnxType(t: Tensor, name: string): void {
  const code = ONNX_TYPES.indexOf(name);
  if (code > 0) onnxTypes.set(t, code);
}

/** The tensor a TensorProto holds; `what` names it in errors (e.g. `initializer "fc.weight"`). */
export function tensorFromProto(t: TensorProto, what = `tensor "${t.name}"`): Tensor {
  if (t.external !== null)
    throw new Error(
      `onnx: ${what} keeps its data in an external file (${t.external.location ?? "location not given"}); tensorgrad reads self-contained models only: save it with onnx.save_model(model, path, save_as_external_data=False)`,
    );
  const dtype = dtypeFor(t.dataType, what);
  const n = elementCount(t.dims, what);
  let get: (i: number) => number;
  if (t.raw !== null && t.raw.length > 0) {
    const size = RAW_SIZE[t.dataType]!;
    if (t.raw.length !== n * size)
      throw new Error(`onnx: ${what} of shape ${formatShape(t.dims)} (${onnxTypeName(t.dataType)}) needs ${n * size} bytes of raw_data, the file holds ${t.raw.length}`);
    get = rawReader(t.raw, t.dataType);
  } else {
    const field = fieldFor(t);
    if (field.length !== n)
      throw new Error(`onnx: ${what} of shape ${formatShape(t.dims)} has ${field.length} values, expected ${n}`);
    if (t.dataType === DataType.FLOAT16) get = (i) => halfToFloat(field[i]!);
    else if (t.dataType === DataType.BFLOAT16) get = (i) => bfloat16ToFloat(field[i]!);
    else get = (i) => field[i]!;
  }
  const data: TypedArray = allocate(dtype, n);
  if (dtype === "int32") for (let i = 0; i < n; i++) data[i] = saturate(get(i));
  else if (dtype === "bool") for (let i = 0; i < n; i++) data[i] = get(i) ? 1 : 0;
  else for (let i = 0; i < n; i++) data[i] = get(i);
  const out = new Tensor(data, dtype, [...t.dims]);
  onnxTypes.set(out, t.dataType);
  return out;
}
