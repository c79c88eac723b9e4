/**
 * @file Lecture: バッチ正規化 (batch normalisation, seed 001, seed 002 §8.4). Normalise each unit
 * over the mini-batch, x' = (x − m)/√(v + ε), then scale and shift, h = γx' + β. The same deep
 * sigmoid network on MNIST with and without BatchNorm1d: with it, training is much faster.
 * In eval() mode the layer uses running averages of m and v instead of the batch's.
 *
 *   npx tsx examples/15-batch-norm.ts      → examples/out/15-batch-norm/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region formula
// BatchNorm by hand on a batch of 4 samples × 3 units, against nn.BatchNorm1d (γ = 1, β = 0 at first)
const batch = tg.tensor([
  [1, 10, -3],
  [2, 20, -1],
  [3, 30, 1],
  [4, 40, 3],
]);
const m = batch.mean(0); //                              m = (1/|B|) Σ x
const v = batch.sub(m).square().mean(0); //               v = (1/|B|) Σ (x − m)²   (biased)
const byHand = batch.sub(m).div(v.add(1e-5).sqrt()); //   x' = (x − m) / √(v + ε)
const bn = new tg.nn.BatchNorm1d(3);
const byLayer = bn.call(batch) as tg.Tensor; // train mode: uses the batch's m and v
console.log("max |by hand − BatchNorm1d| =", byHand.sub(byLayer).abs().max().item());
console.log("running mean after one batch (momentum 0.1):", bn.stateDict().running_mean); // 0.9·0 + 0.1·m
// #endregion

// #region networks
const hidden = 5;
function network(batchNorm: boolean): tg.nn.Sequential {
  const layers: tg.nn.Module[] = [];
  for (let l = 0; l < hidden; l++) {
    layers.push(new tg.nn.Linear(l === 0 ? 784 : 100, 100));
    if (batchNorm) layers.push(new tg.nn.BatchNorm1d(100)); // Affine → BatchNorm → activation
    layers.push(new tg.nn.Sigmoid());
  }
  layers.push(new tg.nn.Linear(100, 10));
  return new tg.nn.Sequential(...layers);
}
// #endregion

const { x, y } = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const n = ex.quick ? 1500 : 8000;
const pick = tg.randperm(x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, n);
const dataset = new tg.data.TensorDataset(x.index(pick), y.index(pick));
const epochs = ex.quick ? 1 : 4;

// #region train
async function train(batchNorm: boolean) {
  tg.manualSeed(0);
  const model = network(batchNorm);
  const opt = new tg.optim.SGD(model.parameters(), { lr: 0.1 });
  const loader = new tg.data.DataLoader(dataset, { batchSize: 50, shuffle: true, seed: 0 });
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    model.train(); // BatchNorm: normalise with the batch's statistics, update the running ones
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      const loss = tg.F.crossEntropy(model.call(xb) as tg.Tensor, yb);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
  }
  model.eval(); // BatchNorm: use the running statistics; a sample's output no longer depends on its batch
  const accuracy = tg.noGrad(() => (model.call(test.x) as tg.Tensor).argmax(1).eq(test.y).to("float32").mean().item());
  return { model, losses, accuracy };
}
const without = await train(false);
const withBn = await train(true);
console.log(`without BatchNorm: last loss ${without.losses.at(-1)!.toFixed(3)}, test accuracy ${without.accuracy.toFixed(3)}`);
console.log(`with BatchNorm:    last loss ${withBn.losses.at(-1)!.toFixed(3)}, test accuracy ${withBn.accuracy.toFixed(3)}`);
// #endregion

// #region eval-mode
// eval(): one sample gives the same output alone or inside a batch (train() would not).
const one = test.x.narrow(0, 0, 1);
const alone = tg.noGrad(() => withBn.model.call(one) as tg.Tensor);
const inBatch = tg.noGrad(() => (withBn.model.call(test.x.narrow(0, 0, 64)) as tg.Tensor).narrow(0, 0, 1));
console.log("eval mode, alone vs in a batch: max difference", alone.sub(inBatch).abs().max().item());
// #endregion

// a moving average makes the noisy per-step losses readable
const smooth = (xs: number[], k = 10) => xs.map((_, i) => xs.slice(Math.max(0, i - k + 1), i + 1).reduce((a, b) => a + b, 0) / Math.min(k, i + 1));
await ex.save(
  "loss-curves",
  tg.viz.plot(
    [
      { y: smooth(without.losses), label: `without BatchNorm (test acc ${(100 * without.accuracy).toFixed(1)}%)` },
      { y: smooth(withBn.losses), label: `with BatchNorm (test acc ${(100 * withBn.accuracy).toFixed(1)}%)` },
    ],
    { title: `${hidden} sigmoid hidden layers, SGD lr 0.1, batch 50`, xLabel: "step", yLabel: "training loss (moving average of 10)" },
  ),
);

ex.report({
  formulaDiff: byHand.sub(byLayer).abs().max().item(),
  runningMean: (bn.stateDict().running_mean as tg.Tensor).toArray(),
  lastLossWithout: smooth(without.losses).at(-1),
  lastLossWith: smooth(withBn.losses).at(-1),
  accuracyWithout: without.accuracy,
  accuracyWith: withBn.accuracy,
  evalBatchIndependence: alone.sub(inBatch).abs().max().item(),
});
