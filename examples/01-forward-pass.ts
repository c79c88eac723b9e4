/**
 * @file Lecture: 順伝播 (forward pass). A single unit `z = relu(x·W + b)` and the 3-layer network
 * with the lecture's weights W1..W3, b1..b3 (seed 000 §1.1), first with plain tensors and
 * `matmul` exactly as the NumPy code, then as `nn.Linear` layers loaded with the same numbers.
 *
 *   npx tsx examples/01-forward-pass.ts
 */
import * as tg from "../src/index.ts"; // in your own project: import * as tg from "tensorgrad";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region single-unit
// 順伝播（単層・単ユニット）: u = x·W + b, z = relu(u)
const W = tg.tensor([[0.1], [0.2]]); // 2 inputs → 1 unit
const b = 0.5; // a number broadcasts like NumPy's scalar
const x = tg.tensor([2, 3]);
const u = x.matmul(W).add(b); // np.dot(x, W) + b = [2·0.1 + 3·0.2 + 0.5] = [1.3]
const z = tg.relu(u);
console.log("single unit: u =", u, " z =", z); // tensor([1.3000])
// #endregion

// #region three-layer
// 順伝播（3層・複数ユニット）: the lecture's weights, written as NumPy's (in × out) matrices
const network = {
  W1: tg.tensor([
    [0.1, 0.3, 0.5],
    [0.2, 0.4, 0.6],
  ]),
  W2: tg.tensor([
    [0.1, 0.4],
    [0.2, 0.5],
    [0.3, 0.6],
  ]),
  W3: tg.tensor([
    [0.1, 0.3],
    [0.2, 0.4],
  ]),
  b1: tg.tensor([0.1, 0.2, 0.3]),
  b2: tg.tensor([0.1, 0.2]),
  b3: tg.tensor([1, 2]),
};

function forward(net: typeof network, x: tg.Tensor) {
  const u1 = x.matmul(net.W1).add(net.b1); // 1層の総入力
  const z1 = tg.relu(u1); // 1層の総出力
  const u2 = z1.matmul(net.W2).add(net.b2); // 2層の総入力
  const z2 = tg.relu(u2); // 2層の総出力
  const y = z2.matmul(net.W3).add(net.b3); // 出力層: identity (回帰)
  return { z1, z2, y };
}

const out = forward(network, tg.tensor([1, 2]));
console.log("z1 =", out.z1); // tensor([0.6000, 1.3000, 2.0000])
console.log("z2 =", out.z2); // tensor([1.0200, 2.2900])
console.log("y  =", out.y); // tensor([1.5600, 3.2220])
// #endregion

// #region layers
// The same network as layers. nn.Linear keeps PyTorch's layout, weight [out, in], and computes
// x·weightᵀ + bias — so the lecture's W (in × out) is loaded transposed.
const model = new tg.nn.Sequential(
  new tg.nn.Linear(2, 3),
  new tg.nn.ReLU(),
  new tg.nn.Linear(3, 2),
  new tg.nn.ReLU(),
  new tg.nn.Linear(2, 2),
);
model.loadStateDict({
  "0.weight": network.W1.t(),
  "0.bias": network.b1,
  "2.weight": network.W2.t(),
  "2.bias": network.b2,
  "4.weight": network.W3.t(),
  "4.bias": network.b3,
});
const yLayers = model.call(tg.tensor([[1, 2]])) as tg.Tensor; // a batch of one input
console.log(model.toString());
console.log("nn.Sequential output:", yLayers); // tensor([[1.5600, 3.2220]])
// #endregion

// The network as the graph autograd recorded: three Linear layers (matmul + add), two ReLUs.
const input = tg.tensor([[1, 2]]);
await ex.save("network-graph", tg.viz.graphToSvg(model.call(input) as tg.Tensor, { names: { x: input, ...Object.fromEntries(model.namedParameters()) } }));

ex.report({
  u: u.item(),
  z: z.item(),
  z1: out.z1.toArray(),
  z2: out.z2.toArray(),
  y: out.y.toArray(),
  yLayers: (yLayers.toArray() as number[][])[0],
});
