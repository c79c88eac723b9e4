/** @file Walks the recorded autograd graph behind a tensor into a plain description (nodes, edges, labels) that the DOT and SVG renderers draw. */
import type { Node } from "../autograd/node.ts";
import type { PrimOp } from "../autograd/rules.ts";
import type { DType } from "../base/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Labels for tensors: a `Map` from tensor to name, or an object such as `{ x, W, b }`. */
export type TensorNames = ReadonlyMap<Tensor, string> | Readonly<Record<string, Tensor>>;

/** Options shared by `describeGraph`, `graphToDot` and `graphToSvg`. */
export interface GraphOptions {
  /** Names to print on leaves, constants, outputs, and on ops whose output tensor is named. */
  names?: TensorNames;
  /** Print shapes (and non-float32 dtypes) in the labels. Default true. */
  showShapes?: boolean;
  /** Print each op's recorded parameters (e.g. `axes=[1], keepdim=true`). Default false. */
  showAttrs?: boolean;
}

/** A recorded op: its backward name ("MulBackward0"), the primitive ("mul") and its output. */
export interface OpGraphNode {
  kind: "op";
  id: string;
  /** Lines of the printed label. */
  label: string[];
  /** The backward function's name, as PyTorch prints it: "MulBackward0". */
  backward: string;
  /** The primitive that ran: "mul". */
  op: PrimOp;
  /** Recorded parameters formatted as `key=value, …` ("" when the op has none). */
  attrs: string;
  /** Shape and dtype of the op's output. */
  shape: readonly number[];
  dtype: DType;
  /** The name given to the op's output tensor, if any. */
  name?: string;
}

/**
 * A tensor drawn as its own node: a leaf that requires grad, a constant (an input that
 * does not require grad: scalars from numbers, detached or plain data tensors), or an output.
 */
export interface TensorGraphNode {
  kind: "leaf" | "constant" | "output";
  id: string;
  label: string[];
  shape: readonly number[];
  dtype: DType;
  requiresGrad: boolean;
  name?: string;
  /** The value of a one-element constant. */
  value?: number | boolean;
}

export type GraphNode = OpGraphNode | TensorGraphNode;

/** Data flows along an edge: `from` is an input (at position `input`) of `to`. */
export interface GraphEdge {
  from: string;
  to: string;
  /** Which input of `to` this is (0 for the edge from an op to its output node). */
  input: number;
}

/** The graph that produced one or more tensors, nodes in topological order (inputs first). */
export interface GraphDescription {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Ids of the output nodes, in the order the outputs were given. */
  outputs: string[];
}

/** `[2, 3]`, `[]` for a scalar. */
export function formatShapeForViz(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A compact number: 0.1 rather than 0.10000000149011612. */
function formatValue(v: number | boolean): string {
  if (typeof v === "boolean") return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

function formatAttrs(params: unknown): string {
  if (params === null || typeof params !== "object") return "";
  return Object.entries(params as Record<string, unknown>)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

function namesMap(names: TensorNames | undefined): ReadonlyMap<Tensor, string> {
  if (names === undefined) return new Map();
  if (names instanceof Map) return names;
  const out = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(names as Record<string, Tensor>)) if (!out.has(t)) out.set(t, name);
  return out;
}

/** Label lines, with any newline inside a user's name splitting it over lines. */
function lines(...parts: (string | undefined | false)[]): string[] {
  return parts.filter((p): p is string => typeof p === "string" && p !== "").flatMap((p) => p.split(/\r?\n/));
}

/**
 * Describes the graph that produced `y` (or several outputs): one node per recorded op, one
 * per leaf or constant input, one per output; a tensor or op reached along several paths
 * appears once, so the result is a DAG, not a tree. Nothing is computed or freed.
 *
 * @example
 * const x = tg.tensor([1, 2, 3], { requiresGrad: true });
 * const y = x.mul(2).sum();
 * const g = tg.viz.describeGraph(y, { names: { x } });
 * g.nodes.map((n) => n.label[0]); // ["x", "2", "MulBackward0", "SumBackward0", "output"]
 */
export function describeGraph(y: Tensor | readonly Tensor[], opts: GraphOptions = {}): GraphDescription {
  const outputs = Array.isArray(y) ? [...new Set(y as readonly Tensor[])] : [y as Tensor];
  const names = namesMap(opts.names);
  const showShapes = opts.showShapes ?? true;
  const showAttrs = opts.showAttrs ?? false;
  const outputSet = new Set(outputs);

  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const opIds = new Map<Node, string>();
  const tensorIds = new Map<Tensor, string>();
  const nextId = () => `n${nodes.length}`;
  const shapeText = (shape: readonly number[], dtype: DType, always: boolean) =>
    showShapes ? `${formatShapeForViz(shape)}${always || dtype !== "float32" ? ` ${dtype}` : ""}` : undefined;

  /** The node drawn for a tensor without a producing op (created on first sight). */
  const tensorNode = (t: Tensor): string => {
    const known = tensorIds.get(t);
    if (known !== undefined) return known;
    const id = nextId();
    const name = names.get(t);
    const kind = outputSet.has(t) ? "output" : t.requiresGrad ? "leaf" : "constant";
    let label: string[];
    let value: number | boolean | undefined;
    if (kind === "constant") {
      if (t.numel() === 1) {
        const v = t.item();
        value = t.dtype === "bool" ? v !== 0 : v;
      }
      const head = value === undefined ? (name ?? "const") : name === undefined ? formatValue(value) : `${name} = ${formatValue(value)}`;
      label = lines(head, t.ndim > 0 && shapeText(t.shape, t.dtype, false));
    } else {
      label = lines(name ?? (kind === "output" ? "output" : undefined), shapeText(t.shape, t.dtype, true), t.requiresGrad && "requires_grad");
      if (label.length === 0) label = ["tensor"];
    }
    const node: TensorGraphNode = { kind, id, label, shape: t.shape, dtype: t.dtype, requiresGrad: t.requiresGrad };
    if (name !== undefined) node.name = name;
    if (value !== undefined) node.value = value;
    nodes.push(node);
    tensorIds.set(t, id);
    return id;
  };

  const opNode = (n: Node): string => {
    const id = nextId();
    const out = n.out;
    // an output's name goes on its own output node, not on the op as well
    const name = outputSet.has(out) ? undefined : names.get(out);
    const attrs = formatAttrs(n.params);
    const shape = shapeText(out.shape, out.dtype, false);
    const label = lines(n.name, name !== undefined && shape !== undefined ? `${name}: ${shape}` : (name ?? shape), showAttrs && attrs);
    const node: OpGraphNode = { kind: "op", id, label, backward: n.name, op: n.op, attrs, shape: out.shape, dtype: out.dtype };
    if (name !== undefined) node.name = name;
    nodes.push(node);
    opIds.set(n, id);
    n.inputs.forEach((t, i) => {
      edges.push({ from: t._node === null ? tensorNode(t) : opIds.get(t._node)!, to: id, input: i });
    });
    return id;
  };

  /** Post-order walk without recursion (graphs can be thousands of ops deep). */
  const walk = (root: Node): string => {
    const stack: { n: Node; next: number }[] = [{ n: root, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.n.inputs.length) {
        const t = top.n.inputs[top.next++]!;
        if (t._node === null) tensorNode(t);
        else if (!opIds.has(t._node)) stack.push({ n: t._node, next: 0 });
      } else {
        stack.pop();
        if (!opIds.has(top.n)) opNode(top.n);
      }
    }
    return opIds.get(root)!;
  };

  const outputIds = outputs.map((t) => {
    if (t._node === null) return tensorNode(t);
    const from = opIds.get(t._node) ?? walk(t._node);
    const id = nextId();
    const name = names.get(t);
    nodes.push({
      kind: "output",
      id,
      label: lines(name ?? "output", shapeText(t.shape, t.dtype, true)),
      shape: t.shape,
      dtype: t.dtype,
      requiresGrad: t.requiresGrad,
      ...(name !== undefined ? { name } : {}),
    });
    edges.push({ from, to: id, input: 0 });
    return id;
  });
  return { nodes, edges, outputs: outputIds };
}
