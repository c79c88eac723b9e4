/**
 * @file Lecture: AlexNet (seed 001): "5 convolution layers with pooling, followed by 3 fully
 * connected layers; dropout on the fully connected layers against overfitting". The same shape,
 * scaled down for 28×28 MNIST digits: the output shape and parameter count of every layer, then
 * a short training run with Adam and the test accuracy.
 *
 *   npx tsx examples/21-alexnet-small.ts      → examples/out/21-alexnet-small/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const nn = tg.nn;

// #region model
tg.manualSeed(0);
const model = new nn.Sequential(
  // features: 5 convolutions, ReLU after each, max pooling after the 1st, 2nd and 5th
  new nn.Conv2d(1, 16, 3, { padding: 1 }), //  [N, 16, 28, 28]
  new nn.ReLU(),
  new nn.MaxPool2d(2), //                       [N, 16, 14, 14]
  new nn.Conv2d(16, 32, 3, { padding: 1 }), // [N, 32, 14, 14]
  new nn.ReLU(),
  new nn.MaxPool2d(2), //                       [N, 32, 7, 7]
  new nn.Conv2d(32, 48, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.Conv2d(48, 48, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.Conv2d(48, 32, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2), //                       [N, 32, 3, 3]
  // classifier: 3 fully connected layers, dropout before the first two (AlexNet: on the 4096-unit layers)
  new nn.Flatten(), //                          [N, 288]
  new nn.Dropout(0.5),
  new nn.Linear(32 * 3 * 3, 128),
  new nn.ReLU(),
  new nn.Dropout(0.5),
  new nn.Linear(128, 64),
  new nn.ReLU(),
  new nn.Linear(64, 10),
);
// #endregion

// #region summary
// Push one dummy image through, layer by layer, like Keras' model.summary().
let shape: tg.Tensor = tg.zeros([1, 1, 28, 28]);
let totalParams = 0;
const rows: { layer: string; shape: readonly number[]; params: number }[] = [];
for (const layer of model) {
  shape = layer.call(shape) as tg.Tensor;
  const params = layer.parameters().reduce((s, p) => s + p.numel(), 0);
  totalParams += params;
  rows.push({ layer: layer.toString().split("\n")[0]!, shape: shape.shape, params });
  console.log(`${layer.toString().split("\n")[0]!.padEnd(62)} → [${shape.shape.join(", ")}]  ${params} parameters`);
}
console.log("total parameters:", totalParams);
// #endregion

// #region train
const train = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const nTrain = ex.quick ? 128 : 8000;
const pick = tg.randperm(train.x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, nTrain);
const images = train.x.index(pick).reshape([-1, 1, 28, 28]); // the convolutions want [N, C, H, W]
const loader = new tg.data.DataLoader(new tg.data.TensorDataset(images, train.y.index(pick)), { batchSize: 64, shuffle: true, seed: 0 });
const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
const epochs = ex.quick ? 1 : 3;
const losses: number[] = [];
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train(); // dropout active
  const started = performance.now();
  for (const [xb, yb] of loader) {
    optimizer.zeroGrad();
    const loss = tg.F.crossEntropy(model.call(xb) as tg.Tensor, yb);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
  }
  console.log(`epoch ${epoch}: last loss ${losses.at(-1)!.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
model.eval(); // dropout off
const nTest = ex.quick ? 100 : test.x.shape[0]!;
const testPick = tg.randperm(test.x.shape[0]!, { generator: new tg.Generator(1) }).narrow(0, 0, nTest);
const logits = tg.noGrad(() => model.call(test.x.index(testPick).reshape([-1, 1, 28, 28])) as tg.Tensor);
const accuracy = logits.argmax(1).eq(test.y.index(testPick)).to("float32").mean().item();
console.log(`test accuracy on ${nTest} digits: ${accuracy.toFixed(4)}`);
// #endregion

await ex.save("training-loss", tg.viz.plot([{ y: losses, label: "mini-batch loss" }], { title: "Small AlexNet on MNIST, Adam 1e-3, batch 64", xLabel: "step", yLabel: "cross entropy" }));

ex.report({ rows, totalParams, steps: losses.length, firstLoss: losses[0], lastLoss: losses.at(-1), accuracy });
