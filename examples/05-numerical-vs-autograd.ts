/**
 * @file Lecture: 数値微分 vs 自動微分 (seed 004 lecture 3, seed 000 §1.5). The forward difference
 * `(f(x+h) − f(x))/h` is inexact (4.0000010006… for x² at 2) and the central difference is
 * better but limited by cancellation; autograd is exact. Then the cost: a numerical gradient
 * evaluates the function 2n times for n parameters, reverse mode once forward and once backward.
 * Also the lecture's autograd exercises: d/dx(x² + 4x + 3) = 8 at 2, d/dx sin((x+2) + (1+e^(x²)))
 * = −218.46256 at 2, ∇(x₁² + x₂² + x₃²) = (2, 4, 6), ∇ xᵀAx = (10, 8).
 *
 *   npx tsx examples/05-numerical-vs-autograd.ts      → examples/out/05-numerical-vs-autograd/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const f64 = { dtype: "float64" as const };

// #region exercises
// define → compute → backward() → read .grad
const x = tg.tensor(2, { ...f64, requiresGrad: true });
x.square().add(x.mul(4)).add(3).backward();
console.log("d/dx (x² + 4x + 3) at 2 =", x.grad!.item()); // 8

const x2 = tg.tensor(2, { ...f64, requiresGrad: true });
x2.add(2).add(x2.square().exp().add(1)).sin().backward();
console.log("d/dx sin((x + 2) + (1 + e^(x²))) at 2 =", x2.grad!.item()); // −218.46256…

const v = tg.tensor([1, 2, 3], { ...f64, requiresGrad: true });
v.square().sum().backward();
console.log("∇(x1² + x2² + x3²) at (1, 2, 3) =", v.grad); // (2, 4, 6)

const A = tg.tensor([[1, 2], [2, 1]], f64);
const w = tg.tensor([1, 2], { ...f64, requiresGrad: true });
w.matmul(A).matmul(w).backward(); // xᵀ A x
console.log("∇ xᵀAx at (1, 2) =", w.grad); // (A + Aᵀ) x = (10, 8)
// #endregion

// #region accuracy
// Numerical differentiation of f(x) = x² at 2 (exact: 4).
const sq = (x: number) => x * x;
const forwardDiff = (f: (x: number) => number, x: number, h: number) => (f(x + h) - f(x)) / h;
const centralDiff = (f: (x: number) => number, x: number, h: number) => (f(x + h) - f(x - h)) / (2 * h);
console.log("forward difference, h = 1e-6:", forwardDiff(sq, 2, 1e-6)); // 4.0000010006480125 (おしい)
console.log("central difference, h = 1e-6:", centralDiff(sq, 2, 1e-6));

// The error against h for f = sin at 1: truncation error shrinks with h (∝ h, or h² for central),
// then cancellation in f(x+h) − f(x) takes over (∝ 1/h): the error never reaches 0.
const hs = Array.from({ length: 31 }, (_, i) => 10 ** (-i / 2));
const fwdErr = hs.map((h) => Math.abs(forwardDiff(Math.sin, 1, h) - Math.cos(1)));
const cenErr = hs.map((h) => Math.abs(centralDiff(Math.sin, 1, h) - Math.cos(1)));
const best = (errs: number[]) => Math.min(...errs.filter((e) => e > 0));
console.log(`best error: forward ${best(fwdErr).toExponential(1)}, central ${best(cenErr).toExponential(1)}, autograd 0`);
// #endregion

// #region cost
// f(w) = mean((X·w − y)²) + Σ w⁴/4 with n parameters. The numerical gradient calls f 2n times.
function costOf(n: number) {
  tg.manualSeed(n);
  const X = tg.randn([64, n], f64);
  const y = tg.randn([64], f64);
  const w = tg.randn([n], f64).mul(0.1).requiresGrad_();
  let evals = 0;
  const f = (w: tg.Tensor) => {
    evals++;
    return X.matmul(w).sub(y).square().mean().add(w.pow(4).sum().div(4));
  };
  let t0 = performance.now();
  const [numeric] = tg.numericalGrad(f, [w]);
  const numericMs = performance.now() - t0;
  const numericEvals = evals;
  t0 = performance.now();
  const auto = tg.grad(f(w), [w])[0]!; // one forward, one backward
  const autoMs = performance.now() - t0;
  const maxDiff = numeric!.sub(auto).abs().max().item();
  return { n, numericEvals, numericMs, autoMs, maxDiff };
}
const sizes = ex.quick ? [10, 30, 100, 300] : [10, 30, 100, 300, 1000, 2000];
const costs = sizes.map(costOf);
for (const c of costs)
  console.log(`n = ${c.n}: numerical ${c.numericEvals} evals ${c.numericMs.toFixed(1)} ms, autograd ${c.autoMs.toFixed(2)} ms, max |difference| ${c.maxDiff.toExponential(1)}`);
// #endregion

await ex.save(
  "numerical-vs-autograd",
  tg.viz.figure([
    tg.viz.plot(
      [
        { x: hs, y: fwdErr, label: "forward (f(x+h) − f(x))/h", mode: "lines+markers", width: 1.5 },
        { x: hs, y: cenErr, label: "central (f(x+h) − f(x−h))/2h", mode: "lines+markers", width: 1.5 },
      ],
      { title: "Error of numerical d/dx sin(x) at x = 1", xLabel: "step h", yLabel: "|error|", xScale: "log", yScale: "log", width: 480 },
    ),
    tg.viz.plot(
      [
        { x: sizes, y: costs.map((c) => c.numericMs), label: "numerical gradient (2n evaluations)", mode: "lines+markers" },
        { x: sizes, y: costs.map((c) => c.autoMs), label: "autograd (1 forward + 1 backward)", mode: "lines+markers" },
      ],
      { title: "Time for one gradient", xLabel: "number of parameters n", yLabel: "ms", xScale: "log", yScale: "log", width: 480 },
    ),
  ]),
);

ex.report({
  dPoly: x.grad!.item(),
  dSin: x2.grad!.item(),
  gradSquares: v.grad!.toArray(),
  gradQuadratic: w.grad!.toArray(),
  forwardDiff: forwardDiff(sq, 2, 1e-6),
  bestForwardErr: best(fwdErr),
  bestCentralErr: best(cenErr),
  costs: costs.map(({ n, numericEvals, maxDiff, numericMs, autoMs }) => ({ n, numericEvals, maxDiff, numericMs, autoMs })),
});
