/**
 * @file The ONNX file format: a minimal protobuf writer and the few onnx.proto messages the
 * exporter writes (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto). Field numbers are those of onnx/onnx.proto; every value is written in the
 * protobuf wire format, so any ONNX reader (ONNX Runtime, `onnx.load`, Netron) parses it.
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9 } as const;

/** A node attribute: the AttributeProto `type` picks the field that holds the value. */
export type Attribute =
  | { name: string; type: "float"; value: number }
  | { name: string; type: "int"; value: number }
  | { name: string; type: "string"; value: string }
  | { name: string; type: "floats"; value: readonly number[] }
  | { name: string; type: "ints"; value: readonly number[] };

/** A constant tensor (an initializer): little-endian `raw` bytes of `dims`' elements in row-major order. */
export interface TensorValue {
  name: string;
  dataType: number;
  dims: readonly number[];
  raw: Uint8Array;
}

export interface Node {
  name: string;
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: readonly Attribute[];
}

/** A graph input or output: a tensor of `elemType` whose dims are sizes, symbolic names, or null (unknown). */
export interface ValueInfo {
  name: string;
  elemType: number;
  dims: readonly (number | string | null)[];
}

export interface Graph {
  name: string;
  nodes: readonly Node[];
  initializers: readonly TensorValue[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
}

export interface Model {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  docString: string;
  graph: Graph;
}

/** Protobuf wire types (shared with the reader in onnx-import/proto.ts). */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;
const utf8 = new TextEncoder();

/** Appends protobuf fields to a growing byte buffer. */
class ProtoWriter {
  private buf = new Uint8Array(256);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** An unsigned varint; negative int64 values are written as their 64-bit two's complement (10 bytes). */
  private varint(n: number): void {
    if (!Number.isSafeInteger(n)) throw new RangeError(`onnx: ${n} is not an integer that can be written exactly`);
    this.reserve(10);
    if (n >= 0 && n < 2 ** 31) {
      for (; n >= 0x80; n >>>= 7) this.buf[this.length++] = (n & 0x7f) | 0x80;
      this.buf[this.length++] = n;
      return;
    }
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.buf[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.length++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** An int32 / int64 / enum field. */
  int(field: number, n: number): this {
    this.tag(field, VARINT);
    this.varint(n);
    return this;
  }

  /** A float field (4 bytes, little-endian). */
  float(field: number, f: number): this {
    this.tag(field, FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.length, f, true);
    this.length += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** An embedded message, written by `write` into its own writer. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

// AttributeProto.AttributeType
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, a: Attribute): void {
  w.string(1, a.name); // name
  w.int(20, ATTRIBUTE_TYPE[a.type]); // type
  switch (a.type) {
    case "float":
      w.float(2, a.value); // f
      break;
    case "int":
      w.int(3, a.value); // i
      break;
    case "string":
      w.string(4, a.value); // s
      break;
    case "floats":
      for (const f of a.value) w.float(7, f); // floats
      break;
    case "ints":
      for (const i of a.value) w.int(8, i); // ints
      break;
  }
}

function writeNode(w: ProtoWriter, n: Node): void {
  for (const i of n.inputs) w.string(1, i); // input
  for (const o of n.outputs) w.string(2, o); // output
  w.string(3, n.name); // name
  w.string(4, n.opType); // op_type
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a)); // attribute
}

function writeTensor(w: ProtoWriter, t: TensorValue): void {
  for (const d of t.dims) w.int(1, d); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name); // name
  w.message(2, (type) =>
    // TypeProto.tensor_type
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType); // elem_type
      tensor.message(2, (shape) => {
        // TensorShapeProto.dim: dim_value = 1 or dim_param = 2 (neither: unknown)
        for (const d of v.dims)
          shape.message(1, (dim) => {
            if (typeof d === "number") dim.int(1, d);
            else if (typeof d === "string") dim.string(2, d);
          });
      });
    }),
  );
}

function writeGraph(w: ProtoWriter, g: Graph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n)); // node
  w.string(2, g.name); // name
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t)); // initializer
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v)); // input
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v)); // output
}

/** The bytes of an ONNX ModelProto (what a `.onnx` file holds). */
export function encodeModel(model: Model): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion); // ir_version
  w.string(2, model.producerName); // producer_name
  w.string(6, model.docString); // doc_string
  w.message(7, (g) => writeGraph(g, model.graph)); // graph
  w.message(8, (op) => op.string(1, "").int(2, model.opsetVersion)); // opset_import: the default domain
  return w.finish();
}
