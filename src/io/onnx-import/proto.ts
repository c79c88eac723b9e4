/**
 * @file Reading the ONNX file format: a bounds-checked protobuf reader and the onnx.proto messages
 * an importer needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto), with the field numbers of onnx/onnx.proto that onnx-proto.ts writes. Every
 * length is checked against the bytes that remain, so a truncated or hostile file is an Error
 * naming the message and the byte offset; nothing is allocated beyond what the file holds (raw
 * tensor bytes stay views into the file), and nesting is limited so a deep file cannot overflow the stack.
 */
import { FIXED32, FIXED64, LENGTH_DELIMITED, VARINT } from "../onnx-proto.ts";

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

  more(): boolean {
    return this.pos < this.end;
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

  /** Calls `field(number, wire)` for each field; it returns false to skip the field. */
  fields(field: (n: number, wire: number) => boolean): void {
    while (this.more()) {
      const [n, wire] = this.tag();
      if (!field(n, wire)) this.skip(wire);
    }
  }

  expect(wire: number, want: number, name: string): void {
    if (wire !== want) this.fail(`field ${name} has wire type ${wire}, expected ${want}`);
  }
}

function readTensor(r: Reader): TensorProto {
  const t: TensorProto = {
    name: "",
    dataType: 0,
    dims: [],
    raw: null,
    floatData: [],
    int32Data: [],
    int64Data: [],
    doubleData: [],
    uint64Data: [],
    stringCount: 0,
    external: null,
  };
  r.fields((n, w) => {
    if (n === 1) r.repeated(w, t.dims, "varint");
    else if (n === 2) t.dataType = r.int();
    else if (n === 4) r.repeated(w, t.floatData, "float");
    else if (n === 5) r.repeated(w, t.int32Data, "varint");
    else if (n === 6) {
      r.bytes();
      t.stringCount++;
    }
    else if (n === 7) r.repeated(w, t.int64Data, "varint");
    else if (n === 8) t.name = r.string();
    else if (n === 9) t.raw = r.bytes();
    else if (n === 10) r.repeated(w, t.doubleData, "double");
    else if (n === 11) r.repeated(w, t.uint64Data, "varint");
    else if (n === 13) {
      const m = r.message("external_data");
      let key = "";
      let value = "";
      m.fields((k) => {
        if (k === 1) key = m.string();
        else if (k === 2) value = m.string();
        else return false;
        return true;
      });
      t.external = { ...t.external, [key]: value };
    } else if (n === 14) {
      if (r.int() === 1) t.external ??= {};
    } else return false;
    return true;
  });
  return t;
}

function readAttribute(r: Reader): AttributeProto {
  let name = "";
  let type = 0;
  const found: Record<string, AttributeValue> = {};
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  const tensors: TensorProto[] = [];
  const graphs: GraphProto[] = [];
  r.fields((n, w) => {
    if (n === 1) name = r.string();
    else if (n === 20) type = r.int();
    else if (n === 2) {
      r.expect(w, FIXED32, "f");
      found.f = r.float();
    }
    else if (n === 3) found.i = r.int();
    else if (n === 4) found.s = r.string();
    else if (n === 5) found.t = readTensor(r.message("tensor"));
    else if (n === 6) found.g = readGraph(r.message("graph"));
    else if (n === 7) r.repeated(w, floats, "float");
    else if (n === 8) r.repeated(w, ints, "varint");
    else if (n === 9) strings.push(r.string());
    else if (n === 10) tensors.push(readTensor(r.message("tensor")));
    else if (n === 11) graphs.push(readGraph(r.message("graph")));
    else return false;
    return true;
  });
  // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8, TENSORS 9, GRAPHS 10
  const byType: Record<number, AttributeValue | undefined> = {
    1: found.f,
    2: found.i,
    3: found.s,
    4: found.t,
    5: found.g,
    6: floats,
    7: ints,
    8: strings,
    9: tensors,
    10: graphs,
  };
  if (type === 0) {
    // files from before the type field: whichever value is present
    const order: [number, boolean][] = [
      [1, "f" in found],
      [2, "i" in found],
      [3, "s" in found],
      [4, "t" in found],
      [5, "g" in found],
      [6, floats.length > 0],
      [7, ints.length > 0],
      [8, strings.length > 0],
      [9, tensors.length > 0],
      [10, graphs.length > 0],
    ];
    type = order.find(([, present]) => present)?.[0] ?? 0;
  }
  // SPARSE_TENSOR(S) 11 / 12 and TYPE_PROTO(S) 13 / 14: kept as an empty list, which no op rule accepts
  const value = type >= 11 && type <= 14 ? [] : byType[type];
  if (value === undefined) r.fail(`attribute "${name}" of type ${type} has no value (or a type this reader does not know)`);
  return { name, type, value };
}

function readNode(r: Reader): NodeProto {
  const node: NodeProto = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
  r.fields((n) => {
    if (n === 1) node.inputs.push(r.string());
    else if (n === 2) node.outputs.push(r.string());
    else if (n === 3) node.name = r.string();
    else if (n === 4) node.opType = r.string();
    else if (n === 5) node.attributes.push(readAttribute(r.message(`attribute of node "${node.name}"`)));
    else if (n === 7) node.domain = r.string();
    else return false;
    return true;
  });
  return node;
}

function readValueInfo(r: Reader): ValueInfoProto {
  const v: ValueInfoProto = { name: "", elemType: 0, dims: null };
  r.fields((n) => {
    if (n === 1) v.name = r.string();
    else if (n === 2) {
      const type = r.message("type");
      type.fields((tn) => {
        if (tn !== 1) return false; // TypeProto.tensor_type
        const tensor = type.message("tensor_type");
        tensor.fields((f) => {
          if (f === 1) v.elemType = tensor.int();
          else if (f === 2) {
            const shape = tensor.message("shape");
            v.dims = [];
            shape.fields((sf) => {
              if (sf !== 1) return false;
              const dim = shape.message("dim");
              let d: number | string | null = null;
              dim.fields((df) => {
                if (df === 1) d = dim.int();
                else if (df === 2) d = dim.string();
                else return false;
                return true;
              });
              v.dims!.push(d);
              return true;
            });
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return v;
}

function readGraph(r: Reader): GraphProto {
  const g: GraphProto = { name: "", nodes: [], initializers: [], sparseInitializers: 0, inputs: [], outputs: [] };
  r.fields((n) => {
    if (n === 1) g.nodes.push(readNode(r.message(`node ${g.nodes.length}`)));
    else if (n === 2) g.name = r.string();
    else if (n === 5) g.initializers.push(readTensor(r.message(`initializer ${g.initializers.length}`)));
    else if (n === 11) g.inputs.push(readValueInfo(r.message(`input ${g.inputs.length}`)));
    else if (n === 12) g.outputs.push(readValueInfo(r.message(`output ${g.outputs.length}`)));
    else if (n === 15) {
      r.bytes();
      g.sparseInitializers++;
    }
    else return false;
    return true;
  });
  return g;
}

/** Parses the bytes of a `.onnx` file (a serialized ModelProto); throws an Error naming what is wrong. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("onnx: expected the model's bytes as a Uint8Array");
  const r = new Reader(bytes, 0, bytes.length, "ModelProto", 0);
  const m: ModelProto = { irVersion: 0, producerName: "", producerVersion: "", docString: "", opsets: [], graph: null!, functions: 0 };
  r.fields((n) => {
    if (n === 1) m.irVersion = r.int();
    else if (n === 2) m.producerName = r.string();
    else if (n === 3) m.producerVersion = r.string();
    else if (n === 6) m.docString = r.string();
    else if (n === 7) m.graph = readGraph(r.message("graph"));
    else if (n === 8) {
      const op = r.message("opset_import");
      const entry = { domain: "", version: 0 };
      op.fields((f) => {
        if (f === 1) entry.domain = op.string();
        else if (f === 2) entry.version = op.int();
        else return false;
        return true;
      });
      m.opsets.push(entry);
    } else if (n === 25) {
      r.bytes();
      m.functions++;
    } else return false;
    return true;
  });
  if (m.graph === null) throw new Error(`onnx: not an ONNX model: no graph in the ${bytes.length} bytes (is this a .onnx file?)`);
  return m;
}

/** Parses a serialized TensorProto (the `.pb` files of ONNX's test data). */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return readTensor(new Reader(bytes, 0, bytes.length, "TensorProto", 0));
}
