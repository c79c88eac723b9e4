import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as tg from "../src/index.ts";
import { assertWellFormedXml, maxStateDiff } from "./mnist-small.ts";

const { metrics, callbacks } = tg.train;
const i32 = (v: number[]) => tg.tensor(v, { dtype: "int32" });

test("metrics: accuracy for class indices, one-hot rows and binary outputs; top-k; mse; mae; confusion matrix", () => {
  const scores = tg.tensor([
    [0.1, 0.7, 0.2],
    [0.5, 0.3, 0.2],
    [0.2, 0.3, 0.5],
    [0.3, 0.4, 0.3],
  ]);
  assert.equal(metrics.accuracy(scores, i32([1, 0, 1, 2])), 0.5);
  assert.equal(metrics.accuracy(scores, tg.tensor([1, 0, 1, 2])), 0.5, "float labels are class indices too");
  assert.equal(metrics.accuracy(scores, tg.oneHot(i32([1, 0, 2, 1]), 3).to("float32")), 1);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(metrics.accuracy(tg.tensor([[0.9], [0.2], [0.6]]), tg.tensor([1, 0, 0])), 2 / 3);
  close(metrics.accuracy(tg.tensor([0.9, 0.2, 0.6]), tg.tensor([1, 1, 1]), { threshold: 0.5 }), 2 / 3);
  assert.equal(metrics.topKAccuracy(scores, i32([1, 0, 0, 2]), 2), 0.75, "row 2: class 0 is third; row 3: a tie counts as a hit");
  assert.equal(metrics.topKAccuracy(scores, i32([2, 2, 0, 0]), 1), 0);
  assert.ok(Math.abs(metrics.mse(tg.tensor([1, 2, 3]), tg.tensor([1, 0, 0])) - 13 / 3) < 1e-6);
  assert.ok(Math.abs(metrics.mae(tg.tensor([[1], [2], [3]]), tg.tensor([1, 0, 0])) - 5 / 3) < 1e-6);
  assert.deepEqual(metrics.confusionMatrix(scores, i32([1, 0, 1, 2]), 3), [
    [1, 0, 0],
    [0, 1, 1],
    [0, 1, 0],
  ]);
  assert.throws(() => metrics.accuracy(scores, i32([1, 0])), /different batch sizes/);
  assert.throws(() => metrics.getMetric("precision@3"), /unknown metric/);
  assert.equal(metrics.getMetric("acc").name, "acc");
});

test("History: per-epoch records, late keys padded, JSON round trip", () => {
  const h = new tg.train.History();
  h.record(0, { loss: 1, accuracy: 0.5 });
  h.record(1, { loss: 0.5, accuracy: 0.7, val_loss: 0.6 });
  assert.deepEqual(h.history.loss, [1, 0.5]);
  assert.ok(Number.isNaN(h.history.val_loss![0]!));
  const back = tg.train.History.fromJSON(JSON.parse(JSON.stringify(h)));
  assert.deepEqual(back.history.loss, [1, 0.5]);
  assert.ok(Number.isNaN(back.history.val_loss![0]!));
  assert.deepEqual(back.epoch, [0, 1]);
});

/** A tiny linearly separable problem and a compiled Keras model for it. */
function toyProblem(seed = 0) {
  tg.manualSeed(seed);
  const x = tg.randn([60, 4]);
  const y = tg.noGrad(() => x.narrow(1, 0, 1).sub(x.narrow(1, 1, 1)).gt(0).to("int32").reshape([60]));
  const model = tg.keras.sequential([tg.keras.input([4]), tg.keras.dense(2, { activation: "softmax" })]);
  model.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  return { x, y, model };
}

test("callbacks: every hook fires in order with Keras' logs, and may be async", async () => {
  const { x, y, model } = toyProblem();
  const calls: string[] = [];
  let seenModel: tg.nn.Module | null = null;
  const cb: tg.train.Callback = {
    onTrainBegin: (_logs, ctx) => {
      calls.push("trainBegin");
      seenModel = ctx.model;
    },
    onEpochBegin: (e) => {
      calls.push(`epochBegin ${e}`);
    },
    onBatchBegin: (b) => {
      calls.push(`batchBegin ${b}`);
    },
    onBatchEnd: async (b, logs) => {
      await new Promise((r) => setTimeout(r, 1));
      assert.ok("loss" in logs && "accuracy" in logs && logs.size! > 0);
      calls.push(`batchEnd ${b}`);
    },
    onEpochEnd: (e, logs) => {
      assert.deepEqual(Object.keys(logs), ["loss", "accuracy", "val_loss", "val_accuracy"]);
      calls.push(`epochEnd ${e}`);
    },
    onTrainEnd: () => {
      calls.push("trainEnd");
    },
  };
  await model.fit(x, y, { batchSize: 25, epochs: 2, validationData: [x, y], callbacks: [cb], verbose: 0 });
  const epoch = (e: number) => [`epochBegin ${e}`, ...[0, 1, 2].flatMap((b) => [`batchBegin ${b}`, `batchEnd ${b}`]), `epochEnd ${e}`];
  assert.deepEqual(calls, ["trainBegin", ...epoch(0), ...epoch(1), "trainEnd"]);
  assert.equal(seenModel, model);
});

test("callbacks: setting ctx.stopTraining ends training after the current batch", async () => {
  const { x, y, model } = toyProblem();
  let batches = 0;
  const h = await model.fit(x, y, {
    batchSize: 10,
    epochs: 5,
    verbose: 0,
    callbacks: [
      {
        onBatchEnd: (b, _logs, ctx) => {
          batches++;
          if (b === 2) ctx.stopTraining = true;
        },
      },
    ],
  });
  assert.equal(batches, 3);
  assert.equal(h.length, 1);
});

test("terminateOnNaN stops fit at the first non-finite loss and says where (epoch, batch, learning rate)", async () => {
  // a real divergence: plain SGD with a huge step through a hidden layer (logits overflow, then inf − inf)
  const { x, y } = toyProblem();
  const model = tg.keras.sequential([tg.keras.input([4]), tg.keras.dense(8, { activation: "relu" }), tg.keras.dense(2, { activation: "softmax" })]);
  model.compile({ optimizer: tg.keras.optimizers.sgd({ learningRate: 1e30 }), loss: "sparseCategoricalCrossentropy" });
  const nan = callbacks.terminateOnNaN();
  let batches = 0;
  const lines: string[] = [];
  const h = await model.fit(x, y, {
    batchSize: 10,
    epochs: 5,
    verbose: 1,
    stream: { write: (s: string) => lines.push(s) },
    callbacks: [nan, { onBatchEnd: () => void batches++ }],
  });
  assert.ok(nan.stopped, "it diverged");
  const { epoch, batch, message } = nan.stopped;
  assert.equal(batches, 6 * epoch + batch + 1, "no batch after the first NaN one");
  assert.equal(h.length, epoch + 1, "no epoch after it");
  assert.match(message, new RegExp(`^Epoch ${epoch + 1}, batch ${batch + 1}/6: loss is (NaN|-?Infinity); training stopped, it diverged \\(is the learning rate, 1e\\+30, too high\\?\\)$`));
  assert.ok(lines.join("").includes(message), "the message goes to the progress stream");
  assert.ok(model.parameters().some((p) => p.dataSync().some((v) => !Number.isFinite(v))), "the weights are gone");

  // where exactly: a loss made non-finite at epoch 2, batch 3; then val_loss at an epoch's end
  const feed = (when: (epoch: number, batch: number) => boolean, key: string) => {
    let e = 0;
    return { onEpochBegin: (ep: number) => void (e = ep), onBatchEnd: (b: number, logs: Record<string, number>) => void (when(e, b) && (logs[key] = Infinity)) };
  };
  const p = toyProblem(1);
  const nan2 = callbacks.terminateOnNaN();
  const h2 = await p.model.fit(p.x, p.y, { batchSize: 10, epochs: 5, verbose: 0, callbacks: [feed((e, b) => e === 1 && b === 2, "loss"), nan2] });
  assert.deepEqual({ epoch: nan2.stopped?.epoch, batch: nan2.stopped?.batch }, { epoch: 1, batch: 2 });
  assert.match(nan2.stopped!.message, /^Epoch 2, batch 3\/6: loss is Infinity; training stopped, it diverged \(is the learning rate, 0\.001, too high\?\)$/);
  assert.equal(h2.length, 2);
  const nan3 = callbacks.terminateOnNaN();
  const poison = { onEpochEnd: (e: number, logs: Record<string, number>) => void (e === 2 && (logs.val_loss = Number.NaN)) };
  const h3 = await p.model.fit(p.x, p.y, { batchSize: 10, epochs: 5, verbose: 0, validationData: [p.x, p.y], callbacks: [poison, nan3] });
  assert.deepEqual({ epoch: nan3.stopped?.epoch, batch: nan3.stopped?.batch }, { epoch: 2, batch: -1 });
  assert.match(nan3.stopped!.message, /^Epoch 3 \(validation\): val_loss is NaN; training stopped/);
  assert.equal(h3.length, 3);
  // a finite run: nothing stopped (and the callback is reusable: each fit starts afresh)
  const h4 = await p.model.fit(p.x, p.y, { batchSize: 10, epochs: 2, verbose: 0, callbacks: [nan3] });
  assert.equal(nan3.stopped, null);
  assert.equal(h4.length, 2);
});

test("earlyStopping stops after `patience` epochs without improvement and can restore the best weights", async () => {
  const { x, y, model } = toyProblem();
  const scores = [5, 3, 4, 6, 7, 8, 9];
  const snapshots: Record<string, tg.Tensor>[] = [];
  const feed: tg.train.Callback = {
    onEpochEnd: (e, logs, ctx) => {
      logs.score = scores[e]!;
      snapshots.push(Object.fromEntries(Object.entries(ctx.model.stateDict()).map(([k, v]) => [k, v.clone()])));
    },
  };
  const stopper = callbacks.earlyStopping({ monitor: "score", patience: 2, restoreBestWeights: true });
  const lines: string[] = [];
  const h = await model.fit(x, y, { batchSize: 20, epochs: 7, verbose: 1, stream: { write: (s: string) => lines.push(s) }, callbacks: [feed, stopper] });
  assert.equal(h.length, 4, "epochs 0–3: best at 1, no improvement at 2 and 3");
  assert.equal(stopper.stoppedEpoch, 3);
  assert.equal(stopper.bestEpoch, 1);
  assert.equal(stopper.best, 3);
  assert.equal(maxStateDiff(model.stateDict(), snapshots[1]!), 0);
  assert.deepEqual(h.history.score, [5, 3, 4, 6]);
  assert.ok(lines.some((l) => /Epoch 4: early stopping/.test(l)));

  // minDelta: improvements smaller than it do not count; an accuracy is maximised ("auto" mode)
  const p2 = toyProblem(1);
  const zeroLr = new tg.optim.SGD(p2.model.parameters(), { lr: 0 });
  p2.model.compile({ optimizer: zeroLr, loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const es = callbacks.earlyStopping({ monitor: "loss", patience: 1, minDelta: 1e-3 });
  const h2 = await p2.model.fit(p2.x, p2.y, { epochs: 10, batchSize: 20, verbose: 0, callbacks: [es] });
  assert.equal(h2.length, 2, "the loss never moves with lr 0");
  const es3 = callbacks.earlyStopping({ monitor: "val_accuracy", patience: 0 });
  const h3 = await toyProblem(2).model.fit(p2.x, p2.y, { epochs: 3, batchSize: 20, verbose: 0, callbacks: [es3] });
  assert.ok(h3.length >= 1);
});

test("modelCheckpoint writes safetensors per epoch (path templates) or only the best", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-ckpt-"));
  const { x, y, model } = toyProblem();
  await model.fit(x, y, {
    batchSize: 20,
    epochs: 3,
    verbose: 0,
    validationData: [x, y],
    callbacks: [
      callbacks.modelCheckpoint(join(dir, "every", "model-{epoch:02d}-{val_loss:.3f}.safetensors")),
      callbacks.modelCheckpoint(join(dir, "best.safetensors"), { saveBestOnly: true, monitor: "val_accuracy" }),
    ],
  });
  const every = readdirSync(join(dir, "every")).sort();
  assert.equal(every.length, 3);
  assert.match(every[0]!, /^model-01-\d\.\d{3}\.safetensors$/);
  const best = await tg.load(join(dir, "best.safetensors"));
  assert.deepEqual(Object.keys(best), ["0.weight", "0.bias"]);
  assert.equal(callbacks.formatCheckpointPath("e{epoch}-{loss:.2f}-{missing}", 4, { loss: 0.12345 }), "e5-0.12-{missing}");
});

test("learningRateScheduler: a function of the epoch, or any tg.optim.lrScheduler (ReduceLROnPlateau gets the monitored value)", async () => {
  const { x, y, model } = toyProblem();
  const seen: number[] = [];
  const h = await model.fit(x, y, {
    epochs: 3,
    batchSize: 30,
    verbose: 0,
    callbacks: [
      callbacks.learningRateScheduler((epoch, lr) => (epoch === 0 ? 0.1 : lr / 2)),
      { onEpochBegin: (_e, _l, ctx) => void seen.push(ctx.optimizer.paramGroups[0]!.lr) },
    ],
  });
  assert.deepEqual(seen, [0.1, 0.05, 0.025]);
  assert.deepEqual(h.history.learning_rate, [0.1, 0.05, 0.025]);

  const p = toyProblem();
  const opt = new tg.optim.SGD(p.model.parameters(), { lr: 1 });
  p.model.compile({ optimizer: opt, loss: "sparseCategoricalCrossentropy" });
  const step = new tg.optim.lrScheduler.StepLR(opt, { stepSize: 1, gamma: 0.5 });
  const h2 = await p.model.fit(p.x, p.y, { epochs: 3, batchSize: 30, verbose: 0, callbacks: [callbacks.learningRateScheduler(step)] });
  assert.deepEqual(h2.history.learning_rate, [1, 0.5, 0.25]);
  assert.equal(opt.paramGroups[0]!.lr, 0.125);

  const opt3 = new tg.optim.SGD(p.model.parameters(), { lr: 0 });
  p.model.compile({ optimizer: opt3, loss: "sparseCategoricalCrossentropy" });
  opt3.paramGroups[0]!.lr = 0.4;
  const plateau = new tg.optim.lrScheduler.ReduceLROnPlateau(opt3, { patience: 0, factor: 0.5 });
  const feed: tg.train.Callback = { onEpochEnd: (_e, logs) => void (logs.val_loss = 1) };
  await p.model.fit(p.x, p.y, { epochs: 3, batchSize: 30, verbose: 0, callbacks: [feed, callbacks.learningRateScheduler(plateau)] });
  assert.equal(opt3.paramGroups[0]!.lr, 0.1, "constant val_loss: reduced after epochs 2 and 3");
});

test("progress: one plain line per epoch when not a terminal, a cli-progress bar when it is, nothing with verbose 0", async () => {
  const { x, y, model } = toyProblem();
  const plain: string[] = [];
  await model.fit(x, y, { batchSize: 20, epochs: 2, verbose: 1, validationData: [x, y], stream: { write: (s: string) => plain.push(s) } });
  assert.equal(plain.length, 2);
  assert.match(plain[0]!, /^Epoch 1\/2: 3\/3 - [\d.]+s - \d+ samples\/s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\n$/);

  const tty: string[] = [];
  const stream = Object.assign(
    {
      write: (s: string) => {
        tty.push(s);
        return true;
      },
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    },
    {},
  );
  await model.fit(x, y, { batchSize: 20, epochs: 2, verbose: 1, stream });
  const text = tty.join("");
  assert.match(text, /Epoch 2\/2 \[[█░]+\] 3\/3 \| loss: \d\.\d{4} - accuracy: \d\.\d{4} \| \d+ samples\/s/);

  const silent: string[] = [];
  await model.fit(x, y, { epochs: 1, verbose: 0, stream: { write: (s: string) => silent.push(s) } });
  assert.equal(silent.length, 0);
});

test("tg.train.fit trains any nn.Module with a PyTorch-style loss; evaluate / predict run in eval mode", async () => {
  tg.manualSeed(0);
  const model = new tg.nn.Sequential(new tg.nn.Linear(4, 8), new tg.nn.ReLU(), new tg.nn.Dropout(0.5), new tg.nn.Linear(8, 2));
  const { x, y } = toyProblem();
  const spec: tg.train.TrainingSpec = {
    model,
    optimizer: new tg.optim.Adam(model.parameters(), { lr: 0.05 }),
    loss: (out, t) => tg.F.crossEntropy(out, t),
    metrics: [tg.train.metrics.getMetric("accuracy")],
  };
  const h = await tg.train.fit(spec, x, y, { epochs: 20, batchSize: 20, verbose: 0, seed: 1 });
  assert.ok(h.history.accuracy!.at(-1)! > 0.8);
  const logs = await tg.train.evaluate(spec, x, y);
  assert.ok(logs.accuracy! > 0.85);
  assert.equal(model.training, true, "evaluate restores training mode");
  const a = tg.train.predict(model, x, { batchSize: 7 });
  const b = tg.train.predict(model, x);
  assert.equal(a.sub(b).abs().amax().item(), 0, "dropout is off and batching does not matter");
});

test("checkpoints restore model, optimizer and random state exactly: resumed training equals uninterrupted training", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-resume-"));
  const build = () => {
    tg.manualSeed(11);
    const m = tg.keras.sequential([tg.keras.input([4]), tg.keras.dense(6, { activation: "relu" }), tg.keras.dropout(0.3), tg.keras.dense(2, { activation: "softmax" })]);
    m.compile({ optimizer: "adam", loss: "sparseCategoricalCrossentropy" });
    return m;
  };
  const { x, y } = toyProblem(3);
  const a = build();
  const ga = new tg.Generator(5);
  await a.fit(x, y, { epochs: 4, batchSize: 16, verbose: 0, generator: ga });

  const b = build();
  const gb = new tg.Generator(5);
  await b.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, generator: gb });
  await tg.train.saveCheckpoint(join(dir, "ckpt"), { model: b, optimizer: b.optimizer!, generators: { shuffle: gb } }, { epoch: 2 });
  tg.randn([100]); // disturb the global generator

  const c = build();
  const gc = new tg.Generator(99);
  const extra = await tg.train.loadCheckpoint(join(dir, "ckpt"), { model: c, optimizer: c.optimizer!, generators: { shuffle: gc } });
  assert.deepEqual(extra, { epoch: 2 });
  await c.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 16, verbose: 0, generator: gc });
  assert.equal(maxStateDiff(a.stateDict(), c.stateDict()), 0);
  // the directory is replaced whole: saving again leaves one checkpoint and no temporaries
  await tg.train.saveCheckpoint(join(dir, "ckpt"), { model: c, optimizer: c.optimizer! });
  assert.deepEqual(readdirSync(dir), ["ckpt"]);
  await assert.rejects(tg.train.loadCheckpoint(join(dir, "nope"), { model: c }), /not a checkpoint directory/);
});

test("Generator state: getState/setState continue the stream exactly (spare normals included)", () => {
  const g = new tg.Generator(3);
  g.normal();
  const s = JSON.parse(JSON.stringify(g.getState()));
  const next = [g.normal(), g.uniform(), g.nextUint32()];
  const h = new tg.Generator(0).setState(s);
  assert.deepEqual([h.normal(), h.uniform(), h.nextUint32()], next);
  assert.throws(() => h.setState([1, 2]), /5-number array/);
});

test("learning curves: the SVG (Vega-Lite) is well-formed and carries the curves' data; the PNG renders; the report is self-contained", async () => {
  const history = {
    loss: [0.9, 0.5, 0.3, 0.25],
    val_loss: [0.8, 0.55, 0.4, 0.38],
    accuracy: [0.7, 0.85, 0.9, 0.93],
    val_accuracy: [0.72, 0.83, 0.88, 0.9],
  };
  const svg = await tg.viz.learningCurveSvg(history, { title: "Learning curves (test)" });
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assertWellFormedXml(svg);
  const meta = /<metadata id="tensorgrad-history">([^<]*)<\/metadata>/.exec(svg);
  assert.ok(meta);
  const rows = JSON.parse(meta[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")) as { epoch: number; quantity: string; split: string; value: number }[];
  for (const [key, values] of Object.entries(history)) {
    const split = key.startsWith("val_") ? "validation" : "training";
    const q = key.replace(/^val_/, "");
    assert.deepEqual(
      rows.filter((r) => r.quantity === q && r.split === split).map((r) => r.value),
      values,
    );
  }
  // Vega labels every point with its values (accessibility), so the data is in the picture itself too
  assert.ok(/aria-label="epoch: 3; accuracy: [^;"]*; split: validation; value: 0\.8800"/.test(svg));
  assert.ok(/aria-label="epoch: 4; loss: [^;"]*; split: training; value: 0\.2500"/.test(svg));
  assert.ok(svg.includes(">loss</text>") && svg.includes(">accuracy</text>"));

  const png = await tg.viz.svgToPng(svg);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset);
  const [w, h] = [view.getUint32(16), view.getUint32(20)];
  assert.ok(w > 600 && h > 200, `${w}×${h}`);
  const out = process.env.TG_TEST_ARTIFACTS;
  if (out) writeFileSync(join(out, "learning-curve-test.png"), png);

  const html = tg.viz.trainingReportHtml({
    config: { model: "mlp", epochs: 4 },
    results: { "test accuracy": "93.00%" },
    curvesSvg: svg,
    history,
    confusionMatrix: [
      [5, 1],
      [0, 4],
    ],
    samples: [{ pixels: new Float32Array(784).fill(0.5), width: 28, height: 28, label: 1, predicted: 0, confidence: 0.6 }],
    modelText: "Model: <mlp>",
  });
  assertWellFormedXml(html.replace(/<!DOCTYPE html>/, ""), { html: true });
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), "no external resources");
  const data = JSON.parse(/<script type="application\/json" id="tensorgrad-report">([^<]*)<\/script>/.exec(html)![1]!);
  assert.deepEqual(data.history, history);
  assert.deepEqual(data.confusionMatrix, [
    [5, 1],
    [0, 4],
  ]);
  assert.match(html, /Model: &lt;mlp&gt;/);
  assert.match(html, /recall/);
  assert.ok(existsSync(join(tmpdir())));
});
