/**
 * @file Lecture: ロジスティック回帰 (seed 003, "つくってみよう2"). y = σ(wᵀx) = Pr(d = 1 | x), trained by
 * minimising the cross entropy H = −Σ [d log y + (1 − d) log(1 − y)] with gradient descent. The
 * gradient simplifies to (y − d)x; autograd gives the same numbers without the derivation.
 *
 *   npx tsx examples/08-logistic-regression.ts      → examples/out/08-logistic-regression/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region data
// 1-D data: class 0 around x = −1, class 1 around x = +1.5, overlapping.
tg.manualSeed(1);
const n = 200;
const f64 = { dtype: "float64" as const };
const d = tg.cat([tg.zeros([n / 2], f64), tg.ones([n / 2], f64)], 0); // labels d ∈ {0, 1}
const x = tg.cat([tg.randn([n / 2], f64).sub(1), tg.randn([n / 2], f64).add(1.5)], 0);
const X = tg.stack([x, tg.onesLike(x)], 1); // [x, 1]: the bias is the weight of a constant input
// #endregion

// #region functions
const sigmoid = (z: tg.Tensor) => z.neg().exp().add(1).pow(-1); // 1. σ(z) = 1 / (1 + e^(−z))
const crossEntropy = (d: tg.Tensor, y: tg.Tensor) =>
  d.mul(y.log()).add(d.neg().add(1).mul(y.neg().add(1).log())).sum().neg(); // 2. H(d, y)
// #endregion

// #region gradient-descent
// 3. w ← w − η ∂L/∂w with ∂L/∂w = Σ (y − d) x  =  Xᵀ(y − d)
let w = tg.zeros([2], f64);
const eta = 0.002;
const steps = ex.quick ? 150 : 300;
const losses: number[] = [];
for (let t = 0; t < steps; t++) {
  const y = sigmoid(X.matmul(w));
  losses.push(crossEntropy(d, y).item());
  w = w.sub(X.t().matmul(y.sub(d)).mul(eta));
}
const accuracy = sigmoid(X.matmul(w)).gt(0.5).eq(d.gt(0.5)).to("float64").mean().item();
console.log(`after ${steps} steps: w = ${w.dataSync()[0]!.toFixed(4)}, b = ${w.dataSync()[1]!.toFixed(4)}, H = ${losses.at(-1)!.toFixed(4)}, accuracy = ${accuracy}`);
// #endregion

// #region autograd
// The derivation (y − d)x, checked against autograd at some w:
const wProbe = tg.tensor([0.3, -0.2], { ...f64, requiresGrad: true });
const yProbe = sigmoid(X.matmul(wProbe));
crossEntropy(d, yProbe).backward();
const byHand = X.t().matmul(yProbe.detach().sub(d));
console.log("∂H/∂w by hand:", byHand, " autograd:", wProbe.grad);

// The library version: logits + binaryCrossEntropyWithLogits (stable), trained with SGD from
// the same zero start. BCE is a mean over the n samples, so lr = η·n gives the very same steps.
const model = new tg.nn.Linear(1, 1, { dtype: "float64" });
tg.nn.init.zeros(model.weight);
tg.nn.init.zeros(model.bias!);
const opt = new tg.optim.SGD(model.parameters(), { lr: eta * n });
for (let t = 0; t < steps; t++) {
  opt.zeroGrad();
  const logits = (model.call(x.unsqueeze(1)) as tg.Tensor).squeeze(1);
  tg.F.binaryCrossEntropyWithLogits(logits, d).backward();
  opt.step();
}
console.log("nn.Linear + BCE-with-logits: w =", model.weight.item(), " b =", model.bias!.item());
// #endregion

// #region minimum-at-p
// Why cross entropy: if Pr(d = 1) = 0.7, H(y) = −(0.7 log y + 0.3 log(1 − y)) is smallest at y = 0.7.
const ys = tg.linspace(0.01, 0.99, 99, f64);
const H = ys.log().mul(0.7).add(ys.neg().add(1).log().mul(0.3)).neg();
const yBest = ys.dataSync()[H.argmin().item()]!;
console.log("argmin H(y) for p = 0.7:", yBest);
// #endregion

const grid = tg.linspace(-4.5, 5, 96, f64);
const curve = sigmoid(tg.stack([grid, tg.onesLike(grid)], 1).matmul(w));
const xd = x.dataSync();
const dd = d.dataSync();
await ex.save(
  "logistic-regression",
  tg.viz.figure([
    tg.viz.plot(
      [
        { x: xd.filter((_, i) => dd[i] === 0), y: xd.filter((_, i) => dd[i] === 0).map(() => 0), label: "d = 0", mode: "markers", opacity: 0.5 },
        { x: xd.filter((_, i) => dd[i] === 1), y: xd.filter((_, i) => dd[i] === 1).map(() => 1), label: "d = 1", mode: "markers", opacity: 0.5 },
        { x: grid.dataSync(), y: curve.dataSync(), label: "σ(wx + b) = Pr(d = 1 | x)", color: "#2ca02c" },
      ],
      { title: "Logistic regression in 1-D", xLabel: "x", yLabel: "Pr(d = 1 | x)", yLim: [-0.1, 1.5], legend: "top-left", width: 460 },
    ),
    tg.viz.plot([{ y: losses, label: "H(w_t)" }], { title: "Cross entropy during gradient descent", xLabel: "step t", yLabel: "H", width: 400 }),
    tg.viz.plot([{ x: ys.dataSync(), y: H.dataSync(), label: "H(y), p = 0.7" }], { title: "Cross entropy is smallest at y = p", xLabel: "y", yLabel: "H", width: 400 }),
  ]),
);

ex.report({
  w: w.dataSync()[0],
  b: w.dataSync()[1],
  finalLoss: losses.at(-1),
  firstLoss: losses[0],
  accuracy,
  gradDiff: byHand.sub(wProbe.grad!).abs().max().item(),
  libraryW: model.weight.item(),
  libraryB: model.bias!.item(),
  yBest,
});
