/**
 * @file Lecture: 過学習と正則化 (overfitting, seed 001, seed 000 Appendix, seed 004 lecture 5).
 * A large network trained long on only 300 MNIST digits learns the training set perfectly and
 * the test set much less well: the gap in the learning curves is overfitting. Against it: an
 * L2 penalty E + λ/2‖w‖² (weight decay), an L1 penalty E + λ‖w‖₁ (drives weights to exactly
 * 0-ish), and dropout (randomly silence units while training; nothing is dropped at test time).
 *
 *   npx tsx examples/17-regularization.ts      → examples/out/17-regularization/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

const train = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const nTrain = ex.quick ? 150 : 300;
const pick = tg.randperm(train.x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, nTrain);
const xTrain = train.x.index(pick);
const yTrain = train.y.index(pick);
const testPick = tg.randperm(test.x.shape[0]!, { generator: new tg.Generator(1) }).narrow(0, 0, ex.quick ? 400 : 2000);
const xTest = test.x.index(testPick);
const yTest = test.y.index(testPick);
const epochs = ex.quick ? 24 : 100;
const evalEvery = ex.quick ? 4 : 2; // measuring accuracy costs more than training here
const width = ex.quick ? 100 : 200;

// #region variants
type Variant = { dropout: number; penalty: (params: tg.Tensor[]) => tg.Tensor | null };
const variants: Record<string, Variant> = {
  "no regularisation": { dropout: 0, penalty: () => null },
  "L2 (λ = 0.01)": { dropout: 0, penalty: (w) => tg.optim.penalty.l2(w, 0.01) }, //  E + λ/2 Σ w²
  "L1 (λ = 0.001)": { dropout: 0, penalty: (w) => tg.optim.penalty.l1(w, 0.001) }, // E + λ Σ |w|
  "dropout (p = 0.5)": { dropout: 0.5, penalty: () => null },
};

function network(p: number): tg.nn.Sequential {
  const layers: tg.nn.Module[] = [];
  for (let l = 0; l < 3; l++) {
    layers.push(new tg.nn.Linear(l === 0 ? 784 : width, width), new tg.nn.ReLU());
    if (p > 0) layers.push(new tg.nn.Dropout(p)); // inverted dropout: scales by 1/(1 − p) while training
  }
  layers.push(new tg.nn.Linear(width, 10));
  return new tg.nn.Sequential(...layers);
}
// #endregion

// #region train
/** Accuracy and cross entropy on (x, y), without recording a graph. */
function evaluate(model: tg.nn.Module, x: tg.Tensor, y: tg.Tensor) {
  return tg.noGrad(() => {
    const logits = model.call(x) as tg.Tensor;
    return { accuracy: logits.argmax(1).eq(y).to("float32").mean().item(), loss: tg.F.crossEntropy(logits, y).item() };
  });
}

const results: Record<string, { epochs: number[]; train: number[]; test: number[]; trainLoss: number[]; testLoss: number[]; weights: tg.Tensor[] }> = {};
for (const [name, v] of Object.entries(variants)) {
  tg.manualSeed(0);
  const model = network(v.dropout);
  const weights = model.namedParameters().filter(([n]) => n.endsWith("weight")).map(([, p]) => p); // penalise weights, not biases
  const opt = new tg.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(xTrain, yTrain), { batchSize: 50, shuffle: true, seed: 0 });
  const curve = { epochs: [] as number[], train: [] as number[], test: [] as number[], trainLoss: [] as number[], testLoss: [] as number[], weights };
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train(); // dropout on
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      let loss = tg.F.crossEntropy(model.call(xb) as tg.Tensor, yb);
      const pen = v.penalty(weights);
      if (pen) loss = loss.add(pen);
      loss.backward();
      opt.step();
    }
    if ((epoch + 1) % evalEvery !== 0) continue;
    model.eval(); // dropout off: every unit, no scaling needed (inverted dropout)
    curve.epochs.push(epoch + 1);
    const tr = evaluate(model, xTrain, yTrain);
    const te = evaluate(model, xTest, yTest);
    curve.train.push(tr.accuracy);
    curve.test.push(te.accuracy);
    curve.trainLoss.push(tr.loss);
    curve.testLoss.push(te.loss);
  }
  results[name] = curve;
  const nearZero = weights.reduce((s, w) => s + w.abs().lt(1e-3).to("float32").sum().item(), 0) / weights.reduce((s, w) => s + w.numel(), 0);
  console.log(`${name.padEnd(20)} train acc ${curve.train.at(-1)!.toFixed(3)}  test acc ${curve.test.at(-1)!.toFixed(3)}  test loss ${curve.testLoss.at(-1)!.toFixed(3)}  gap ${(curve.train.at(-1)! - curve.test.at(-1)!).toFixed(3)}  |w| < 1e-3: ${(100 * nearZero).toFixed(1)}%`);
}
// #endregion

const lossPanels = Object.entries(results).map(([name, r]) =>
  tg.viz.plot(
    [
      { x: r.epochs, y: r.trainLoss, label: "train loss" },
      { x: r.epochs, y: r.testLoss, label: "test loss" },
    ],
    { title: name, xLabel: "epoch", yLabel: "cross entropy", yScale: "log", width: 330, height: 240 },
  ),
);
const accPanels = Object.entries(results).map(([name, r]) =>
  tg.viz.plot(
    [
      { x: r.epochs, y: r.train, label: "train accuracy" },
      { x: r.epochs, y: r.test, label: "test accuracy" },
    ],
    { title: name, xLabel: "epoch", yLabel: "accuracy", yLim: [0, 1.02], width: 330, height: 240, legend: "bottom-right" },
  ),
);
await ex.save("learning-curves", tg.viz.figure([...lossPanels, ...accPanels], { columns: 4, title: `${nTrain} training digits, 784-${width}-${width}-${width}-10: train vs test` }));

const last = (xs: number[]) => xs.at(-1)!;
const weightNorm = (ws: tg.Tensor[]) => Math.sqrt(ws.reduce((s, w) => s + w.square().sum().item(), 0));
const nearZero = (ws: tg.Tensor[]) => ws.reduce((s, w) => s + w.abs().lt(1e-3).to("float32").sum().item(), 0) / ws.reduce((s, w) => s + w.numel(), 0);
ex.report(
  Object.fromEntries(
    Object.entries(results).map(([k, r]) => [k, { train: last(r.train), test: last(r.test), testLoss: last(r.testLoss), minTestLoss: Math.min(...r.testLoss), gap: last(r.train) - last(r.test), weightNorm: weightNorm(r.weights), nearZero: nearZero(r.weights) }]),
  ),
);
