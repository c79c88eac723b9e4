/** @file The safetensors format in memory: `serialize` a { name: Tensor } dict to bytes and `deserialize` it back, validating every byte (no Node APIs). */
import { allocate, type DType, type TypedArray } from "../base/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type Json, type JsonObject, parseJson } from "./json.ts";

/** Tensors by name, as `Module.stateDict()` returns and `Module.loadStateDict()` accepts. */
export type TensorDict = Record<string, Tensor>;
/** The free-form `__metadata__` of a safetensors file: strings to strings. */
export type SafetensorsMetadata = Record<string, string>;

/** The largest header accepted, as in the reference implementation (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A dtype stored in files: its element size and the tensorgrad dtype it loads as. */
interface FileDType {
  bytes: number;
  dtype: DType;
}

/** What `deserialize` reads. F16/BF16 load as float32, the integer types as int32 (range-checked). */
const FILE_DTYPES: Record<string, FileDType> = {
  F64: { bytes: 8, dtype: "float64" },
  F32: { bytes: 4, dtype: "float32" },
  F16: { bytes: 2, dtype: "float32" },
  BF16: { bytes: 2, dtype: "float32" },
  I64: { bytes: 8, dtype: "int32" },
  U64: { bytes: 8, dtype: "int32" },
  I32: { bytes: 4, dtype: "int32" },
  U32: { bytes: 4, dtype: "int32" },
  I16: { bytes: 2, dtype: "int32" },
  U16: { bytes: 2, dtype: "int32" },
  I8: { bytes: 1, dtype: "int32" },
  U8: { bytes: 1, dtype: "int32" },
  BOOL: { bytes: 1, dtype: "bool" },
};

/** What `serialize` writes for each tensorgrad dtype. */
const WRITE_DTYPES: Record<DType, { name: string; bytes: number }> = {
  float64: { name: "F64", bytes: 8 },
  float32: { name: "F32", bytes: 4 },
  int32: { name: "I32", bytes: 4 },
  bool: { name: "BOOL", bytes: 1 },
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Writing

/** @internal One tensor's place in the data section. */
export interface LayoutEntry {
  name: string;
  tensor: Tensor;
  begin: number;
  end: number;
}

/** @internal Everything a writer needs: the 8-byte length prefix plus padded header, and the tensors in data order. */
export interface Layout {
  head: Uint8Array;
  entries: LayoutEntry[];
  byteLength: number;
}

/**
 * @internal Validates `dict` and `metadata` and places the tensors: the header lists them in
 * insertion order, the data section orders them by element size (8, 4, then 1 byte, insertion
 * order within a size) so every tensor starts aligned to its element size, as the reference
 * implementation does.
 */
export function planLayout(dict: TensorDict, metadata: SafetensorsMetadata | undefined, op: string): Layout {
  if (typeof dict !== "object" || dict === null || Array.isArray(dict))
    throw new TypeError(`${op}: expected an object of tensors such as model.stateDict(), got ${describe(dict)}`);
  const names = Object.keys(dict);
  for (const name of names) {
    if (!(dict[name] instanceof Tensor)) throw new TypeError(`${op}: the value of "${name}" is ${describe(dict[name])}, not a Tensor`);
    if (name === "__metadata__") throw new Error(`${op}: "__metadata__" is reserved by the format and cannot name a tensor`);
  }
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))
      throw new TypeError(`${op}: metadata must be an object of strings, got ${describe(metadata)}`);
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== "string") throw new TypeError(`${op}: metadata values must be strings, "${k}" is ${describe(v)}`);
  }
  const order = names.map((name, i) => ({ name, i, bytes: WRITE_DTYPES[dict[name]!.dtype].bytes }));
  order.sort((a, b) => b.bytes - a.bytes || a.i - b.i);
  const offsets = new Map<string, [number, number]>();
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const { name, bytes } of order) {
    const tensor = dict[name]!;
    const end = offset + tensor.numel() * bytes;
    offsets.set(name, [offset, end]);
    entries.push({ name, tensor, begin: offset, end });
    offset = end;
  }
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  for (const name of names) {
    const t = dict[name]!;
    const info = { dtype: WRITE_DTYPES[t.dtype].name, shape: t.shape, data_offsets: offsets.get(name) };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8; // padded with spaces so the data starts 8-byte aligned
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return { head, entries, byteLength: head.length + offset };
}

/** @internal The elements of `t` as contiguous little-endian bytes (non-contiguous views are gathered). */
export function tensorBytes(t: Tensor): Uint8Array {
  const a = t.dataSync();
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN_HOST || a.BYTES_PER_ELEMENT === 1) return bytes;
  return swapBytes(bytes.slice(), a.BYTES_PER_ELEMENT);
}

/**
 * The safetensors bytes of a dict of tensors, readable by Hugging Face `safetensors` and so by
 * PyTorch. float32, float64, int32 and bool are stored as F32, F64, I32 and BOOL; views are
 * written contiguous; `metadata` becomes the header's `__metadata__`.
 *
 * @example
 * const bytes = tg.io.serialize({ w: tg.ones([2, 2]) }, { format: "pt" });
 * tg.io.deserialize(bytes).tensors.w.toArray(); // [[1, 1], [1, 1]]
 */
export function serialize(dict: TensorDict, metadata?: SafetensorsMetadata): Uint8Array {
  const layout = planLayout(dict, metadata, "serialize");
  const out = new Uint8Array(layout.byteLength);
  out.set(layout.head, 0);
  for (const e of layout.entries) out.set(tensorBytes(e.tensor), layout.head.length + e.begin);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** What `deserialize` returns. */
export interface Deserialized {
  tensors: TensorDict;
  metadata: SafetensorsMetadata;
}

export interface DeserializeOptions {
  /** Names the data in error messages, e.g. the file path. */
  source?: string;
}

/** @internal One validated header entry: where its bytes lie in the data section and how to read them. */
export interface Entry {
  name: string;
  fileDType: string;
  shape: number[];
  begin: number;
  end: number;
}

/** @internal Throws a plain Error prefixed with what is being read. */
export type Fail = (what: string) => never;

/** @internal The `fail` of `deserialize` and `load`: messages start with the file name when there is one. */
export function failFor(source: string | undefined): Fail {
  const prefix = source === undefined ? "safetensors data" : `safetensors file ${JSON.stringify(source)}`;
  return (what) => {
    throw new Error(`${prefix}: ${what}`);
  };
}

/**
 * Reads safetensors bytes. Every malformed input throws a plain `Error` that says what is wrong
 * (truncated data, bad header length, invalid UTF-8 or JSON, duplicate keys, unknown dtypes, bad
 * shapes, offsets that overlap, leave gaps or run past the end, non-string metadata); sizes are
 * checked against the input length before anything is allocated, so memory use stays within a
 * few times the input size.
 *
 * dtypes: F32, F64, I32 and BOOL load as they are. Other types PyTorch writes are converted:
 * F16 and BF16 → float32 (exact); I64, U64, U32, I16, U16, I8, U8 → int32, throwing if a value
 * does not fit. BOOL bytes other than 0 load as true. Tensors keep the header's order.
 *
 * @example
 * const { tensors, metadata } = tg.io.deserialize(bytes);
 */
export function deserialize(bytes: Uint8Array | ArrayBuffer, opts: DeserializeOptions = {}): Deserialized {
  const fail = failFor(opts.source);
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`deserialize: expected a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a Node Buffer's slice() would not copy
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length, fail);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, fail);
  const tensors: TensorDict = {};
  for (const e of entries) defineEntry(tensors, e.name, decodeTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), false, fail));
  return { tensors, metadata };
}

/** @internal The header length from the first 8 bytes of a file of `totalLength` bytes, checked against both. */
export function readHeaderLength(prefix: Uint8Array, totalLength: number, fail: Fail): number {
  if (prefix.length < 8) fail(`${totalLength} bytes is too short: the format starts with an 8-byte header length`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lengthHigh = view.getUint32(4, true);
  const headerLength = lengthHigh * 2 ** 32 + view.getUint32(0, true); // may round above 2^53; only compared
  if (lengthHigh !== 0 || headerLength > MAX_HEADER_BYTES)
    fail(`header length ${view.getBigUint64(0, true)} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLength > totalLength - 8)
    fail(`header length ${headerLength} runs past the end of the data (${totalLength - 8} bytes after the length)`);
  return headerLength;
}

/**
 * @internal Validates the header bytes against a data section of `dataLength` bytes: the
 * entries (in header order) and the metadata. Nothing here allocates more than the header's size.
 */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, fail: Fail): { entries: Entry[]; metadata: SafetensorsMetadata } {
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail("the header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail(`the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let header: Json = null;
  try {
    header = parseJson(text, 8);
  } catch (e) {
    fail(`the header is not valid: ${(e as Error).message}`);
  }
  if (!(header instanceof Map)) return fail("the header is not a JSON object");

  const metadata: SafetensorsMetadata = {};
  const entries: Entry[] = [];
  for (const [name, value] of header) {
    if (name === "__metadata__") {
      if (!(value instanceof Map)) fail(`"__metadata__" must be an object of strings, got ${jsonType(value)}`);
      for (const [k, v] of value as JsonObject) {
        if (typeof v !== "string") fail(`"__metadata__" value of ${quote(k)} must be a string, got ${jsonType(v)}`);
        defineEntry(metadata, k, v as string);
      }
    } else entries.push(parseEntry(name, value, dataLength, fail));
  }

  // The tensors must tile the data section exactly, as in the reference implementation.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin < cursor) fail(`tensor ${quote(e.name)} data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ending at ${cursor})`);
    if (e.begin > cursor) fail(`the bytes [${cursor}, ${e.begin}) of the data section belong to no tensor (before ${quote(e.name)})`);
    cursor = e.end;
  }
  if (cursor !== dataLength)
    fail(`the tensors cover ${cursor} bytes but the data section after the header has ${dataLength} (truncated or trailing bytes)`);
  return { entries, metadata };
}

/** Checks one tensor entry of the header against the format and against `dataLength`. */
function parseEntry(name: string, value: Json, dataLength: number, fail: Fail): Entry {
  const what = `tensor ${quote(name)}`;
  if (!(value instanceof Map)) return fail(`${what} must be an object with dtype, shape and data_offsets, got ${jsonType(value)}`);
  const dtype = value.get("dtype");
  const shape = value.get("shape");
  const offsets = value.get("data_offsets");
  if (typeof dtype !== "string") return fail(`${what} needs a string "dtype", got ${jsonType(dtype)}`);
  const info = Object.hasOwn(FILE_DTYPES, dtype) ? FILE_DTYPES[dtype] : undefined;
  if (info === undefined)
    return fail(`${what} has dtype ${quote(dtype)}, which tensorgrad cannot read (supported: ${Object.keys(FILE_DTYPES).join(", ")})`);
  if (!Array.isArray(shape) || !shape.every(isCount))
    return fail(`${what} needs a "shape" array of non-negative integers, got ${preview(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    return fail(`${what} needs "data_offsets" [begin, end] of non-negative integers, got ${preview(offsets)}`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) return fail(`${what} has data_offsets [${begin}, ${end}] with begin after end`);
  if (end > dataLength) return fail(`${what} has data_offsets [${begin}, ${end}] past the end of the ${dataLength}-byte data section`);
  // numel × size must equal end − begin ≤ dataLength: stop multiplying once past it (no overflow, no huge numbers).
  let numel = shape.includes(0) ? 0 : 1;
  for (const d of shape as number[]) if (numel <= dataLength) numel *= d;
  if (numel * info.bytes !== end - begin)
    return fail(
      `${what} of dtype ${dtype} and shape ${preview(shape)} needs ${numel > dataLength ? "more than the whole data section" : `${numel * info.bytes} bytes`}, but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  return { name, fileDType: dtype, shape: shape as number[], begin, end };
}

/**
 * @internal One tensor from its `e.end - e.begin` little-endian bytes (see `deserialize` for the
 * conversions). With `owned`, `raw` is a fresh buffer of exactly these bytes that may become the storage.
 */
export function decodeTensor(e: Entry, raw: Uint8Array, owned: boolean, fail: Fail): Tensor {
  const info = FILE_DTYPES[e.fileDType]!;
  return new Tensor(decode(e, raw, owned, fail), info.dtype, e.shape);
}

function decode(e: Entry, raw: Uint8Array, owned: boolean, fail: Fail): TypedArray {
  const info = FILE_DTYPES[e.fileDType]!;
  const n = raw.length / info.bytes;
  const native = e.fileDType === "F32" || e.fileDType === "F64" || e.fileDType === "I32";
  if (native && LITTLE_ENDIAN_HOST) {
    const buffer = owned && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw.buffer : raw.slice().buffer; // aligned
    return e.fileDType === "F32" ? new Float32Array(buffer) : e.fileDType === "F64" ? new Float64Array(buffer) : new Int32Array(buffer);
  }
  const out = allocate(info.dtype, n);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const tooBig = (i: number, value: bigint | number): never =>
    fail(`tensor ${quote(e.name)} (${e.fileDType}) element ${i} is ${value}, which does not fit in int32 (tensorgrad's integer type)`);
  switch (e.fileDType) {
    case "F64":
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
      break;
    case "F32":
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      break;
    case "I32":
      for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) out[i] = halfToNumber(v.getUint16(i * 2, true));
      break;
    case "BF16": {
      const bits = new Uint32Array(out.buffer); // bfloat16 is the top half of a float32
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(i * 2, true) << 16;
      break;
    }
    case "I64":
    case "U64":
      for (let i = 0; i < n; i++) {
        const lo = v.getUint32(i * 8, true);
        const hi = v.getUint32(i * 8 + 4, true);
        const fits = e.fileDType === "I64" ? (hi === 0 && lo < 2 ** 31) || (hi === 0xffffffff && lo >= 2 ** 31) : hi === 0 && lo < 2 ** 31;
        if (!fits) tooBig(i, e.fileDType === "I64" ? v.getBigInt64(i * 8, true) : v.getBigUint64(i * 8, true));
        out[i] = lo | 0;
      }
      break;
    case "U32":
      for (let i = 0; i < n; i++) {
        const x = v.getUint32(i * 4, true);
        if (x >= 2 ** 31) tooBig(i, x);
        out[i] = x;
      }
      break;
    case "I16":
      for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) out[i] = v.getUint16(i * 2, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      break;
    case "U8":
      for (let i = 0; i < n; i++) out[i] = raw[i]!;
      break;
    case "BOOL":
      for (let i = 0; i < n; i++) out[i] = raw[i] === 0 ? 0 : 1;
      break;
  }
  return out;
}

/** IEEE 754 half precision bits → number (exact; every half is a float32). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Reverses the bytes of each `size`-byte element in place (for big-endian hosts). */
function swapBytes(b: Uint8Array, size: number): Uint8Array {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

/** Sets `obj[key]` as an own data property, so that a key like `__proto__` is just a name. */
function defineEntry<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isCount(x: Json): boolean {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** A name for messages, cut short if an adversarial file made it huge. */
function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

/** A JSON value for messages, at most ~80 characters (and cheap to build even for a huge value). */
function preview(x: Json | undefined): string {
  if (x === undefined) return "nothing";
  const short = (v: Json): string => (v instanceof Map ? "{…}" : Array.isArray(v) ? "[…]" : JSON.stringify(v));
  const s = Array.isArray(x) ? `[${x.slice(0, 12).map(short).join(",")}${x.length > 12 ? ",…" : ""}]` : short(x);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function jsonType(x: Json | undefined): string {
  if (x === undefined) return "nothing";
  if (x === null) return "null";
  if (x instanceof Map) return "an object";
  if (Array.isArray(x)) return "an array";
  return `${typeof x} ${preview(x)}`;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  return typeof x === "object" ? ((x as object).constructor?.name ?? "an object") : typeof x;
}
