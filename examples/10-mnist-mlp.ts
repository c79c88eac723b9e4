/**
 * @file Lecture: 実践演習 — MNIST with a 3-layer network and mini-batch SGD (seed 003, seed 000 §1.6).
 * A PyTorch-style loop: DataLoader (shuffled mini-batches) → forward → loss → backward → step.
 * The loss of every step is plotted (the lectures' `plt.plot(losses)`) and the per-epoch learning
 * curves with the project's Vega-Lite helper.
 *
 *   npx tsx examples/10-mnist-mlp.ts      → examples/out/10-mnist-mlp/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region data
const train = await tg.datasets.mnist({ split: "train" }); // x [8000, 784] in [0, 1], y [8000] int32
const test = await tg.datasets.mnist({ split: "test" }); //  x [2000, 784], y [2000]
const nTrain = ex.quick ? 2000 : train.x.shape[0]!;
// the embedded subset is ordered by class: take a random nTrain, not the first nTrain
const pick = tg.randperm(train.x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, nTrain);
// the quick run measures on a random quarter of the test digits
const testPick = tg.randperm(test.x.shape[0]!, { generator: new tg.Generator(2) }).narrow(0, 0, ex.quick ? 500 : test.x.shape[0]!);
const xTest = test.x.index(testPick);
const yTest = test.y.index(testPick);
const loader = new tg.data.DataLoader(new tg.data.TensorDataset(train.x.index(pick), train.y.index(pick)), {
  batchSize: 100,
  shuffle: true,
  seed: 0,
});
// #endregion

// #region model
tg.manualSeed(0);
const model = new tg.nn.Sequential(
  new tg.nn.Linear(784, 128), // 入力層 → 中間層1
  new tg.nn.ReLU(),
  new tg.nn.Linear(128, 64), //  中間層1 → 中間層2
  new tg.nn.ReLU(),
  new tg.nn.Linear(64, 10), //   中間層2 → 出力層 (logits; softmax is inside crossEntropy)
);
const optimizer = new tg.optim.SGD(model.parameters(), { lr: 0.1 });
// #endregion

// #region train
function evaluate(x: tg.Tensor, y: tg.Tensor) {
  model.eval();
  return tg.noGrad(() => {
    const logits = model.call(x) as tg.Tensor;
    const loss = tg.F.crossEntropy(logits, y).item();
    const accuracy = logits.argmax(1).eq(y).to("float32").mean().item();
    return { loss, accuracy };
  });
}

const epochs = ex.quick ? 2 : 8;
const losses: number[] = []; // every step, like the lecture's losses.append(loss)
const history: Record<string, number[]> = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  let sum = 0;
  let correct = 0;
  let seen = 0;
  for (const [xb, yb] of loader) {
    optimizer.zeroGrad();
    const logits = model.call(xb) as tg.Tensor;
    const loss = tg.F.crossEntropy(logits, yb); // softmax + cross entropy, mean over the batch
    loss.backward();
    optimizer.step(); // W ← W − η ∂L/∂W
    losses.push(loss.item());
    sum += loss.item() * xb.shape[0]!;
    correct += logits.argmax(1).eq(yb).to("float32").sum().item();
    seen += xb.shape[0]!;
  }
  const val = evaluate(xTest, yTest);
  history.loss!.push(sum / seen);
  history.accuracy!.push(correct / seen);
  history.val_loss!.push(val.loss);
  history.val_accuracy!.push(val.accuracy);
  console.log(`epoch ${epoch}: loss ${(sum / seen).toFixed(4)}, accuracy ${(correct / seen).toFixed(4)}, test loss ${val.loss.toFixed(4)}, test accuracy ${val.accuracy.toFixed(4)}`);
}
// #endregion

await ex.save("losses", tg.viz.plot([{ y: losses, label: "mini-batch loss", width: 1.2 }], { title: "plt.plot(losses)", xLabel: "step", yLabel: "cross entropy" }));
await ex.save("learning-curves", await tg.viz.learningCurveSvg(history, { title: "MNIST MLP: training vs test" }));
const predictions = tg.noGrad(() => (model.call(xTest) as tg.Tensor).argmax(1));
const sample = tg.randperm(xTest.shape[0]!, { generator: new tg.Generator(1) }).narrow(0, 0, 20);
await ex.save(
  "predictions",
  tg.viz.imageGrid(xTest.index(sample), {
    columns: 10,
    title: "Test digits and the network's predictions",
    labels: Array.from(sample.dataSync(), (i) => `${predictions.dataSync()[i]}${predictions.dataSync()[i] === yTest.dataSync()[i] ? "" : ` (${yTest.dataSync()[i]})`}`),
  }),
);

ex.report({ epochs, nTrain, steps: losses.length, firstLoss: losses[0], lastTrainLoss: history.loss!.at(-1), testAccuracy: history.val_accuracy!.at(-1) });
