/**
 * @file `tg.onnx.importModel` and `tg.onnx.inspect`: an ONNX graph as an nn.Module whose forward
 * runs the nodes, in a checked topological order, with tensorgrad ops. Float initializers become
 * Parameters under their ONNX names (so stateDict(), optimizers and safetensors see them);
 * integer ones (shapes, indices) stay constants. Shapes are taken from the tensors at run time,
 * so dynamic dims (a symbolic batch "N") need nothing special.
 */
import { isFloating } from "../../base/dtype.ts";
import { formatShape } from "../../base/shape.ts";
import { Module } from "../../nn/module.ts";
import { Parameter } from "../../nn/parameter.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { AttributeType, DataType } from "../onnx-fields.ts";
import { Attrs, type OpRule } from "./attrs.ts";
import { MATH_OPS } from "./ops-math.ts";
import { FUSED_OPS, NN_OPS } from "./ops-nn.ts";
import { RESIZE_OPS } from "./ops-resize.ts";
import { RNN_OPS } from "./ops-rnn.ts";
import { SHAPE_OPS } from "./ops-shape.ts";
import { decodeModel, type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto } from "./proto.ts";
import { elementCount, onnxTypeName, onnxTypeOf, setOnnxType, tensorFromProto } from "./tensors.ts";

const RULES: Record<string, OpRule> = { ...MATH_OPS, ...SHAPE_OPS, ...NN_OPS, ...RESIZE_OPS, ...RNN_OPS };

/** The ONNX ops (default domain) that importModel runs. */
export const supportedOps: readonly string[] = Object.keys(RULES).sort();

/** The opsets this importer follows (each op's rule reads the opset where the op changed). */
const MIN_OPSET = 1;
const MAX_OPSET = 18;

/** An input or output of the graph: its name, ONNX element type and dims (numbers, symbolic names, or null when unknown). */
export interface ValueSummary {
  name: string;
  type: string;
  shape: (number | string | null)[] | null;
}

export interface ModelSummary {
  irVersion: number;
  opset: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** Node count per op type, in order of first appearance. */
  ops: Record<string, number>;
  /** Op types that importModel does not support (empty when it can run the model). */
  unsupported: string[];
  /** Number of values in the float initializers (the trainable parameters). */
  parameters: number;
  initializers: number;
}

function defaultOpset(m: ModelProto): number {
  const entry = m.opsets.find((o) => o.domain === "" || o.domain === "ai.onnx");
  return entry?.version ?? 1;
}

/** The element types whose initializers inspect counts as parameters. */
const FLOAT_TYPES: readonly number[] = [DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16];
const summary = (v: ValueInfoProto): ValueSummary => ({ name: v.name, type: onnxTypeName(v.elemType), shape: v.dims });
const isDefaultDomain = (n: NodeProto) => n.domain === "" || n.domain === "ai.onnx";
const opName = (n: NodeProto) => (isDefaultDomain(n) ? n.opType : `${n.domain}.${n.opType}`);

/**
 * A summary of an ONNX model: opset, inputs and outputs with their shapes, op counts and the
 * number of parameters, without running it.
 *
 * @example tg.onnx.inspect(fs.readFileSync("model.onnx")).ops // { Gemm: 2, Relu: 1 }
 */
export function inspect(bytes: Uint8Array): ModelSummary {
  const m = decodeModel(bytes);
  const g = m.graph;
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[opName(n)] = (ops[opName(n)] ?? 0) + 1;
  const init = new Set(g.initializers.map((t) => t.name));
  let parameters = 0;
  for (const t of g.initializers) if (FLOAT_TYPES.includes(t.dataType)) parameters += elementCount(t.dims, `initializer "${t.name}"`);
  return {
    irVersion: m.irVersion,
    opset: defaultOpset(m),
    producer: [m.producerName, m.producerVersion].filter((s) => s !== "").join(" "),
    inputs: g.inputs.filter((v) => !init.has(v.name)).map(summary),
    outputs: g.outputs.map(summary),
    ops,
    unsupported: Object.keys(ops).filter((o) => !(o in RULES)),
    parameters,
    initializers: g.initializers.length,
  };
}

/** The nodes in an order where every input is computed before use; an Error for a cycle or a missing value. */
function schedule(g: GraphProto, known: Set<string>): NodeProto[] {
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (o === "") continue;
      if (producer.has(o) || known.has(o)) throw new Error(`onnx: value "${o}" is produced twice (node "${n.name}" (${n.opType}) and an earlier node or input)`);
      producer.set(o, i);
    }
  });
  const state = new Uint8Array(g.nodes.length); // 0 new, 1 on the stack, 2 done
  const order: NodeProto[] = [];
  for (let root = 0; root < g.nodes.length; root++) {
    if (state[root] !== 0) continue;
    // iterative depth-first search, so a long chain cannot overflow the stack
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const node = g.nodes[top[0]]!;
      if (top[1] < node.inputs.length) {
        const name = node.inputs[top[1]++]!;
        if (name === "" || known.has(name)) continue;
        const p = producer.get(name);
        if (p === undefined)
          throw new Error(`onnx: node "${node.name}" (${node.opType}) reads "${name}", which no node, input or initializer produces`);
        if (state[p] === 1) throw new Error(`onnx: the graph has a cycle through node "${g.nodes[p]!.name}" (${g.nodes[p]!.opType}) and value "${name}"`);
        if (state[p] === 0) {
          state[p] = 1;
          stack.push([p, 0]);
        }
      } else {
        state[top[0]] = 2;
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * Conv → Relu, Gemm → Relu and Conv → Relu → MaxPool (kernel = stride, no padding) where the
 * intermediate values feed only the next node: one step each, run by the fused rules as
 * nn.Sequential runs Conv2d → ReLU → MaxPool2d, so the backends' fused kernels apply.
 */
function fuse(order: NodeProto[], outputs: Set<string>): NodeProto[] {
  const readers = new Map<string, NodeProto[]>();
  for (const n of order) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  const only = (n: NodeProto, op: string): NodeProto | null => {
    const o = n.outputs[0]!;
    const r = readers.get(o) ?? [];
    const next = r[0];
    if (n.outputs.length !== 1 || outputs.has(o) || r.length !== 1 || next!.opType !== op || !isDefaultDomain(next!)) return null;
    return next!.inputs.filter((i) => i === o).length === 1 && next!.inputs[0] === o ? next! : null;
  };
  const gone = new Set<NodeProto>();
  const fused = new Map<NodeProto, NodeProto>();
  for (const n of order) {
    if ((n.opType !== "Conv" && n.opType !== "Gemm") || !isDefaultDomain(n) || gone.has(n)) continue;
    const relu = only(n, "Relu");
    if (relu === null) continue;
    let last = relu;
    const attributes = [...n.attributes];
    const pool = n.opType === "Conv" ? only(relu, "MaxPool") : null;
    if (pool !== null && pool.outputs.filter((o) => o !== "").length === 1) {
      const a = new Attrs(pool);
      const k = a.ints("kernel_shape");
      const plain = a.int("ceil_mode", 0) === 0 && a.string("auto_pad", "NOTSET") === "NOTSET" && (a.ints("pads") ?? []).every((p) => p === 0);
      if (k?.length === 2 && plain && (a.ints("dilations") ?? [1, 1]).every((d) => d === 1) && JSON.stringify(a.ints("strides") ?? [1, 1]) === JSON.stringify(k)) {
        attributes.push({ name: "__pool", type: AttributeType.INTS, value: k });
        last = pool;
      }
    }
    const opType = `${n.opType}+Relu${last === pool ? "+MaxPool" : ""}`;
    fused.set(n, { ...n, opType, attributes, outputs: [last.outputs[0]!] });
    gone.add(relu);
    gone.add(last);
  }
  return order.filter((n) => !gone.has(n)).map((n) => fused.get(n) ?? n);
}

interface Step {
  node: NodeProto;
  rule: OpRule;
  attrs: Attrs;
  /** Values no later step reads: dropped after this one, so intermediate tensors can be freed. */
  last: string[];
}

/**
 * An ONNX model as a Module: `forward(...inputs)` takes one tensor per graph input (in the
 * graph's order) and returns the output, or an array when the graph has several. Float
 * initializers are Parameters named as in the file (`fc1.weight`, or `onnx::Conv_12`).
 * BatchNormalization always uses its stored statistics (they are Parameters that do not require
 * grad) and Dropout is the identity, in training mode too.
 */
export class OnnxModel extends Module {
  /** @internal */
  readonly _opset: number;
  /** @internal */
  readonly _inputs: ValueSummary[];
  /** @internal */
  readonly _outputs: string[];
  /** @internal */
  readonly _constants = new Map<string, Tensor>();
  /** @internal */
  readonly _params = new Map<string, Parameter>();
  /** @internal */
  readonly _steps: Step[] = [];

  constructor(model: ModelProto) {
    super();
    const g = model.graph;
    this._opset = defaultOpset(model);
    if (this._opset < MIN_OPSET || this._opset > MAX_OPSET)
      throw new Error(`onnx.importModel: opset ${this._opset} is outside the supported ${MIN_OPSET}–${MAX_OPSET}`);
    if (g.sparseInitializers > 0) throw new Error("onnx.importModel: sparse initializers are not supported");
    const unsupported = g.nodes.filter((n) => !isDefaultDomain(n) || !(n.opType in RULES));
    if (unsupported.length > 0) {
      const n = unsupported[0]!;
      throw new Error(
        `onnx.importModel: op ${opName(n)} (node "${n.name}") is not supported${unsupported.length > 1 ? ` (nor ${[...new Set(unsupported.map(opName))].join(", ")})` : ""}; supported ops: ${supportedOps.join(", ")}`,
      );
    }
    const frozen = new Set<string>();
    for (const n of g.nodes) if (n.opType === "BatchNormalization") for (const i of [3, 4]) if (n.inputs[i]) frozen.add(n.inputs[i]!);
    for (const t of g.initializers) {
      if (this._params.has(t.name) || this._constants.has(t.name)) throw new Error(`onnx.importModel: initializer "${t.name}" appears twice`);
      const value = tensorFromProto(t, `initializer "${t.name}"`);
      if (isFloating(value.dtype) && !t.name.startsWith("_") && !(t.name in this)) {
        const p = new Parameter(value, !frozen.has(t.name));
        this._params.set(t.name, p);
        Object.defineProperty(this, t.name, { value: p, enumerable: true, configurable: true, writable: true });
      } else this._constants.set(t.name, value);
    }
    this._inputs = g.inputs.filter((v) => !this._params.has(v.name) && !this._constants.has(v.name)).map(summary);
    this._outputs = g.outputs.map((o) => o.name);
    if (this._outputs.length === 0) throw new Error("onnx.importModel: the graph has no outputs");
    const known = new Set([...this._params.keys(), ...this._constants.keys(), ...this._inputs.map((i) => i.name)]);
    const order = fuse(schedule(g, known), new Set(this._outputs));
    const produced = new Set(known);
    for (const n of order) for (const o of n.outputs) produced.add(o);
    for (const o of this._outputs) if (!produced.has(o)) throw new Error(`onnx.importModel: graph output "${o}" is not produced by any node`);
    const lastUse = new Map<string, number>();
    order.forEach((n, i) => {
      for (const v of n.inputs) lastUse.set(v, i);
    });
    const keep = new Set([...this._outputs, ...known]);
    const last: string[][] = order.map(() => []);
    for (const [v, i] of lastUse) if (!keep.has(v)) last[i]!.push(v);
    order.forEach((node, i) => {
      this._steps.push({ node, rule: RULES[node.opType] ?? FUSED_OPS[node.opType]!, attrs: new Attrs(node), last: last[i]! });
    });
  }

  override forward(...inputs: Tensor[]): Tensor | Tensor[] {
    if (inputs.length !== this._inputs.length)
      throw new Error(`OnnxModel.forward: the graph takes ${this._inputs.length} input(s) (${this._inputs.map((i) => i.name).join(", ")}), got ${inputs.length}`);
    const values = new Map<string, Tensor>(this._constants);
    // the properties, not _params: a parameter reassigned on the module (model["fc.weight"] = …) is the one used
    for (const k of this._params.keys()) values.set(k, (this as unknown as Record<string, Tensor>)[k]!);
    this._inputs.forEach((spec, i) => {
      const t = inputs[i];
      if (!(t instanceof Tensor)) throw new TypeError(`OnnxModel.forward: input "${spec.name}" must be a Tensor`);
      const dims = spec.shape;
      if (dims !== null && (dims.length !== t.ndim || dims.some((d, j) => typeof d === "number" && d > 0 && d !== t.shape[j])))
        throw new Error(`OnnxModel.forward: input "${spec.name}" must have shape ${formatShape(dims.map((d) => d ?? "?") as never)}, got ${formatShape(t.shape)}`);
      values.set(spec.name, t);
      if (onnxTypeOf(t) === undefined) setOnnxType(t, spec.type);
    });
    for (const { node, rule, attrs, last } of this._steps) {
      const args = node.inputs.map((n) => (n === "" ? undefined : values.get(n)));
      let out: Tensor | readonly (Tensor | undefined)[];
      try {
        out = rule(args, attrs, this._opset, node.outputs.length);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const shapes = args.map((a) => (a === undefined ? "none" : formatShape(a.shape))).join(", ");
        throw new Error(`onnx: node "${node.name}" (${node.opType}) with inputs of shape ${shapes}: ${msg}`);
      }
      const outs = out instanceof Tensor ? [out] : out;
      node.outputs.forEach((name, i) => {
        if (name === "") return;
        const v = outs[i];
        if (v === undefined) throw new Error(`onnx: node "${node.name}" (${node.opType}): output ${i} ("${name}") is not computed by tensorgrad's ${node.opType}`);
        values.set(name, v);
      });
      for (const v of last) values.delete(v);
    }
    const results = this._outputs.map((o) => values.get(o)!);
    return results.length === 1 ? results[0]! : results;
  }

  /** The graph's input names, in forward's argument order. */
  get inputNames(): string[] {
    return this._inputs.map((i) => i.name);
  }

  /** The graph's output names. */
  get outputNames(): string[] {
    return [...this._outputs];
  }

  override extraRepr(): string {
    return `opset=${this._opset}, inputs=[${this.inputNames.join(", ")}], outputs=[${this._outputs.join(", ")}], nodes=${this._steps.length}, parameters=${this._params.size}`;
  }
}

/** The bytes of a file (Node.js), or the bytes themselves. */
async function bytesOf(src: Uint8Array | ArrayBuffer | string): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src;
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (typeof src !== "string") throw new TypeError("onnx.importModel: expects the model's bytes (Uint8Array) or a file path");
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs/promises") as typeof import("node:fs/promises") | undefined;
  if (fs === undefined) throw new Error("onnx.importModel: reading a file path needs Node.js; in a browser pass the bytes (await (await fetch(url)).arrayBuffer())");
  const b = await fs.readFile(src);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Imports an ONNX model (e.g. one `torch.onnx.export` wrote) as a Module that runs it with
 * tensorgrad ops, so it can be called, inspected and trained. Unsupported ops are an Error
 * naming the op, its node and the supported ops.
 *
 * @example
 * const model = await tg.onnx.importModel("mlp.onnx");
 * const y = model.call(tg.randn([8, 784]));     // any batch size when the file's batch dim is symbolic
 * Object.keys(model.stateDict())                 // ["fc1.weight", "fc1.bias", …]
 */
export async function importModel(src: Uint8Array | ArrayBuffer | string): Promise<OnnxModel> {
  return importModelSync(await bytesOf(src));
}

/** `importModel` on bytes, without `await`. */
export function importModelSync(bytes: Uint8Array): OnnxModel {
  return new OnnxModel(decodeModel(bytes));
}
