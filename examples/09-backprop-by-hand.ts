/**
 * @file Lecture: 誤差逆伝搬法 (backpropagation, seed 003). A 3-layer network for MNIST written the
 * way the lecture writes it — column vectors, U⁽ˡ⁾ = W⁽ˡ⁾Z⁽ˡ⁻¹⁾ + b⁽ˡ⁾1ᵀ, sigmoid hidden layers,
 * softmax output, cross entropy — with the gradients from the δ rules:
 *   Δ⁽³⁾ = Y − D,   Δ⁽ˡ⁾ = f'(U⁽ˡ⁾) ⊙ (W⁽ˡ⁺¹⁾ᵀ Δ⁽ˡ⁺¹⁾),   ∂L/∂W⁽ˡ⁾ = Δ⁽ˡ⁾Z⁽ˡ⁻¹⁾ᵀ / N,   ∂L/∂b⁽ˡ⁾ = Δ⁽ˡ⁾1 / N.
 * They equal autograd's to rounding, and mini-batch SGD with either gives the same weights.
 *
 *   npx tsx examples/09-backprop-by-hand.ts      → examples/out/09-backprop-by-hand/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const f64 = { dtype: "float64" as const };

// #region model
// Sizes: 784 → 64 → 32 → 10. Parameters in the lecture's layout: W⁽ˡ⁾ is [out, in] (as nn.Linear's).
tg.manualSeed(0);
const sizes = [784, 64, 32, 10];
const params = {
  W2: tg.randn([sizes[1]!, sizes[0]!], f64).div(Math.sqrt(sizes[0]!)), // Xavier: randn / √n
  b2: tg.zeros([sizes[1]!, 1], f64),
  W3: tg.randn([sizes[2]!, sizes[1]!], f64).div(Math.sqrt(sizes[1]!)),
  b3: tg.zeros([sizes[2]!, 1], f64),
  W4: tg.randn([sizes[3]!, sizes[2]!], f64).div(Math.sqrt(sizes[2]!)),
  b4: tg.zeros([sizes[3]!, 1], f64),
};
type Params = typeof params;

const sigmoid = (u: tg.Tensor) => u.neg().exp().add(1).pow(-1);
const softmaxColumns = (u: tg.Tensor) => {
  const e = u.sub(u.amax(0, true)).exp(); // overflow guard, per column (= per sample)
  return e.div(e.sum(0, true));
};

/** Forward pass on X [784, N] (one sample per column); keeps U and Z for the backward pass. */
function forward(p: Params, X: tg.Tensor) {
  const U2 = p.W2.matmul(X).add(p.b2); // b·1ᵀ is broadcasting
  const Z2 = sigmoid(U2);
  const U3 = p.W3.matmul(Z2).add(p.b3);
  const Z3 = sigmoid(U3);
  const U4 = p.W4.matmul(Z3).add(p.b4);
  const Y = softmaxColumns(U4);
  return { Z2, Z3, Y };
}
// #endregion

// #region backward
/** The δ rules. D is the one-hot labels [10, N]; returns the gradients of L = −Σ D ⊙ log Y / N. */
function backward(p: Params, X: tg.Tensor, D: tg.Tensor) {
  const N = X.shape[1]!;
  const { Z2, Z3, Y } = forward(p, X);
  const dsigmoid = (Z: tg.Tensor) => Z.mul(Z.neg().add(1)); // f'(U) = σ(U)(1 − σ(U)) = Z(1 − Z)
  const D4 = Y.sub(D); // Δ⁽⁴⁾ = Y − D   (softmax + cross entropy)
  const D3 = dsigmoid(Z3).mul(p.W4.t().matmul(D4)); // Δ⁽³⁾ = f'(U⁽³⁾) ⊙ W⁽⁴⁾ᵀΔ⁽⁴⁾
  const D2 = dsigmoid(Z2).mul(p.W3.t().matmul(D3)); // Δ⁽²⁾ = f'(U⁽²⁾) ⊙ W⁽³⁾ᵀΔ⁽³⁾
  return {
    W4: D4.matmul(Z3.t()).div(N), // ∂L/∂W⁽ˡ⁾ = Δ⁽ˡ⁾ Z⁽ˡ⁻¹⁾ᵀ / N
    b4: D4.sum(1, true).div(N), //   ∂L/∂b⁽ˡ⁾ = Δ⁽ˡ⁾ 1 / N
    W3: D3.matmul(Z2.t()).div(N),
    b3: D3.sum(1, true).div(N),
    W2: D2.matmul(X.t()).div(N),
    b2: D2.sum(1, true).div(N),
  };
}
// #endregion

const { x, y } = await tg.datasets.mnist({ split: "train" });
const batchOf = (idx: tg.Tensor) => ({ X: x.index(idx).to("float64").t(), D: tg.oneHot(y.index(idx), 10).to("float64").t() });

// #region compare
// One batch: the hand-written gradients against autograd's on the same loss.
const { X, D } = batchOf(tg.randperm(x.shape[0]!).narrow(0, 0, 64));
const hand = backward(params, X, D);
const leaves = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.clone().requiresGrad_()])) as Params;
const loss = forward(leaves, X).Y.log().mul(D).sum().neg().div(X.shape[1]!); // L = −Σ D ⊙ log Y / N
loss.backward();
const diffs = Object.fromEntries(Object.keys(params).map((k) => [k, hand[k as keyof Params].sub(leaves[k as keyof Params].grad!).abs().max().item()]));
console.log("max |δ-rule gradient − autograd| per parameter:", diffs);
// #endregion

// #region train
// Mini-batch SGD: W ← W − η ∂L/∂W, with the δ rules and, side by side, with autograd + optim.SGD.
const steps = ex.quick ? 30 : 300;
const eta = 0.5;
const byHand = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.clone()])) as Params;
const auto = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.clone().requiresGrad_()])) as Params;
const sgd = new tg.optim.SGD(Object.values(auto), { lr: eta });
const losses: number[] = [];
for (let t = 0; t < steps; t++) {
  const batch = batchOf(tg.randperm(x.shape[0]!).narrow(0, 0, 100));
  const g = backward(byHand, batch.X, batch.D);
  for (const k of Object.keys(byHand) as (keyof Params)[]) byHand[k] = byHand[k].sub(g[k].mul(eta));
  sgd.zeroGrad();
  const l = forward(auto, batch.X).Y.log().mul(batch.D).sum().neg().div(100);
  l.backward();
  sgd.step();
  losses.push(l.item());
}
const drift = Math.max(...(Object.keys(byHand) as (keyof Params)[]).map((k) => byHand[k].sub(auto[k]).abs().max().item()));
console.log(`after ${steps} SGD steps: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}; max |W_hand − W_autograd| = ${drift.toExponential(2)}`);
// #endregion

await ex.save(
  "training-loss",
  tg.viz.plot([{ y: losses, label: "mini-batch loss (δ rules = autograd)" }], { title: "3-layer network on MNIST, SGD η = 0.5", xLabel: "step", yLabel: "cross entropy" }),
);

ex.report({ gradDiffs: diffs, firstLoss: losses[0], lastLoss: losses.at(-1), drift, steps });
