/** @file Graphviz DOT text for the autograd graph behind a tensor, styled like torchviz. */
import type { Tensor } from "../tensor/tensor.ts";
import { describeGraph, type GraphNode, type GraphOptions } from "./graph.ts";

/** Options for the rendered graphs (DOT and SVG). */
export interface RenderOptions extends GraphOptions {
  /** Direction of data flow: "TB" (inputs at the top, the default), "BT", "LR" or "RL". */
  rankdir?: "TB" | "BT" | "LR" | "RL";
}

/** Fill colours by node kind, shared with the SVG renderer so both pictures agree. */
export const NODE_COLORS: Record<GraphNode["kind"], { fill: string; stroke: string; text: string }> = {
  leaf: { fill: "#add8e6", stroke: "#4a7f96", text: "#000000" }, // lightblue, as torchviz
  op: { fill: "#d3d3d3", stroke: "#7a7a7a", text: "#000000" }, // lightgrey
  output: { fill: "#caff70", stroke: "#6b8e23", text: "#000000" }, // darkolivegreen1
  constant: { fill: "#f0f0f0", stroke: "#b0b0b0", text: "#606060" },
};

/** A DOT double-quoted string: backslashes and quotes escaped, lines joined by `\n`. */
function dotString(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/\\/g, "\\\\").replace(/"/g, '\\"')).join("\\n")}"`;
}

function nodeAttrs(n: GraphNode): string {
  const c = NODE_COLORS[n.kind];
  const attrs = [`label=${dotString(n.label)}`, `fillcolor="${c.fill}"`, `color="${c.stroke}"`];
  if (n.kind === "constant") attrs.push("shape=ellipse", "fontsize=8", `fontcolor="${c.text}"`, "height=0.15", "margin=0.03");
  if (n.kind === "op" && n.attrs !== "") attrs.push(`tooltip=${dotString([`${n.op}(${n.attrs})`])}`);
  return attrs.join(", ");
}

/**
 * Graphviz DOT text of the graph that produced `y`: leaves as light-blue boxes (name, shape,
 * `requires_grad`), ops as grey boxes named like PyTorch's backward functions
 * ("MulBackward0") with their output shape, constants as small grey ellipses, and the output
 * in green. Render it with `dot -Tsvg graph.dot > graph.svg`, or use `graphToSvg` instead.
 *
 * @example
 * const u = tg.tensor([1, 2], { requiresGrad: true });
 * const v = tg.tensor([3, 4], { requiresGrad: true });
 * const z = u.add(v).mul(u.sub(v));
 * const dot = tg.viz.graphToDot(z, { names: { u, v } });
 * dot.includes('label="MulBackward0\\n[2]"'); // true
 */
export function graphToDot(y: Tensor | readonly Tensor[], opts: RenderOptions = {}): string {
  const g = describeGraph(y, opts);
  const out = [
    "digraph tensorgrad {",
    `  graph [rankdir=${opts.rankdir ?? "TB"}, nodesep=0.25, ranksep=0.35];`,
    '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10, height=0.2, margin="0.08,0.04"];',
    '  edge [arrowsize=0.7, color="#555555"];',
  ];
  for (const n of g.nodes) out.push(`  ${n.id} [${nodeAttrs(n)}];`);
  for (const e of g.edges) out.push(`  ${e.from} -> ${e.to};`);
  out.push("}");
  return `${out.join("\n")}\n`;
}
