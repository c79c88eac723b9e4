/**
 * @file What every op rule gets: a node's attributes, read with ONNX's defaults and checked for
 * their type, and helpers that turn the small integer tensors ONNX passes as inputs (shapes,
 * axes, pads) into JS numbers.
 */
import { normalizeDim } from "../../base/shape.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { AttributeProto, AttributeValue, NodeProto, TensorProto } from "./proto.ts";
import { tensorFromProto } from "./tensors.ts";

/** The attributes of one node. */
export class Attrs {
  private readonly map = new Map<string, AttributeProto>();
  constructor(readonly node: NodeProto) {
    for (const a of node.attributes) this.map.set(a.name, a);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  private get(name: string, want: string, check: (v: AttributeValue) => boolean): AttributeValue | undefined {
    const a = this.map.get(name);
    if (a === undefined) return undefined;
    if (!check(a.value)) throw new Error(`attribute "${name}" must be ${want}, got ${JSON.stringify(a.value).slice(0, 60)}`);
    return a.value;
  }

  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  int(name: string, dflt?: number): number | undefined {
    return (this.get(name, "an int", (v) => typeof v === "number" && Number.isInteger(v)) as number | undefined) ?? dflt;
  }

  float(name: string, dflt: number): number {
    return (this.get(name, "a number", (v) => typeof v === "number") as number | undefined) ?? dflt;
  }

  string(name: string, dflt: string): string {
    return (this.get(name, "a string", (v) => typeof v === "string") as string | undefined) ?? dflt;
  }

  ints(name: string): number[] | undefined {
    return this.get(name, "a list of ints", (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x))) as number[] | undefined;
  }

  floats(name: string): number[] | undefined {
    return this.get(name, "a list of floats", (v) => Array.isArray(v) && v.every((x) => typeof x === "number")) as number[] | undefined;
  }

  strings(name: string): string[] | undefined {
    return this.get(name, "a list of strings", (v) => Array.isArray(v) && v.every((x) => typeof x === "string")) as string[] | undefined;
  }

  tensor(name: string): Tensor | undefined {
    const t = this.get(name, "a tensor", (v) => typeof v === "object" && v !== null && !Array.isArray(v) && "dataType" in v) as TensorProto | undefined;
    return t === undefined ? undefined : tensorFromProto(t, `attribute "${name}"`);
  }
}

/** The values of a small integer (or float) tensor input as numbers; `what` names it in the error when absent. */
export function numbers(t: Tensor | undefined, what: string): number[] {
  if (t === undefined) throw new Error(`input ${what} is required`);
  return Array.from(t.dataSync(), Number);
}

/** A scalar input's value (a 0-D or one-element tensor), or `dflt` when the input is absent. */
export function scalar(t: Tensor | undefined, dflt: number | null, what: string): number | null {
  if (t === undefined) return dflt;
  if (t.numel() !== 1) throw new Error(`input ${what} must hold one value, got shape [${t.shape.join(", ")}]`);
  return Number(t.dataSync()[0]);
}

/** Axes normalised against `ndim` (ONNX allows negative axes counted from the end). */
export function axesOf(axes: readonly number[], ndim: number, op: string): number[] {
  return axes.map((a) => normalizeDim(a, ndim, op));
}

/**
 * One op's computation: the node's inputs (undefined where optional and absent), its attributes,
 * the model's opset for the default domain and how many outputs the node names.
 */
export type OpRule = (x: readonly (Tensor | undefined)[], a: Attrs, opset: number, outputs: number) => Tensor | readonly (Tensor | undefined)[];

/** Input `i`, which the op requires. */
export function req(x: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = x[i];
  if (t === undefined) throw new Error(`input ${i} is required`);
  return t;
}
