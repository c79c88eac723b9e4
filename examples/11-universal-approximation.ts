/**
 * @file Lecture: 万能近似定理 (universal approximation, Cybenko 1989; seed 004 lecture 4). Any
 * continuous f on an interval is approximated by g(x) = Σᵢ aᵢ σ(bᵢx + cᵢ): one hidden layer of
 * sigmoids. First the proof's idea by hand — with a huge bᵢ (999) each σ is a step, and a sum of
 * steps is a staircase that follows f ever closer as steps are added; then the same network
 * *trained* with more and more hidden units.
 *
 *   npx tsx examples/11-universal-approximation.ts      → examples/out/11-universal-approximation/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const f64 = { dtype: "float64" as const };

// the function to approximate, on [0, 1]
const f = (x: tg.Tensor) => x.mul(6).sin().add(x.mul(x).mul(2)).sub(x.mul(15).cos().mul(0.2));
const x = tg.linspace(0, 1, 201, f64);
const target = f(x);

// #region staircase
// Step 1 of the proof: σ(999(x − c)) is (almost) a step at c. Steps at c₁ < c₂ < … with heights
// aᵢ = f(cᵢ) − f(cᵢ₋₁) add up to a staircase through the points (cᵢ, f(cᵢ)).
function staircase(n: number): tg.Tensor {
  const c = tg.linspace(0, 1, n + 1, f64); //                 step positions
  const fc = f(c);
  const a = fc.narrow(0, 1, n).sub(fc.narrow(0, 0, n)); //   heights aᵢ = f(cᵢ) − f(cᵢ₋₁)
  const centres = c.narrow(0, 1, n).sub(0.5 / n); //          each step halfway between two points
  const steps = tg.sigmoid(x.unsqueeze(1).sub(centres).mul(999)); // [201, n]: σ(bᵢx + cᵢ) with bᵢ = 999
  return steps.matmul(a).add(fc.index(0)); //                g(x) = f(c₀) + Σ aᵢ σ(999(x − cᵢ))
}
const stepCounts = [5, 10, 20, 40];
const stairErrors = stepCounts.map((n) => staircase(n).sub(target).abs().max().item());
stepCounts.forEach((n, i) => {
  console.log(`${n} steps: max |g − f| = ${stairErrors[i]!.toFixed(4)}`);
});
// #endregion

// #region trained
// One hidden layer, trained: 1 → h (sigmoid) → 1, on the mean squared error. A small, smooth,
// full-batch problem: L-BFGS (a quasi-Newton method, `torch.optim.LBFGS`) fits it in few steps.
const widths = [1, 3, 10, 50];
const steps = ex.quick ? 8 : 50; // each L-BFGS step runs up to 20 iterations
const fits = widths.map((h) => {
  tg.manualSeed(h);
  const model = new tg.nn.Sequential(new tg.nn.Linear(1, h, { dtype: "float64" }), new tg.nn.Sigmoid(), new tg.nn.Linear(h, 1, { dtype: "float64" }));
  const opt = new tg.optim.LBFGS(model.parameters(), { lineSearchFn: "strongWolfe" });
  const input = x.unsqueeze(1).mul(4).sub(2); // inputs scaled to [−2, 2], where σ bends
  const y = target.unsqueeze(1);
  for (let s = 0; s < steps; s++) {
    opt.step(() => {
      opt.zeroGrad();
      const loss = tg.F.mseLoss(model.call(input) as tg.Tensor, y);
      loss.backward();
      return loss;
    });
  }
  const out = tg.noGrad(() => (model.call(input) as tg.Tensor).squeeze(1));
  const mse = out.sub(target).square().mean().item();
  console.log(`${h} hidden units: MSE ${mse.toExponential(2)}`);
  return { h, out, mse };
});
// #endregion

const xs = x.dataSync();
await ex.save(
  "universal-approximation",
  tg.viz.figure([
    tg.viz.plot(
      [{ x: xs, y: target.dataSync(), label: "f(x)", color: "#000", width: 2.5 }, ...[5, 20].map((n) => ({ x: xs, y: staircase(n).dataSync(), label: `${n} sigmoid steps (b = 999)` }))],
      { title: "A sum of steep sigmoids is a staircase", xLabel: "x", yLabel: "y", width: 460 },
    ),
    tg.viz.plot(
      [{ x: xs, y: target.dataSync(), label: "f(x)", color: "#000", width: 2.5 }, ...fits.map((fit) => ({ x: xs, y: fit.out.dataSync(), label: `${fit.h} hidden unit${fit.h === 1 ? "" : "s"}` }))],
      { title: `One hidden layer, trained (${steps} L-BFGS steps)`, xLabel: "x", yLabel: "y", width: 460 },
    ),
    tg.viz.plot([{ x: widths, y: fits.map((fit) => fit.mse), mode: "lines+markers", label: "trained network" }], {
      title: "Error vs hidden units",
      xLabel: "hidden units",
      yLabel: "MSE",
      xScale: "log",
      yScale: "log",
      width: 380,
    }),
  ]),
);

ex.report({ stairErrors, mse: Object.fromEntries(fits.map((fit) => [fit.h, fit.mse])), steps });
