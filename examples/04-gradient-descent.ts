/**
 * @file Lecture: 勾配降下法 (gradient descent, seed 004 lecture 2). `x ← x − η f'(x)` on
 * f(x) = x² (x₀ = 3, η = 0.1 → x₁₀₀ = 6.1111e-10) and f(x) = x² + e^(−x) (x₀ = 3, η = 0.01 →
 * x₁₀₀₀ = 0.3517337), first with the derivative written by hand, then with autograd and with
 * `optim.SGD`; learning rates that are too large or too small; and the lecture's "difficult"
 * function −log(σ(x) + 1)/(x² + 1), minimised without ever writing its derivative.
 *
 *   npx tsx examples/04-gradient-descent.ts      → examples/out/04-gradient-descent/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region by-hand
// f(x) = x², f'(x) = 2x: the update written out, as on the slide (3 → 2.4 → 1.92 → 1.536 → …)
let x = 3;
const lr = 0.1;
const path1 = [x];
for (let i = 0; i < 100; i++) {
  x = x - lr * (2 * x);
  path1.push(x);
}
console.log("x1, x2, x3 =", path1.slice(1, 4), " x100 =", x); // x100 = 6.111107929e-10
// #endregion

// #region exp
// f(x) = x² + e^(−x), f'(x) = 2x − e^(−x); x0 = 3, η = 0.01, 1000 steps
const f2 = (x: number) => x ** 2 + Math.exp(-x);
const grad2 = (x: number) => 2 * x - Math.exp(-x);
let x2 = 3;
const path2 = [x2];
for (let i = 0; i < 1000; i++) {
  x2 = x2 - 0.01 * grad2(x2);
  path2.push(x2);
}
console.log("x1 =", path2[1], " x1000 =", x2, " f(x1000) =", f2(x2)); // x1000 ≈ 0.3517337 (the true minimiser: 0.351734)
// #endregion

// #region autograd
// The same descent without writing f': autograd computes it. float64, so the numbers match the slide.
const xt = tg.tensor(3, { dtype: "float64", requiresGrad: true });
for (let i = 0; i < 1000; i++) {
  const y = xt.square().add(xt.neg().exp()); // f(x) = x² + e^(−x)
  y.backward(); // xt.grad = f'(x)
  tg.noGrad(() => xt.sub_(xt.grad!.mul(0.01))); // x ← x − η f'(x), not recorded in the graph
  xt.grad = null; // gradients accumulate: clear them (PyTorch: x.grad.zero_())
}
console.log("autograd: x1000 =", xt.item());

// optim.SGD does exactly the update and the clearing.
const xs = tg.tensor(3, { dtype: "float64", requiresGrad: true });
const opt = new tg.optim.SGD([xs], { lr: 0.01 });
for (let i = 0; i < 1000; i++) {
  opt.zeroGrad();
  xs.square().add(xs.neg().exp()).backward();
  opt.step();
}
console.log("optim.SGD: x1000 =", xs.item());
// #endregion

// #region learning-rate
// Too large a learning rate diverges, too small a one crawls (f(x) = x², x0 = 3, 30 steps).
const rates = [0.01, 0.1, 0.95, 1.05];
const runs = rates.map((eta) => {
  const xs = [3];
  for (let i = 0; i < 30; i++) xs.push(xs[i]! - eta * 2 * xs[i]!);
  return xs;
});
rates.forEach((eta, i) => {
  console.log(`η = ${eta}: x30 = ${runs[i]![30]!.toPrecision(4)}`);
});
// #endregion

// #region difficult
// "Minimise −log(1/(1+e^(−x)) + 1)/(x² + 1)": any function made of tensor ops can be minimised.
const difficult = (x: tg.Tensor) => x.sigmoid().add(1).log().neg().div(x.square().add(1));
const xd = tg.tensor(2, { dtype: "float64", requiresGrad: true });
const adam = new tg.optim.Adam([xd], { lr: 0.05 });
for (let i = 0; i < 1000; i++) {
  adam.zeroGrad();
  difficult(xd).backward();
  adam.step();
}
const fMin = difficult(xd.detach()).item();
console.log("difficult function: x* =", xd.item(), " f(x*) =", fMin); // x* ≈ 0.1900, f ≈ −0.42134
// #endregion

// Figures: each function with the points GD visited, and |x_n| for several learning rates.
const grid = Array.from({ length: 161 }, (_, i) => -1 + (4.5 * i) / 160);
const visited = (path: number[], every: number, f: (x: number) => number) => {
  const pts = path.filter((_, i) => i % every === 0);
  return { x: pts, y: pts.map(f), label: "GD iterates x_n", mode: "markers" as const, width: 2 };
};
const sq = (x: number) => x * x;
await ex.save(
  "trajectories",
  tg.viz.figure([
    tg.viz.plot([{ x: grid, y: grid.map(sq), label: "f(x) = x²" }, visited(path1.slice(0, 21), 1, sq)], {
      title: "x² from x0 = 3, η = 0.1 (first 20 steps)",
      xLabel: "x",
      yLabel: "f(x)",
      width: 440,
    }),
    tg.viz.plot([{ x: grid, y: grid.map(f2), label: "f(x) = x² + e^(−x)" }, visited(path2, 25, f2)], {
      title: "x² + e^(−x) from x0 = 3, η = 0.01 (every 25th)",
      xLabel: "x",
      yLabel: "f(x)",
      width: 440,
    }),
    tg.viz.plot(
      runs.map((r, i) => ({ y: r.map(Math.abs), label: `η = ${rates[i]}` })),
      { title: "|x_n| on x²: learning rates", xLabel: "step n", yLabel: "|x_n|", yScale: "log", width: 440 },
    ),
  ]),
);

ex.report({ x1: path1[1], x100: x, x1000: x2, x1000Autograd: xt.item(), x1000SGD: xs.item(), x30: runs.map((r) => r[30]), difficultX: xd.item(), difficultF: fMin });
