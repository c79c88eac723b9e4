/**
 * @file Lecture: 学習率最適化手法 (optimizers, seed 001, seed 004 lecture 5). SGD, Momentum
 * (v ← μv − ε∇E; w ← w + v), AdaGrad (h ← h + ∇E²; w ← w − ε∇E/√h), RMSProp (h ← αh + (1 − α)∇E²)
 * and Adam (Momentum + RMSProp, bias-corrected) — first on the elongated bowl
 * f(x, y) = x²/4 + 16y² from (−7, 2), where plain SGD zig-zags across the valley and crawls
 * along it, then training the same MLP on MNIST.
 *
 *   npx tsx examples/16-optimizers.ts      → examples/out/16-optimizers/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region bowl
const f = (p: tg.Tensor) => p.index(0).square().div(4).add(p.index(1).square().mul(16)); // x²/4 + 16y²

/** Each optimizer gets the same start and 40 steps; we record where it goes. */
const makers: Record<string, (p: tg.Tensor[]) => tg.optim.Optimizer> = {
  SGD: (p) => new tg.optim.SGD(p, { lr: 0.05 }),
  Momentum: (p) => new tg.optim.SGD(p, { lr: 0.01, momentum: 0.9 }),
  AdaGrad: (p) => new tg.optim.Adagrad(p, { lr: 1.5 }),
  RMSProp: (p) => new tg.optim.RMSprop(p, { lr: 0.1 }),
  Adam: (p) => new tg.optim.Adam(p, { lr: 0.3 }),
};

const paths: Record<string, number[][]> = {};
for (const [name, make] of Object.entries(makers)) {
  const p = tg.tensor([-7, 2], { dtype: "float64", requiresGrad: true });
  const opt = make([p]);
  paths[name] = [[...p.dataSync()]];
  for (let t = 0; t < 40; t++) {
    opt.zeroGrad();
    f(p).backward();
    opt.step();
    paths[name]!.push([...p.dataSync()]);
  }
}
const finalF = Object.fromEntries(Object.entries(paths).map(([k, path]) => [k, path.at(-1)![0]! ** 2 / 4 + 16 * path.at(-1)![1]! ** 2]));
console.log("f after 40 steps:", finalF);
// #endregion

// contour lines x²/4 + 16y² = c are ellipses with half-axes 2√c and √c/4
const contours = [0.5, 2, 5, 10, 20, 35, 55, 80].map((c) => {
  const t = Array.from({ length: 121 }, (_, i) => (2 * Math.PI * i) / 120);
  return { x: t.map((a) => 2 * Math.sqrt(c) * Math.cos(a)), y: t.map((a) => (Math.sqrt(c) / 4) * Math.sin(a)), color: "#cccccc", width: 1 };
});
const panels = Object.entries(paths).map(([name, path], i) =>
  tg.viz.plot(
    [
      ...contours,
      { x: path.map((p) => p[0]!), y: path.map((p) => p[1]!), label: name, mode: "lines+markers" as const, width: 1.4, color: tg.viz.COLORS[i] },
      { x: [0], y: [0], mode: "markers" as const, color: "#000", width: 2 },
    ],
    { title: `${name}: f = ${finalF[name]!.toExponential(1)} after 40 steps`, xLim: [-8, 8], yLim: [-2.5, 2.5], width: 360, height: 250, legend: "none" },
  ),
);
panels.push(
  tg.viz.plot(
    Object.entries(paths).map(([name, path]) => ({ y: path.map((p) => p[0]! ** 2 / 4 + 16 * p[1]! ** 2), label: name })),
    { title: "f(x, y) per step", xLabel: "step", yScale: "log", width: 360, height: 250 },
  ),
);
await ex.save("trajectories", tg.viz.figure(panels, { columns: 3, title: "f(x, y) = x²/4 + 16y², start (−7, 2)" }));

// #region mnist
const { x, y } = await tg.datasets.mnist({ split: "train" });
const n = ex.quick ? 1500 : 8000;
const pick = tg.randperm(x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, n);
const dataset = new tg.data.TensorDataset(x.index(pick), y.index(pick));
const mnistMakers: Record<string, (p: tg.nn.Parameter[]) => tg.optim.Optimizer> = {
  SGD: (p) => new tg.optim.SGD(p, { lr: 0.01 }),
  Momentum: (p) => new tg.optim.SGD(p, { lr: 0.01, momentum: 0.9 }),
  AdaGrad: (p) => new tg.optim.Adagrad(p, { lr: 0.01 }),
  RMSProp: (p) => new tg.optim.RMSprop(p, { lr: 0.001 }),
  Adam: (p) => new tg.optim.Adam(p, { lr: 0.001 }),
};
const curves: Record<string, number[]> = {};
for (const [name, make] of Object.entries(mnistMakers)) {
  tg.manualSeed(0); // the same initial weights for every optimizer
  const model = new tg.nn.Sequential(new tg.nn.Linear(784, 100), new tg.nn.ReLU(), new tg.nn.Linear(100, 100), new tg.nn.ReLU(), new tg.nn.Linear(100, 10));
  const opt = make(model.parameters());
  const loader = new tg.data.DataLoader(dataset, { batchSize: 100, shuffle: true, seed: 0 }); // the same batches too
  curves[name] = [];
  for (let epoch = 0; epoch < (ex.quick ? 1 : 3); epoch++) {
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      const loss = tg.F.crossEntropy(model.call(xb) as tg.Tensor, yb);
      loss.backward();
      opt.step();
      curves[name]!.push(loss.item());
    }
  }
}
const tail = (xs: number[]) => xs.slice(-5).reduce((a, b) => a + b, 0) / Math.min(5, xs.length);
for (const [name, c] of Object.entries(curves)) console.log(`${name.padEnd(9)} loss ${c[0]!.toFixed(3)} → ${tail(c).toFixed(3)} (mean of the last 5 steps)`);
// #endregion

const smooth = (xs: number[], k = 5) => xs.map((_, i) => xs.slice(Math.max(0, i - k + 1), i + 1).reduce((a, b) => a + b, 0) / Math.min(k, i + 1));
await ex.save(
  "mnist-loss",
  tg.viz.plot(
    Object.entries(curves).map(([label, c]) => ({ y: smooth(c), label })),
    { title: "MNIST, 784-100-100-10 ReLU, batch 100", xLabel: "step", yLabel: "training loss (moving average of 5)", yScale: "log" },
  ),
);

ex.report({ bowl: finalF, bowlPaths: paths, mnist: Object.fromEntries(Object.entries(curves).map(([k, c]) => [k, tail(c)])), steps: curves.SGD!.length });
