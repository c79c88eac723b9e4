/**
 * @file Lecture: 活性化関数 (activation functions). Step, sigmoid, ReLU, tanh and identity for the
 * hidden layers, softmax for the output — and why softmax subtracts the maximum first (the
 * overflow guard, seed 000 §1.3). Their derivatives come from autograd, and show why sigmoid's
 * (at most 0.25) makes deep networks' gradients vanish.
 *
 *   npx tsx examples/02-activations.ts      → examples/out/02-activations/activations.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region functions
// The lecture's NumPy definitions, written with tensor ops ...
const stepFunction = (x: tg.Tensor) => tg.where(x.gt(0), 1, 0); // np.where(x > 0, 1, 0)
const sigmoid = (x: tg.Tensor) => x.neg().exp().add(1).pow(-1); // 1 / (1 + np.exp(-x))
const relu = (x: tg.Tensor) => tg.maximum(x, 0); // np.maximum(0, x)

// ... agree with the built-in ones (tg.step, tg.sigmoid, tg.relu, tg.tanh).
const u = tg.linspace(-5, 5, 101);
console.log("max |sigmoid − tg.sigmoid| =", sigmoid(u).sub(tg.sigmoid(u)).abs().max().item());
console.log("max |relu − tg.relu|       =", relu(u).sub(tg.relu(u)).abs().max().item());
console.log("max |step − tg.step|       =", stepFunction(u).sub(tg.step(u)).abs().max().item());
// #endregion

// #region softmax
// Softmax: exp(u_i) / Σ exp(u_k). exp(1000) overflows to Infinity, and ∞/∞ = NaN ...
const big = tg.tensor([1000, 1001]);
const naive = big.exp().div(big.exp().sum());
console.log("naive softmax([1000, 1001]) =", naive); // tensor([nan, nan])

// ... but softmax(u) = softmax(u − max u), and exp(u − max u) ≤ 1 never overflows.
function softmax(x: tg.Tensor) {
  const shifted = x.sub(x.max()); // x - np.max(x)  # オーバーフロー対策
  return shifted.exp().div(shifted.exp().sum());
}
console.log("guarded softmax            =", softmax(big)); // tensor([0.2689, 0.7311])
console.log("tg.softmax(…, 0)           =", tg.softmax(big, 0)); // the built-in does the same
// #endregion

// #region derivatives
// Derivatives by autograd: sum the outputs, backward, read u.grad (each output depends on one input).
function derivative(f: (x: tg.Tensor) => tg.Tensor, at: tg.Tensor): tg.Tensor {
  const x = at.clone().requiresGrad_();
  f(x).sum().backward();
  return x.grad!;
}
const dSigmoid = derivative(tg.sigmoid, u);
const dTanh = derivative(tg.tanh, u);
console.log("max sigmoid'(u) =", dSigmoid.max().item(), "(= 0.25 at u = 0)");
console.log("max tanh'(u)    =", dTanh.max().item(), "(= 1 at u = 0)");
// #endregion

const xs = u.dataSync();
const curve = (t: tg.Tensor, label: string, dashed = false) => ({ x: xs, y: t.dataSync(), label, dashed });
const left = tg.viz.plot(
  [curve(tg.step(u), "step"), curve(tg.sigmoid(u), "sigmoid"), curve(tg.relu(u), "ReLU"), curve(tg.tanh(u), "tanh"), curve(u, "identity", true)],
  { title: "Activation functions f(u)", xLabel: "u", yLabel: "f(u)", yLim: [-1.3, 2.3], width: 480 },
);
const right = tg.viz.plot(
  [curve(dSigmoid, "sigmoid'"), curve(derivative(tg.relu, u), "ReLU'"), curve(dTanh, "tanh'")],
  { title: "Their derivatives (autograd)", xLabel: "u", yLabel: "f'(u)", yLim: [-0.1, 1.2], width: 480 },
);
await ex.save("activations", tg.viz.figure([left, right]));

ex.report({
  softmax: softmax(big).toArray(),
  naiveHasNaN: Array.from(naive.dataSync()).some(Number.isNaN),
  sigmoidAt0: tg.sigmoid(tg.tensor(0)).item(),
  maxSigmoidGrad: dSigmoid.max().item(),
  maxTanhGrad: dTanh.max().item(),
});
