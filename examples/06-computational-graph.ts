/**
 * @file Lecture: 計算グラフ (computational graphs, seed 004 lecture 3). z = (u + v)(u − v) as a
 * DAG, drawn as SVG (no Graphviz needed) and as DOT; the chain rule as a sum over paths gives
 * ∂z/∂u = 3 and ∂z/∂v = −1 at u = 1.5, v = 0.5, and backward() agrees. Also the lecture's
 * torchviz example y = sin(Σx + 2), and define-by-run: only the ops that actually ran are in the graph.
 *
 *   npx tsx examples/06-computational-graph.ts      → examples/out/06-computational-graph/*.svg
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region graph
// x = u + v, y = u − v, z = x·y. Each op records its inputs: the graph is built while computing.
const u = tg.tensor(1.5, { requiresGrad: true });
const v = tg.tensor(0.5, { requiresGrad: true });
const x = u.add(v);
const y = u.sub(v);
const z = x.mul(y);
console.log("z =", z, " z.gradFn =", z.gradFn?.name); // tensor(2., grad_fn=<MulBackward0>)

// The chain rule = sum over all paths from u to z of the product of the local derivatives:
// ∂z/∂u = ∂z/∂x·∂x/∂u + ∂z/∂y·∂y/∂u = y·1 + x·1,   ∂z/∂v = y·1 + x·(−1)
const byHandU = y.item() * 1 + x.item() * 1; // 1 + 2 = 3
const byHandV = y.item() * 1 + x.item() * -1; // 1 − 2 = −1

z.backward(); // reverse mode: walks the graph from z back to the leaves
console.log("by hand: ∂z/∂u =", byHandU, " ∂z/∂v =", byHandV);
console.log("backward: u.grad =", u.grad, " v.grad =", v.grad); // tensor(3.), tensor(-1.)

// Pictures of the graph: SVG directly, or DOT for Graphviz (`dot -Tsvg graph.dot`).
const names = { u, v, x, y, z };
const svg = tg.viz.graphToSvg(z, { names });
const dot = tg.viz.graphToDot(z, { names });
// #endregion
await ex.save("uv-graph", svg);
writeFileSync(join(ex.outDir, "uv-graph.dot"), dot);

// #region torchviz
// The lecture's torchviz example: y = sin(Σx + 2) for x = [1, 2, 3]
const xs = tg.tensor([1, 2, 3], { requiresGrad: true });
const ys = tg.sin(xs.sum().add(2));
ys.backward();
console.log("∇ sin(Σx + 2) =", xs.grad); // cos(8)·(1, 1, 1)
// #endregion
await ex.save("sin-graph", tg.viz.graphToSvg(ys, { names: { x: xs, y: ys } }));

// #region define-by-run
// Control flow is plain TypeScript: the graph holds only the branch that ran.
function f(t: tg.Tensor): tg.Tensor {
  return t.item() > 0 ? t.square() : t.neg().exp();
}
const a = tg.tensor(2, { requiresGrad: true });
const b = tg.tensor(-2, { requiresGrad: true });
f(a).backward();
f(b).backward();
console.log("f(2) took x²: grad =", a.grad?.item(), "; f(−2) took e^(−x): grad =", b.grad?.item()); // 4, −e²
const opsOf = (t: tg.Tensor) => tg.viz.describeGraph(t).nodes.flatMap((n) => (n.kind === "op" ? [n.label[0]] : []));
console.log("ops recorded:", opsOf(f(a)), "vs", opsOf(f(b)));

// Only floating-point tensors can require gradients: an integer one is a clear error.
try {
  tg.tensor([1, 2], { dtype: "int32", requiresGrad: true });
} catch (e) {
  console.log("int32 + requiresGrad →", (e as Error).message);
}
// #endregion

ex.report({
  z: z.item(),
  dzdu: u.grad!.item(),
  dzdv: v.grad!.item(),
  byHandU,
  byHandV,
  svgHasNodes: ["u", "v", "MulBackward0", "AddBackward0", "SubBackward0"].every((s) => svg.includes(s)),
  dotEdges: (dot.match(/->/g) ?? []).length,
  sinGrad: xs.grad!.toArray(),
  branchGrads: [a.grad!.item(), b.grad!.item()],
});
