/** @file `tg.viz`: pictures of the autograd graph behind a tensor (a plain description, Graphviz DOT, standalone SVG). */
export { graphToDot, type RenderOptions } from "./dot.ts";
export {
  describeGraph,
  type GraphDescription,
  type GraphEdge,
  type GraphNode,
  type GraphOptions,
  type OpGraphNode,
  type TensorGraphNode,
  type TensorNames,
} from "./graph.ts";
export { graphToSvg } from "./svg.ts";
