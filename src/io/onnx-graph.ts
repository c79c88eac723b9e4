/**
 * @file Building an ONNX graph while walking a model: nodes named after the module path as
 * PyTorch's exporter names them (`/0/Gemm`, `/block/1/Conv`), parameters as float32 initializers
 * under their state-dict names, small constants, and typed attribute helpers.
 */
import type { Tensor } from "../tensor/tensor.ts";
import { DataType } from "./onnx-fields.ts";
import type { Attribute, Node, TensorValue } from "./onnx-proto.ts";

export const float = (name: string, value: number): Attribute => ({ name, type: "float", value });
export const int = (name: string, value: number): Attribute => ({ name, type: "int", value });
export const ints = (name: string, value: readonly number[]): Attribute => ({ name, type: "ints", value });
export const string = (name: string, value: string): Attribute => ({ name, type: "string", value });

/** Little-endian float32 bytes of `values` (float64 values are rounded to float32). */
function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i]!), true);
  return out;
}

/** The nodes and initializers of one graph, in the order they are added (which is topological). */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: TensorValue[] = [];
  private readonly names = new Set<string>(["input", "output"]);
  private readonly tensorNames = new Map<Tensor, string>();

  /** `base`, or `base_1`, `base_2`, … if taken. */
  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds an `opType` node in `scope` (e.g. "/0"); returns the name of its output value. */
  node(scope: string, opType: string, inputs: readonly string[], attributes: readonly Attribute[] = []): string {
    const name = this.unique(`${scope}/${opType}`);
    const output = this.unique(`${name}_output_0`);
    this.nodes.push({ name, opType, inputs, outputs: [output], attributes });
    return output;
  }

  /** A parameter or buffer as a float32 initializer under its state-dict `name` (a tensor shared by two layers is stored once). */
  parameter(name: string, t: Tensor): string {
    const known = this.tensorNames.get(t);
    if (known !== undefined) return known;
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dataType: DataType.FLOAT, dims: [...t.shape], raw: float32Bytes(t.dataSync()) });
    this.tensorNames.set(t, unique);
    return unique;
  }

  /** A float32 constant named `${scope}/${label}`. */
  floats(scope: string, label: string, values: ArrayLike<number>, dims: readonly number[] = []): string {
    const name = this.unique(`${scope}/${label}`);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw: float32Bytes(values) });
    return name;
  }

  /** An int64 constant (a shape, indices) named `${scope}/${label}`. */
  int64s(scope: string, label: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.unique(`${scope}/${label}`);
    this.initializers.push({ name, dataType: DataType.INT64, dims, raw: int64Bytes(values) });
    return name;
  }

  /** Renames value `from` to `to` wherever it appears (used to name the graph's output "output"). */
  rename(from: string, to: string): void {
    const swap = (names: readonly string[]) => names.map((n) => (n === from ? to : n));
    for (const [i, n] of this.nodes.entries()) this.nodes[i] = { ...n, inputs: swap(n.inputs), outputs: swap(n.outputs) };
  }
}
