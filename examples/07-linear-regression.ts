/**
 * @file Lecture: 線形回帰 (seed 003, "つくってみよう1"). Least squares L(w) = ½‖Xw − y‖² solved two
 * ways on the lecture's synthetic data (N = 100, D = 20, X_ij, w_i ~ N(0, 1), ε ~ N(0, 4)):
 * the closed form w = (XᵀX)⁻¹Xᵀy, and gradient descent w ← w − η Xᵀ(Xw − y), which closes in
 * on it. "The same modelling, a different algorithm." Then the same descent with autograd.
 *
 *   npx tsx examples/07-linear-regression.ts      → examples/out/07-linear-regression/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region data
tg.manualSeed(0);
const N = 100;
const D = 20;
const f64 = { dtype: "float64" as const };
const X = tg.randn([N, D], f64); // X_ij ~ N(0, 1)
const wTrue = tg.randn([D], f64); // w_i ~ N(0, 1)
const y = X.matmul(wTrue).add(tg.randn([N], f64).mul(2)); // y = Xw + ε, ε ~ N(0, 4): std 2
// #endregion

// #region closed-form
// ∂L/∂w = Xᵀ(Xw − y) = 0  ⇒  XᵀX w = Xᵀy. Solve the system (better than forming the inverse).
const Xt = X.t();
const wClosed = tg.linalg.solve(Xt.matmul(X), Xt.matmul(y));
const wInv = tg.linalg.inv(Xt.matmul(X)).matmul(Xt).matmul(y); // the formula as written: (XᵀX)⁻¹Xᵀy
const wLstsq = tg.linalg.lstsq(X, y.unsqueeze(1)).squeeze(1); // least squares directly
const loss = (w: tg.Tensor) => X.matmul(w).sub(y).square().sum().div(2).item(); // L(w) = ½‖Xw − y‖²
console.log("closed form: L(w) =", loss(wClosed), " |inv − solve| =", wInv.sub(wClosed).abs().max().item(), " |lstsq − solve| =", wLstsq.sub(wClosed).abs().max().item());
// #endregion

// #region gradient-descent
// for t in 1…T: w ← w − η Xᵀ(Xw − y). η must stay below 2 / (largest eigenvalue of XᵀX).
const eta = 0.005;
const steps = ex.quick ? 150 : 250;
let w = tg.zeros([D], f64);
const losses: number[] = [];
const distances: number[] = [];
for (let t = 0; t < steps; t++) {
  losses.push(loss(w));
  distances.push(w.sub(wClosed).square().sum().sqrt().item());
  const grad = Xt.matmul(X.matmul(w).sub(y)); // Xᵀ(Xw − y)
  w = w.sub(grad.mul(eta));
}
const relGap = w.sub(wClosed).square().sum().sqrt().item() / wClosed.square().sum().sqrt().item();
console.log(`gradient descent, ${steps} steps: L(w) = ${loss(w)}, ‖w − w_closed‖ / ‖w_closed‖ = ${relGap.toExponential(2)}`);
// #endregion

// #region autograd
// The same descent, with the gradient from autograd and the update from optim.SGD.
const wAuto = tg.zeros([D], { ...f64, requiresGrad: true });
const sgd = new tg.optim.SGD([wAuto], { lr: eta });
for (let t = 0; t < steps; t++) {
  sgd.zeroGrad();
  X.matmul(wAuto).sub(y).square().sum().div(2).backward(); // ½‖Xw − y‖²
  sgd.step();
}
console.log("autograd + SGD agrees with the hand-written descent to", wAuto.detach().sub(w).abs().max().item());
// #endregion

const errTrue = wClosed.sub(wTrue).abs().mean().item();
console.log("mean |w_closed − w_true| =", errTrue, "(noise: the estimate is not the truth)");

const lStar = loss(wClosed);
await ex.save(
  "gd-vs-closed-form",
  tg.viz.figure([
    tg.viz.plot([{ y: losses.map((l) => l - lStar), label: "gradient descent" }], {
      title: `L(w_t) − L(w*), N = ${N}, D = ${D}`,
      xLabel: "step t",
      yLabel: "excess loss over the closed form",
      yScale: "log",
      width: 460,
    }),
    tg.viz.plot([{ y: distances, label: "‖w_t − w*‖" }], { title: "Distance to the closed form", xLabel: "step t", yLabel: "‖w_t − w*‖", yScale: "log", width: 460 }),
    tg.viz.plot(
      [
        { x: wTrue.dataSync(), y: wClosed.dataSync(), label: "closed form", mode: "markers", width: 2.6 },
        { x: wTrue.dataSync(), y: w.dataSync(), label: "gradient descent", mode: "markers", width: 1.2 },
        { x: [-2.5, 2.5], y: [-2.5, 2.5], color: "#999", dashed: true, width: 1 },
      ],
      { title: "Estimated vs true weights", xLabel: "true w_i", yLabel: "estimated w_i", width: 400 },
    ),
  ]),
);

ex.report({ N, D, steps, lossClosed: lStar, lossGD: loss(w), relGap, autogradVsHand: wAuto.detach().sub(w).abs().max().item(), invVsSolve: wInv.sub(wClosed).abs().max().item(), lstsqVsSolve: wLstsq.sub(wClosed).abs().max().item(), errTrue });
