/**
 * @file The ONNX file format: a minimal protobuf writer and the few onnx.proto messages the
 * exporter writes (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto), with the field numbers of onnx-fields.ts; every value is written in the
 * protobuf wire format, so any ONNX reader (ONNX Runtime, `onnx.load`, Netron) parses it.
 */
import { AttributeProto, AttributeType, FIXED32, GraphProto, LENGTH_DELIMITED, ModelProto, NodeProto, OperatorSetIdProto } from "./onnx-fields.ts";
import { TensorProto, TensorShapeProto, TensorShapeProto_Dimension, TypeProto, TypeProto_Tensor, VARINT, ValueInfoProto } from "./onnx-fields.ts";

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

function writeAttribute(w: ProtoWriter, a: Attribute): void {
  const F = AttributeProto;
  w.string(F.name, a.name).int(F.type, AttributeType[a.type.toUpperCase() as Uppercase<Attribute["type"]>]);
  if (a.type === "float") w.float(F.f, a.value);
  else if (a.type === "int") w.int(F.i, a.value);
  else if (a.type === "string") w.string(F.s, a.value);
  else if (a.type === "floats") for (const f of a.value) w.float(F.floats, f);
  else for (const i of a.value) w.int(F.ints, i);
}

function writeNode(w: ProtoWriter, n: Node): void {
  for (const i of n.inputs) w.string(NodeProto.input, i);
  for (const o of n.outputs) w.string(NodeProto.output, o);
  w.string(NodeProto.name, n.name).string(NodeProto.op_type, n.opType);
  for (const a of n.attributes) w.message(NodeProto.attribute, (m) => writeAttribute(m, a));
}

function writeTensor(w: ProtoWriter, t: TensorValue): void {
  for (const d of t.dims) w.int(TensorProto.dims, d);
  w.int(TensorProto.data_type, t.dataType).string(TensorProto.name, t.name).bytes(TensorProto.raw_data, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(ValueInfoProto.name, v.name).message(ValueInfoProto.type, (type) =>
    type.message(TypeProto.tensor_type, (tensor) =>
      tensor.int(TypeProto_Tensor.elem_type, v.elemType).message(TypeProto_Tensor.shape, (shape) => {
        // a dim is a size (dim_value), a symbolic name (dim_param) or neither (unknown)
        for (const d of v.dims)
          shape.message(TensorShapeProto.dim, (dim) => {
            if (typeof d === "number") dim.int(TensorShapeProto_Dimension.dim_value, d);
            else if (typeof d === "string") dim.string(TensorShapeProto_Dimension.dim_param, d);
          });
      }),
    ),
  );
}

function writeGraph(w: ProtoWriter, g: Graph): void {
  for (const n of g.nodes) w.message(GraphProto.node, (m) => writeNode(m, n));
  w.string(GraphProto.name, g.name);
  for (const t of g.initializers) w.message(GraphProto.initializer, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(GraphProto.input, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(GraphProto.output, (m) => writeValueInfo(m, v));
}

/** The bytes of an ONNX ModelProto (what a `.onnx` file holds). */
export function encodeModel(model: Model): Uint8Array {
  const w = new ProtoWriter();
  w.int(ModelProto.ir_version, model.irVersion).string(ModelProto.producer_name, model.producerName).string(ModelProto.doc_string, model.docString);
  w.message(ModelProto.graph, (g) => writeGraph(g, model.graph));
  // opset_import: the default domain ("")
  w.message(ModelProto.opset_import, (op) => op.string(OperatorSetIdProto.domain, "").int(OperatorSetIdProto.version, model.opsetVersion));
  return w.finish();
}
