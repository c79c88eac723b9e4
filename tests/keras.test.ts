import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import * as tg from "../src/index.ts";
import { maxStateDiff, type Small, smallMnist } from "./mnist-small.ts";

const k = tg.keras;
let data: Small;

before(async () => {
  data = await smallMnist(50, 200);
});

const lectureModel = (hidden = 128) =>
  k.sequential([k.input([784]), k.dense(hidden, { activation: "relu" }), k.dense(10, { activation: "softmax" })]);

test("the lectures' Keras calls work as written (compile adam / sparseCategoricalCrossentropy / accuracy, fit batchSize 200, evaluate)", async () => {
  tg.manualSeed(0);
  const model = lectureModel();
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const history = await model.fit(data.x, data.y, { batchSize: 200, epochs: 3, verbose: 0 });
  assert.equal(history.history.loss!.length, 3);
  assert.equal(history.history.accuracy!.length, 3);
  assert.ok(history.history.loss![2]! < history.history.loss![0]!, "the loss falls");
  const [loss, acc] = await model.evaluate(data.xTest, data.yTest);
  assert.ok(Number.isFinite(loss) && loss! > 0 && loss! < 2.5, `loss ${loss}`);
  assert.ok(acc! > 0.5 && acc! <= 1, `accuracy ${acc}`);
  assert.equal(model.history, history);
  // predictions are probabilities
  const p = model.predict(data.xTest.narrow(0, 0, 5));
  assert.deepEqual(p.shape, [5, 10]);
  for (const s of p.sum(1).dataSync()) assert.ok(Math.abs(s - 1) < 1e-5);
});

test("a Keras model is an ordinary nn.Sequential with PyTorch's state-dict names", () => {
  tg.manualSeed(0);
  const model = lectureModel();
  assert.ok(model instanceof tg.nn.Module);
  assert.ok(model instanceof tg.nn.Sequential);
  assert.deepEqual(Object.keys(model.stateDict()), ["0.weight", "0.bias", "2.weight", "2.bias"]);
  assert.deepEqual(model.stateDict()["0.weight"]!.shape, [128, 784]);
  assert.ok(model.at(0) instanceof tg.nn.Linear && model.at(1) instanceof tg.nn.ReLU && model.at(3) instanceof tg.nn.Softmax);
  // Keras' initialisers: Glorot-uniform kernel, zero bias
  const w = model.stateDict()["0.weight"]!;
  const limit = Math.sqrt(6 / (784 + 128));
  assert.ok(w.abs().amax().item() <= limit && w.abs().amax().item() > 0.9 * limit);
  assert.equal(model.stateDict()["0.bias"]!.abs().sum().item(), 0);
});

test("fit gives the same weights as a hand-written PyTorch-style loop with the same seed (dropout included)", async () => {
  tg.manualSeed(0);
  const model = k.sequential([k.input([784]), k.dense(32, { activation: "relu" }), k.dropout(0.25), k.dense(10, { activation: "softmax" })]);
  const torchStyle = new tg.nn.Sequential(new tg.nn.Linear(784, 32), new tg.nn.ReLU(), new tg.nn.Dropout(0.25), new tg.nn.Linear(32, 10));
  torchStyle.loadStateDict(model.stateDict()); // same keys: 0.weight, 0.bias, 3.weight, 3.bias

  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  tg.manualSeed(7); // dropout masks come from the global generator
  await model.fit(data.x, data.y, { batchSize: 50, epochs: 2, seed: 3, verbose: 0 });

  tg.manualSeed(7);
  const opt = new tg.optim.Adam(torchStyle.parameters(), { lr: 1e-3 });
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(data.x, data.y), { batchSize: 50, shuffle: true, seed: 3 });
  for (let epoch = 0; epoch < 2; epoch++) {
    torchStyle.train();
    for (const [xb, yb] of loader as Iterable<[tg.Tensor, tg.Tensor]>) {
      opt.zeroGrad();
      const loss = tg.F.crossEntropy(torchStyle.call(xb) as tg.Tensor, yb);
      loss.backward();
      opt.step();
    }
  }
  assert.equal(maxStateDiff(model.stateDict(), torchStyle.stateDict()), 0);
});

test("softmax output + cross entropy is computed from the logits (exact where Keras' clipping would saturate)", async () => {
  tg.manualSeed(1);
  const model = k.sequential([k.input([4]), k.dense(3, { activation: "softmax" })]);
  model.compile({ optimizer: "sgd", loss: "sparseCategoricalCrossentropy" });
  tg.noGrad(() => (model.at(0) as tg.nn.Linear).weight.mul_(400)); // huge logits: softmax saturates to 0 / 1
  const x = tg.randn([6, 4]);
  const y = tg.tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" });
  const logits = tg.noGrad(() => (model.at(0) as tg.nn.Linear).call(x));
  const expected = tg.F.crossEntropy(logits, y).item();
  const [loss] = await model.evaluate(x, y);
  assert.ok(Number.isFinite(loss));
  assert.ok(Math.abs(loss! - expected) <= 1e-4 * Math.max(1, expected), `${loss} vs ${expected}`);
  assert.ok(expected > 16.2, "some sample is confidently wrong: beyond −log(1e−7), where a clipped loss would stop");
});

test("cross entropy on probabilities (no softmax layer) follows Keras: renormalised and clipped to [1e-7, 1 − 1e-7]", () => {
  const onProbabilities = (loss: tg.keras.KerasLoss) => k.losses.lossFunction(loss, false);
  const p = tg.tensor([[0.7, 0.2, 0.1], [0, 1, 0]]);
  const expected = (-Math.log(0.7) - Math.log(1e-7)) / 2;
  const sparse = onProbabilities(k.losses.sparseCategoricalCrossentropy())(p, tg.tensor([0, 0], { dtype: "int32" })).item();
  assert.ok(Math.abs(sparse - expected) < 1e-5, `${sparse} vs ${expected}`);
  const cat = onProbabilities(k.losses.categoricalCrossentropy())(p, tg.tensor([[1, 0, 0], [1, 0, 0]])).item();
  assert.ok(Math.abs(cat - expected) < 1e-5);
  const bce = onProbabilities(k.losses.binaryCrossentropy())(tg.tensor([0.9, 0, 1]), tg.tensor([1, 0, 0])).item();
  // in float32, 1 − 1e-7 rounds to 1 − 1.19e-7 (Keras computes the same)
  assert.ok(Math.abs(bce - (-Math.log(0.9) - Math.log(1 - Math.fround(1 - 1e-7))) / 3) < 1e-4, String(bce));
  // unscaled rows are renormalised first, as Keras does
  const unscaled = onProbabilities(k.losses.sparseCategoricalCrossentropy())(tg.tensor([[2, 1, 1]]), tg.tensor([0], { dtype: "int32" })).item();
  assert.ok(Math.abs(unscaled - Math.log(2)) < 1e-6);
});

test("fromLogits: a linear output with sparseCategoricalCrossentropy({ fromLogits: true }) equals crossEntropy", async () => {
  tg.manualSeed(2);
  const model = k.sequential([k.input([5]), k.dense(4)]);
  model.compile({ optimizer: "adam", loss: k.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ["accuracy"] });
  const x = tg.randn([8, 5]);
  const y = tg.tensor([0, 1, 2, 3, 0, 1, 2, 3], { dtype: "int32" });
  const [loss] = await model.evaluate(x, y);
  const expected = tg.noGrad(() => tg.F.crossEntropy(model.call(x), y).item());
  assert.ok(Math.abs(loss! - expected) < 1e-6);
});

test("summary() prints layers, output shapes and parameter counts like Keras", () => {
  tg.manualSeed(0);
  const lines: string[] = [];
  const text = lectureModel().summary({ print: (s) => lines.push(s) });
  assert.equal(lines.length, 1);
  assert.match(text, /Model: "sequential"/);
  assert.match(text, /dense \(Dense\)\s+\(None, 128\)\s+100480/);
  assert.match(text, /dense_1 \(Dense\)\s+\(None, 10\)\s+1290/);
  assert.match(text, /Total params: 101,770/);
  assert.match(text, /Trainable params: 101,770/);
  assert.match(text, /Non-trainable params: 0/);
});

test("CNN layers: NCHW shapes, 'same' padding, strides, pooling, flat [N, 784] input reshaped; batch norm statistics are non-trainable", () => {
  tg.manualSeed(0);
  const model = k.sequential([
    k.input([1, 28, 28]),
    k.conv2d(4, 3, { padding: "same", activation: "relu" }),
    k.batchNormalization(),
    k.maxPooling2d(2),
    k.conv2d(6, 3, { strides: 2, padding: "same", activation: "tanh" }),
    k.averagePooling2d(2, { padding: "same" }),
    k.conv2d(8, [2, 2], { activation: "gelu" }),
    k.globalAveragePooling2d(),
    k.dropout(0.5),
    k.dense(10, { activation: "softmax" }),
  ]);
  assert.deepEqual(
    model.layers.map((l) => [l.name, l.outputShape]),
    [
      ["conv2d", [4, 28, 28]],
      ["batch_normalization", [4, 28, 28]],
      ["max_pooling2d", [4, 14, 14]],
      ["conv2d_1", [6, 7, 7]],
      ["average_pooling2d", [6, 4, 4]],
      ["conv2d_2", [8, 3, 3]],
      ["global_average_pooling2d", [8]],
      ["dropout", [8]],
      ["dense", [10]],
    ],
  );
  const text = model.summary({ print: () => {} });
  assert.match(text, /batch_normalization \(BatchNormalization\)\s+\(None, 4, 28, 28\)\s+16/);
  assert.match(text, /Non-trainable params: 8 /);
  const out = model.predict(tg.rand([3, 784]));
  assert.deepEqual(out.shape, [3, 10]);
  assert.throws(() => model.predict(tg.rand([3, 100])), /expected input of shape \(None, 1, 28, 28\), got \[3, 100\]/);
});

test("channelsLast input takes NHWC batches and agrees with the NCHW model", () => {
  tg.manualSeed(3);
  const nchw = k.sequential([k.input([2, 5, 5]), k.conv2d(3, 3, { activation: "relu" }), k.flatten(), k.dense(4)]);
  const nhwc = k.sequential([k.input([5, 5, 2], { dataFormat: "channelsLast" }), k.conv2d(3, 3, { activation: "relu" }), k.flatten(), k.dense(4)]);
  nhwc.loadStateDict(nchw.stateDict());
  const x = tg.randn([2, 2, 5, 5]);
  const a = nchw.predict(x);
  const b = nhwc.predict(x.permute(0, 2, 3, 1).contiguous());
  assert.ok(a.sub(b).abs().amax().item() < 1e-6);
});

test("binary classification: sigmoid + binaryCrossentropy (fused with the logits) and binary accuracy", async () => {
  tg.manualSeed(4);
  const x = tg.randn([200, 2]);
  const labels = tg.noGrad(() => x.narrow(1, 0, 1).add(x.narrow(1, 1, 1)).gt(0).to("float32").reshape([200]));
  const model = k.sequential([k.input([2]), k.dense(8, { activation: "tanh" }), k.dense(1, { activation: "sigmoid" })]);
  model.compile({ optimizer: k.optimizers.adam({ learningRate: 0.05 }), loss: "binaryCrossentropy", metrics: ["accuracy"] });
  const h = await model.fit(x, labels, { batchSize: 20, epochs: 15, verbose: 0, seed: 0 });
  assert.ok(h.history.accuracy!.at(-1)! > 0.9, `accuracy ${h.history.accuracy!.at(-1)}`);
  const [, acc] = await model.evaluate(x, labels);
  assert.ok(acc! > 0.9);
});

test("regression: meanSquaredError with mae / mse metrics, validationData logged as val_*", async () => {
  tg.manualSeed(5);
  const x = tg.rand([64, 3]);
  const y = tg.noGrad(() => x.matmul(tg.tensor([[1], [-2], [0.5]])).add(0.3));
  const model = k.sequential([k.input([3]), k.dense(1)]);
  model.compile({ optimizer: k.optimizers.sgd({ learningRate: 0.1 }), loss: "meanSquaredError", metrics: ["mae", "mse"] });
  const h = await model.fit(x, y, { batchSize: 16, epochs: 30, verbose: 0, validationData: [x, y] });
  assert.deepEqual(Object.keys(h.history).sort(), ["loss", "mae", "mse", "val_loss", "val_mae", "val_mse"]);
  assert.ok(h.history.val_loss!.at(-1)! < 0.05, String(h.history.val_loss!.at(-1)));
  // the mse metric is the loss itself here
  assert.ok(Math.abs(h.history.val_mse!.at(-1)! - h.history.val_loss!.at(-1)!) < 1e-6);
  const huber = k.sequential([k.input([3]), k.dense(1)]);
  huber.compile({ optimizer: "adam", loss: "huber" });
  const [hl] = await huber.evaluate(x, y.reshape([64])); // [N] targets fit [N, 1] outputs
  assert.ok(Number.isFinite(hl));
});

test("validationSplit: a seeded random subset (or, with shuffle: false, the last samples as in Keras)", async () => {
  tg.manualSeed(0);
  const model = lectureModel(32);
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const h = await model.fit(data.x, data.y, { batchSize: 32, epochs: 3, validationSplit: 0.2, seed: 0, verbose: 0 });
  assert.equal(h.params.samples, 400);
  assert.equal(h.history.val_accuracy!.length, 3);
  // Keras' rule would validate on the last 100 samples — all nines, never seen in training
  assert.ok(h.history.val_accuracy![2]! > 0.5, "a random split holds every class, so validation accuracy is meaningful");
  const h2 = await model.fit(data.x, data.y, { batchSize: 100, epochs: 1, validationSplit: 0.1, shuffle: false, verbose: 0 });
  assert.equal(h2.params.samples, 450);
  assert.ok(Number.isFinite(h2.history.val_loss![0]!));
});

test("optimizers by name use tg.optim with Keras' learning rates; instances and factories are used as given", () => {
  const cases: [string, new (...a: never[]) => tg.optim.Optimizer, number][] = [
    ["adam", tg.optim.Adam, 1e-3],
    ["sgd", tg.optim.SGD, 1e-2],
    ["rmsprop", tg.optim.RMSprop, 1e-3],
    ["adagrad", tg.optim.Adagrad, 1e-3],
    ["adadelta", tg.optim.Adadelta, 1e-3],
    ["adamw", tg.optim.AdamW, 1e-3],
  ];
  for (const [name, cls, lr] of cases) {
    const m = lectureModel(4);
    m.compile({ optimizer: name, loss: "sparseCategoricalCrossentropy" });
    assert.ok(m.optimizer instanceof cls, name);
    assert.equal(m.optimizer!.paramGroups[0]!.lr, lr);
  }
  const m = lectureModel(4);
  const opt = new tg.optim.SGD(m.parameters(), { lr: 0.5, momentum: 0.9 });
  m.compile({ optimizer: opt, loss: "sparseCategoricalCrossentropy" });
  assert.equal(m.optimizer, opt);
  m.compile({ optimizer: k.optimizers.sgd({ learningRate: 0.2, momentum: 0.5 }), loss: "sparseCategoricalCrossentropy" });
  assert.equal(m.optimizer!.paramGroups[0]!.lr, 0.2);
  assert.equal(m.optimizer!.paramGroups[0]!.momentum, 0.5);
});

test("a model without input() is built on its first call; custom loss functions and metric functions work", async () => {
  tg.manualSeed(6);
  const model = k.sequential([k.dense(8, { activation: "leakyRelu" }), k.dense(3, { activation: "softmax" })]);
  assert.equal(model.built, false);
  assert.throws(() => model.summary({ print: () => {} }), /not built/);
  const top2 = function top2(p: tg.Tensor, t: tg.Tensor) {
    return tg.train.metrics.topKAccuracy(p, t, 2);
  };
  model.compile({ optimizer: "adam", loss: (p: tg.Tensor, t: tg.Tensor) => tg.F.nllLoss(p.clamp(1e-7).log(), t), metrics: [top2, "acc"] });
  const x = tg.randn([30, 5]);
  const y = tg.randint(0, 3, [30]);
  const h = await model.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0 });
  assert.equal(model.built, true);
  assert.deepEqual(Object.keys(h.history), ["loss", "top2", "acc"]);
  assert.deepEqual(model.layers.map((l) => l.outputShape), [[8], [3]]);
});

test("clear errors: fit before compile, unknown names, bad layers", async () => {
  const model = lectureModel(4);
  await assert.rejects(model.fit(data.x, data.y, { verbose: 0 }), /call model.compile/);
  assert.throws(() => model.compile({ optimizer: "adamax", loss: "mse" }), /unknown optimizer "adamax"; known: adam, sgd/);
  assert.throws(() => model.compile({ optimizer: "adam", loss: "crossentropy" }), /unknown loss "crossentropy"/);
  assert.throws(() => model.compile({ optimizer: "adam", loss: "mse", metrics: ["f1"] }), /unknown metric "f1"/);
  assert.throws(() => k.dense(10, { activation: "swishy" as "relu" }), /unknown activation "swishy"/);
  assert.throws(() => k.dense(0), /units must be a positive integer/);
  assert.throws(() => k.sequential([k.input([784]), k.conv2d(4, 3)]), /conv2d.*images \[C, H, W\]/);
  assert.throws(() => k.sequential([k.dense(3), k.input([3])]), /input\(\.\.\.\) must come first/);
  assert.throws(() => k.conv2d(4, 2, { strides: 2, padding: "same" }), /odd kernel/);
});

test("a trained Keras model round-trips through safetensors into a plain nn.Sequential", async () => {
  tg.manualSeed(0);
  const model = lectureModel(16);
  const file = join(mkdtempSync(join(tmpdir(), "tg-keras-")), "model.safetensors");
  await tg.save(model.stateDict(), file);
  const plain = new tg.nn.Sequential(new tg.nn.Linear(784, 16), new tg.nn.ReLU(), new tg.nn.Linear(16, 10), new tg.nn.Softmax(1));
  plain.loadStateDict(await tg.load(file));
  const x = data.xTest.narrow(0, 0, 4);
  assert.ok(model.predict(x).sub(tg.noGrad(() => plain.call(x) as tg.Tensor)).abs().amax().item() < 1e-7);
});

test("fit's forward (the logits) runs nn.Sequential's fused layers, with the same bits as the layers one by one", () => {
  tg.manualSeed(4);
  const model = tg.keras.sequential([
    tg.keras.input([1, 12, 12]),
    tg.keras.conv2d(4, 3, { padding: "same", activation: "relu" }),
    tg.keras.maxPooling2d(2),
    tg.keras.flatten(),
    tg.keras.dense(16, { activation: "relu" }),
    tg.keras.dense(3, { activation: "softmax" }),
  ]);
  const x = tg.randn([5, 1, 12, 12]);
  const logits = model.forwardLogits(x);
  let ref: tg.Tensor = x;
  for (const m of model.children().slice(0, -1)) ref = m.call(ref) as tg.Tensor;
  assert.deepEqual(Array.from(logits.dataSync()), Array.from(ref.dataSync()));
  // the dense → relu pair (and on wasm the conv → relu → pool triple) recorded as one node
  const names: string[] = [];
  for (let f = logits.gradFn; f !== null; ) {
    names.push(f.name);
    const next = f.nextFunctions.find((n) => n !== null && n !== "AccumulateGrad");
    f = next ?? null;
  }
  assert.ok(!names.includes("ReluBackward0"), `no separate relu node in ${names.join(" ← ")}`);
});
