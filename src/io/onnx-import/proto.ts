/**
 * @file Reading the ONNX file format: a bounds-checked protobuf reader and the onnx.proto messages
 * an importer needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto), with the field numbers of onnx-fields.ts, which onnx-proto.ts writes with. Every
 * length is checked against the bytes that remain, so a truncated or hostile file is an Error
 * naming the message and the byte offset; nothing is allocated beyond what the file holds (raw
 * tensor bytes stay views into the file), and nesting is limited so a deep file cannot overflow the stack.
 */
import * as onnx from "../onnx-fields.ts";
import { ATTRIBUTE_VALUE_FIELD, AttributeType, DataLocation, FIXED32, FIXED64, LENGTH_DELIMITED, VARINT } from "../onnx-fields.ts";

/** A TensorProto as stored: the payload is decoded into a tensor by tensors.ts. */
export interface TensorProto {
  name: string;
  dataType: number;
  dims: number[];
  raw: Uint8Array | null;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  stringCount: number;
  /** external_data entries (location, offset, …) or data_location EXTERNAL: not supported, reported by name. */
  external: Record<string, string> | null;
}

export type AttributeValue = number | string | number[] | string[] | TensorProto | TensorProto[] | GraphProto | GraphProto[];

export interface AttributeProto {
  name: string;
  type: number;
  value: AttributeValue;
}

export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeProto[];
}

/** A graph input or output: `elemType` 0 for a non-tensor type; `dims` null when the shape is not given. */
export interface ValueInfoProto {
  name: string;
  elemType: number;
  dims: (number | string | null)[] | null;
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  sparseInitializers: number;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
}

export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  opsets: { domain: string; version: number }[];
  graph: GraphProto;
  functions: number;
}

const MAX_DEPTH = 64;
/** How to read each field of a message, by field number. */
type Handlers = { [field: number]: (wire: number) => unknown };
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Reads protobuf fields from `buf[pos, end)`; every read is checked against `end`. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    public end: number,
    readonly what: string,
    readonly depth: number,
  ) {
    this.pos = start;
  }

  fail(reason: string): never {
    throw new Error(`onnx: corrupt or truncated file: ${this.what} at byte ${this.pos}: ${reason}`);
  }

  /** A varint as a JS number: int64 values in two's complement (negative ones too); exact up to 2^53. */
  varint(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("a varint runs past the end");
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        lo >>>= 0;
        return hi & 0x80000000 ? -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1) : (hi >>> 0) * 2 ** 32 + lo;
      }
    }
    return this.fail("a varint is longer than 10 bytes");
  }

  /** A non-negative varint that must fit `limit` (a length or a count). */
  size(limit: number, what: string): number {
    const n = this.varint();
    if (n < 0 || n > limit) this.fail(`${what} ${n} exceeds the ${limit} bytes that remain`);
    return n;
  }

  /** The wire type of the field being read (checked by int / bytes / message). */
  private wire = -1;

  tag(): [number, number] {
    const t = this.varint();
    if (t < 8 || t > 2 ** 32) this.fail(`invalid field tag ${t}`);
    this.wire = t % 8;
    return [Math.floor(t / 8), this.wire];
  }

  private want(wire: number, what: string): void {
    if (this.wire !== wire) this.fail(`${what} field has wire type ${this.wire}, expected ${wire}`);
  }

  /** An int32 / int64 / enum field's value. */
  int(): number {
    this.want(VARINT, "an integer");
    return this.varint();
  }

  float(): number {
    if (this.end - this.pos < 4) this.fail("a float runs past the end");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.end - this.pos < 8) this.fail("a double runs past the end");
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field's bytes (a view into the file, no copy). */
  bytes(): Uint8Array {
    this.want(LENGTH_DELIMITED, "a bytes, string or message");
    const n = this.size(this.end - this.pos, "length");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** The embedded message of a length-delimited field. */
  message(what: string): Reader {
    if (this.depth >= MAX_DEPTH) this.fail(`messages nested deeper than ${MAX_DEPTH}`);
    this.want(LENGTH_DELIMITED, "a message");
    const n = this.size(this.end - this.pos, "length");
    const r = new Reader(this.buf, this.pos, this.pos + n, `${this.what} > ${what}`, this.depth + 1);
    this.pos += n;
    return r;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.advance(8);
    else if (wire === FIXED32) this.advance(4);
    else if (wire === LENGTH_DELIMITED) this.bytes();
    else this.fail(`unsupported wire type ${wire}`);
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) this.fail("a field runs past the end");
    this.pos += n;
  }

  /** A repeated scalar field, packed (one length-delimited run) or one value per tag. */
  repeated(wire: number, out: number[], kind: "varint" | "float" | "double"): void {
    const one = () => (kind === "varint" ? this.varint() : kind === "float" ? this.float() : this.double());
    if (wire !== LENGTH_DELIMITED) {
      const want = kind === "varint" ? VARINT : kind === "float" ? FIXED32 : FIXED64;
      if (wire !== want) this.fail(`wire type ${wire} for a ${kind} field`);
      out.push(one());
      return;
    }
    const n = this.size(this.end - this.pos, "length");
    const stop = this.pos + n;
    const saved = this.end;
    this.end = stop;
    while (this.pos < stop) out.push(one());
    this.end = saved;
  }

  /** Reads every field: `on[number](wire)` reads a field this reader knows, any other is skipped. */
  fields(on: Handlers): void {
    while (this.pos < this.end) {
      const [n, wire] = this.tag();
      const read = on[n];
      if (read) read(wire);
      else this.skip(wire);
    }
  }

  /** Reads the embedded message of a length-delimited field with the handlers `on(message)` returns. */
  read(what: string, on: (m: Reader) => Handlers): void {
    const m = this.message(what);
    m.fields(on(m));
  }

  expect(wire: number, want: number, name: string): void {
    if (wire !== want) this.fail(`field ${name} has wire type ${wire}, expected ${want}`);
  }
}

function readTensor(r: Reader): TensorProto {
  const t: TensorProto = { name: "", dataType: 0, dims: [], raw: null, floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [], stringCount: 0, external: null };
  const F = onnx.TensorProto;
  r.fields({
    [F.dims]: (w) => r.repeated(w, t.dims, "varint"),
    [F.data_type]: () => (t.dataType = r.int()),
    [F.float_data]: (w) => r.repeated(w, t.floatData, "float"),
    [F.int32_data]: (w) => r.repeated(w, t.int32Data, "varint"),
    [F.string_data]: () => r.bytes() && t.stringCount++,
    [F.int64_data]: (w) => r.repeated(w, t.int64Data, "varint"),
    [F.name]: () => (t.name = r.string()),
    [F.raw_data]: () => (t.raw = r.bytes()),
    [F.double_data]: (w) => r.repeated(w, t.doubleData, "double"),
    [F.uint64_data]: (w) => r.repeated(w, t.uint64Data, "varint"),
    [F.external_data]: () => {
      const entry = { key: "", value: "" };
      const E = onnx.StringStringEntryProto;
      r.read("external_data", (m) => ({ [E.key]: () => (entry.key = m.string()), [E.value]: () => (entry.value = m.string()) }));
      t.external = { ...t.external, [entry.key]: entry.value };
    },
    [F.data_location]: () => r.int() === DataLocation.EXTERNAL && (t.external ??= {}),
  });
  return t;
}

function readAttribute(r: Reader): AttributeProto {
  let name = "";
  let type: number = AttributeType.UNDEFINED;
  const found: { [field in (typeof ATTRIBUTE_VALUE_FIELD)[number]]?: AttributeValue } = {};
  const [floats, ints, strings, tensors, graphs] = [[], [], [], [], []] as [number[], number[], string[], TensorProto[], GraphProto[]];
  const F = onnx.AttributeProto;
  r.fields({
    [F.name]: () => (name = r.string()),
    [F.type]: () => (type = r.int()),
    [F.f]: (w) => {
      r.expect(w, FIXED32, "f");
      found.f = r.float();
    },
    [F.i]: () => (found.i = r.int()),
    [F.s]: () => (found.s = r.string()),
    [F.t]: () => (found.t = readTensor(r.message("tensor"))),
    [F.g]: () => (found.g = readGraph(r.message("graph"))),
    [F.floats]: (w) => r.repeated(w, floats, "float"),
    [F.ints]: (w) => r.repeated(w, ints, "varint"),
    [F.strings]: () => strings.push(r.string()),
    [F.tensors]: () => tensors.push(readTensor(r.message("tensor"))),
    [F.graphs]: () => graphs.push(readGraph(r.message("graph"))),
  });
  Object.assign(found, { floats, ints, strings, tensors, graphs });
  // files from before the type field: the first value given, in AttributeType order
  const given = (v: AttributeValue | undefined) => (Array.isArray(v) ? v.length > 0 : v !== undefined);
  if (type === AttributeType.UNDEFINED) type = ATTRIBUTE_VALUE_FIELD.findIndex((f) => given(found[f])) + 1;
  const field = ATTRIBUTE_VALUE_FIELD[type - 1];
  // SPARSE_TENSOR(S) and TYPE_PROTO(S): kept as an empty list, which no op rule accepts
  const value = type >= AttributeType.SPARSE_TENSOR && type <= AttributeType.TYPE_PROTOS ? [] : field === undefined ? undefined : found[field];
  if (value === undefined) r.fail(`attribute "${name}" of type ${type} has no value (or a type this reader does not know)`);
  return { name, type, value };
}

function readNode(r: Reader): NodeProto {
  const node: NodeProto = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
  const F = onnx.NodeProto;
  r.fields({
    [F.input]: () => node.inputs.push(r.string()),
    [F.output]: () => node.outputs.push(r.string()),
    [F.name]: () => (node.name = r.string()),
    [F.op_type]: () => (node.opType = r.string()),
    [F.attribute]: () => node.attributes.push(readAttribute(r.message(`attribute of node "${node.name}"`))),
    [F.domain]: () => (node.domain = r.string()),
  });
  return node;
}

function readValueInfo(r: Reader): ValueInfoProto {
  const v: ValueInfoProto = { name: "", elemType: 0, dims: null };
  const { TypeProto_Tensor: T, TensorShapeProto_Dimension: D } = onnx;
  r.fields({
    [onnx.ValueInfoProto.name]: () => (v.name = r.string()),
    [onnx.ValueInfoProto.type]: () =>
      r.read("type", (type) => ({
        [onnx.TypeProto.tensor_type]: () =>
          type.read("tensor_type", (tensor) => ({
            [T.elem_type]: () => (v.elemType = tensor.int()),
            [T.shape]: () => {
              const dims: (number | string | null)[] = (v.dims = []);
              tensor.read("shape", (shape) => ({
                [onnx.TensorShapeProto.dim]: () => {
                  let d: number | string | null = null;
                  shape.read("dim", (dim) => ({ [D.dim_value]: () => (d = dim.int()), [D.dim_param]: () => (d = dim.string()) }));
                  dims.push(d);
                },
              }));
            },
          })),
      })),
  });
  return v;
}

function readGraph(r: Reader): GraphProto {
  const g: GraphProto = { name: "", nodes: [], initializers: [], sparseInitializers: 0, inputs: [], outputs: [] };
  const F = onnx.GraphProto;
  r.fields({
    [F.node]: () => g.nodes.push(readNode(r.message(`node ${g.nodes.length}`))),
    [F.name]: () => (g.name = r.string()),
    [F.initializer]: () => g.initializers.push(readTensor(r.message(`initializer ${g.initializers.length}`))),
    [F.input]: () => g.inputs.push(readValueInfo(r.message(`input ${g.inputs.length}`))),
    [F.output]: () => g.outputs.push(readValueInfo(r.message(`output ${g.outputs.length}`))),
    [F.sparse_initializer]: () => r.bytes() && g.sparseInitializers++,
  });
  return g;
}

/** Parses the bytes of a `.onnx` file (a serialized ModelProto); throws an Error naming what is wrong. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("onnx: expected the model's bytes as a Uint8Array");
  const r = new Reader(bytes, 0, bytes.length, "ModelProto", 0);
  const m: ModelProto = { irVersion: 0, producerName: "", producerVersion: "", docString: "", opsets: [], graph: null!, functions: 0 };
  const F = onnx.ModelProto;
  r.fields({
    [F.ir_version]: () => (m.irVersion = r.int()),
    [F.producer_name]: () => (m.producerName = r.string()),
    [F.producer_version]: () => (m.producerVersion = r.string()),
    [F.doc_string]: () => (m.docString = r.string()),
    [F.graph]: () => (m.graph = readGraph(r.message("graph"))),
    [F.opset_import]: () => {
      const entry = { domain: "", version: 0 };
      const O = onnx.OperatorSetIdProto;
      r.read("opset_import", (op) => ({ [O.domain]: () => (entry.domain = op.string()), [O.version]: () => (entry.version = op.int()) }));
      m.opsets.push(entry);
    },
    [F.functions]: () => r.bytes() && m.functions++,
  });
  if (m.graph === null) throw new Error(`onnx: not an ONNX model: no graph in the ${bytes.length} bytes (is this a .onnx file?)`);
  return m;
}

/** Parses a serialized TensorProto (the `.pb` files of ONNX's test data). */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return readTensor(new Reader(bytes, 0, bytes.length, "TensorProto", 0));
}
