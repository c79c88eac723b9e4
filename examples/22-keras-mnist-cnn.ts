/**
 * @file Lecture: フレームワークを用いたコーディング (seed 002 §8.3) — the Keras calls of the lecture,
 * `Sequential([Input, Dense(relu), Dense(softmax)])`, `compile(optimizer='adam',
 * loss='sparse_categorical_crossentropy', metrics=['accuracy'])`, `fit(X, y, batch_size=200,
 * epochs=3)`, `evaluate` → [loss, accuracy], in tensorgrad's `tg.keras`; then the guide's last
 * step, a small CNN on MNIST written the same way, with its learning curves.
 *
 *   npx tsx examples/22-keras-mnist-cnn.ts      → examples/out/22-keras-mnist-cnn/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const keras = tg.keras;

const train = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const n = ex.quick ? 600 : train.x.shape[0]!;
const pick = tg.randperm(train.x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, n);
const X = train.x.index(pick); // [n, 784]
const y = train.y.index(pick); // [n] class indices: "sparse" labels
const nTest = ex.quick ? 300 : test.x.shape[0]!;
const testPick = tg.randperm(test.x.shape[0]!, { generator: new tg.Generator(1) }).narrow(0, 0, nTest);
const xTest = test.x.index(testPick);
const yTest = test.y.index(testPick);

// #region keras-mlp
tg.manualSeed(0);
const mlp = keras.sequential([
  keras.input([784]),
  keras.dense(128, { activation: "relu" }),
  keras.dense(10, { activation: "softmax" }),
]);
mlp.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
await mlp.fit(X, y, { batchSize: 200, epochs: 3, verbose: 0 });
const [mlpLoss, mlpAccuracy] = await mlp.evaluate(xTest, yTest, { verbose: 0 }); // score[0] = loss, score[1] = accuracy
console.log(`MLP: test loss ${mlpLoss!.toFixed(4)}, test accuracy ${mlpAccuracy!.toFixed(4)}`);
// #endregion

// #region keras-cnn
tg.manualSeed(0);
const cnn = keras.sequential([
  keras.input([1, 28, 28]), //                                  one channel, 28×28 (NCHW)
  keras.conv2d(16, 3, { activation: "relu", padding: "same" }), // → [16, 28, 28]
  keras.maxPooling2d(2), //                                     → [16, 14, 14]
  keras.conv2d(32, 3, { activation: "relu", padding: "same" }), // → [32, 14, 14]
  keras.maxPooling2d(2), //                                     → [32, 7, 7]
  keras.flatten(), //                                           → [1568]
  keras.dropout(0.25),
  keras.dense(64, { activation: "relu" }),
  keras.dense(10, { activation: "softmax" }),
]);
cnn.summary(); // layers, output shapes and parameter counts, as in Keras
cnn.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
const nCnn = ex.quick ? 256 : n; // a CNN step costs more: fewer digits in the quick run
const history = await cnn.fit(X.narrow(0, 0, nCnn).reshape([-1, 1, 28, 28]), y.narrow(0, 0, nCnn), {
  batchSize: 64,
  epochs: ex.quick ? 1 : 4,
  validationSplit: 0.1, // hold out 10 % to watch for overfitting
  verbose: ex.quick ? 0 : 1,
});
const [cnnLoss, cnnAccuracy] = await cnn.evaluate(xTest.reshape([-1, 1, 28, 28]), yTest, { verbose: 0 });
console.log(`CNN: test loss ${cnnLoss!.toFixed(4)}, test accuracy ${cnnAccuracy!.toFixed(4)}`);
// #endregion

await ex.save("cnn-learning-curves", await tg.viz.learningCurveSvg(history, { title: "MNIST CNN (tg.keras)" }));
const probabilities = cnn.predict(xTest.narrow(0, 0, 8).reshape([-1, 1, 28, 28])); // softmax outputs
console.log("predicted classes of 8 test digits:", probabilities.argmax(1).toArray(), "true:", yTest.narrow(0, 0, 8).toArray());

ex.report({
  mlp: { loss: mlpLoss, accuracy: mlpAccuracy },
  cnn: { loss: cnnLoss, accuracy: cnnAccuracy },
  historyKeys: Object.keys(history.history).sort(),
  epochs: history.history.loss!.length,
  params: cnn.countParams(),
});
