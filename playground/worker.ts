/**
 * @file The playground's Worker: loads the embedded digits (digits.bin.gz, beside this file), trains
 * with keras `fit` on wasm (threads where the page is cross-origin isolated), and answers the page's
 * messages between batches: pause / resume / stop, predictions for the drawn digit, save and load.
 * The splits are the CLI's: 8 000 train (7 200 + 800 validation, seeded as `tensorgrad train`
 * does) and 2 000 test.
 */
import * as tg from "../src/index.ts";
import { derivatives } from "./expr.ts";
import { buildModel, describe, metadataFor, modelFromFile } from "./model.ts";
import { optimizerPaths } from "./paths.ts";
import type { FromWorker, TestResult, ToWorker, TrainConfig } from "./protocol.ts";

const scope = globalThis as unknown as {
  postMessage(m: FromWorker, transfer?: ArrayBuffer[]): void;
  onmessage: ((e: { data: ToWorker }) => void) | null;
  crossOriginIsolated?: boolean;
};
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => scope.postMessage(m, transfer);

interface Split {
  x: tg.Tensor;
  y: tg.Tensor;
}

/** The digits as float32 [N, 784] by class (the pixel values of `tg.datasets.mnist`), split like the CLI. */
async function loadDigits(): Promise<{ all: Split; test: Split }> {
  const res = await fetch(new URL("./digits.bin.gz", import.meta.url));
  if (!res.ok) throw new Error(`digits.bin.gz: HTTP ${res.status}`);
  let bytes = new Uint8Array(await res.arrayBuffer());
  // a server may have sent it with Content-Encoding: gzip, in which case it is already inflated
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const counts = Array.from({ length: 10 }, (_, d) => view.getUint32(4 * d, true));
  const lut = new Float32Array(256).map((_, k) => Math.round((1000 * k) / 255) / 1000);
  const parts = { train: [] as [number, number, number][], test: [] as [number, number, number][] };
  let at = 0;
  counts.forEach((n, d) => {
    const nTrain = Math.min(800, n);
    parts.train.push([at, nTrain, d]);
    parts.test.push([at + nTrain, n - nTrain, d]);
    at += n;
  });
  const make = (ranges: [number, number, number][]): Split => {
    const total = ranges.reduce((s, r) => s + r[1], 0);
    const x = new Float32Array(total * 784);
    const y = new Int32Array(total);
    let k = 0;
    for (const [start, n, d] of ranges) {
      const src = bytes.subarray(40 + start * 784, 40 + (start + n) * 784);
      for (let i = 0; i < src.length; i++) x[k * 784 + i] = lut[src[i]!]!;
      y.fill(d, k, k + n);
      k += n;
    }
    return { x: tg.tensor(x).reshape([total, 784]), y: tg.tensor(y, { dtype: "int32" }) };
  };
  return { all: make(parts.train), test: make(parts.test) };
}

/** `tensorgrad train`'s validation split: the last 10 % of a permutation seeded with seed + 0x5eed. */
function splitValidation(d: Split, seed: number): { train: Split; val: Split } {
  const n = d.x.shape[0]!;
  const nVal = Math.floor(n * 0.1);
  const perm = new tg.Generator(seed + 0x5eed).permutation(n);
  const idx = (a: number, b: number) => tg.tensor(perm.slice(a, b), { dtype: "int32" });
  const tr = idx(0, n - nVal);
  const va = idx(n - nVal, n);
  return { train: { x: d.x.index(tr), y: d.y.index(tr) }, val: { x: d.x.index(va), y: d.y.index(va) } };
}

function optimizerFor(c: TrainConfig, params: tg.nn.Parameter[]): tg.optim.Optimizer {
  switch (c.optimizer) {
    case "sgd":
      return new tg.optim.SGD(params, { lr: c.lr });
    case "momentum":
      return new tg.optim.SGD(params, { lr: c.lr, momentum: 0.9 });
    case "adagrad":
      return new tg.optim.Adagrad(params, { lr: c.lr });
    case "rmsprop":
      return new tg.optim.RMSprop(params, { lr: c.lr });
    default:
      return new tg.optim.Adam(params, { lr: c.lr });
  }
}

/** Test loss and accuracy, the confusion matrix, and the first misclassified digits. */
function testResult(model: tg.keras.KerasSequential, test: Split): TestResult {
  const probs = model.predict(test.x, { batchSize: 500 });
  const p = probs.dataSync();
  const labels = test.y.dataSync();
  const pixels = test.x.dataSync();
  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  const wrong: TestResult["wrong"] = [];
  const perClass = new Array<number>(10).fill(0); // up to 4 misclassified digits of each class
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + best]!) best = c;
    const label = labels[i]!;
    confusion[label]![best]!++;
    loss -= Math.log(Math.max(p[i * 10 + label]!, 1e-12));
    if (best === label) correct++;
    else if (perClass[label]!++ < 4)
      wrong.push({ pixels: Uint8Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)), label, predicted: best, confidence: p[i * 10 + best]! });
  }
  return { accuracy: correct / labels.length, loss: loss / labels.length, confusion, wrong };
}

/** The weight matrices / conv kernels (what the gradient chart follows), in layer order. */
const weightsOf = (m: tg.nn.Module) => m.namedParameters().filter(([name, p]) => name.endsWith("weight") && p.ndim >= 2);

/** Root mean square of each weight's gradient. */
function gradNorms(m: tg.nn.Module): number[] {
  return weightsOf(m).map(([, p]) => {
    const g = p.grad?.dataSync();
    if (!g) return Number.NaN;
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
    return Math.sqrt(s / g.length);
  });
}

/** The first layer's weights and the autograd graph of the loss on two test digits (in eval mode: batch norm's statistics stay as they are). */
function postInside(m: tg.keras.KerasSequential, test: Split): void {
  const first = weightsOf(m)[0]?.[1];
  if (!first) return;
  const wasTraining = m.training;
  m.eval();
  let graph = "";
  try {
    const loss = tg.F.crossEntropy(m.forwardLogits(test.x.narrow(0, 0, 2)), test.y.narrow(0, 0, 2));
    graph = tg.viz.graphToSvg(loss);
  } finally {
    if (wasTraining) m.train();
  }
  const data = first.dataSync() as Float32Array;
  post({ type: "inside", weights: { shape: [...first.shape], data }, graph }, [data.buffer as ArrayBuffer]);
}

/** The output of the first hidden layer's activation for one digit: [units] for an MLP, [channels, h, w] for a CNN. */
function firstActivations(m: tg.keras.KerasSequential, x: tg.Tensor): { shape: number[]; data: number[] } | null {
  const children = m.children();
  const wasTraining = m.training;
  m.eval();
  try {
    return tg.noGrad(() => {
      let t = children[0] instanceof tg.nn.Conv2d ? x.reshape([1, 1, 28, 28]) : x;
      for (const child of children) {
        t = child.call(t) as tg.Tensor;
        if (child instanceof tg.nn.ReLU || child instanceof tg.nn.Sigmoid || child instanceof tg.nn.Tanh) return { shape: t.shape.slice(1), data: Array.from(t.dataSync()) };
      }
      return null;
    });
  } finally {
    if (wasTraining) m.train();
  }
}

let data: Promise<{ all: Split; test: Split }> | null = null;
let model: tg.keras.KerasSequential | null = null;
/** The metadata a download of the current model carries (its configuration, or the loaded file's). */
let metadata: Record<string, string> | null = null;
let training = false;
let paused = false;
let stopRequested = false;
let resume: (() => void) | null = null;

async function train(c: TrainConfig): Promise<void> {
  const { all, test } = await data!;
  training = true;
  paused = false;
  stopRequested = false;
  tg.manualSeed(c.seed);
  const m = buildModel(c);
  m.compile({ optimizer: optimizerFor(c, m.parameters()), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  model = m;
  metadata = metadataFor(c);
  const { train: tr, val } = splitValidation(all, c.seed);
  const n = tr.x.shape[0]!;
  const steps = Math.ceil(n / c.batchSize);
  const every = Math.max(1, Math.floor(steps / 25));
  const valEvery = Math.max(1, Math.floor(steps / 4));
  let seen = 0; // samples and summed loss / correct over the epoch so far, at the last point sent
  let sums = { loss: 0, acc: 0 };
  let activeMs = 0;
  let last = performance.now();
  let samplesDone = 0;
  const started = performance.now();
  post({ type: "layers", names: weightsOf(m).map(([, p], k) => `W${k + 1} ${p.shape.join("×")}`) });
  post({ type: "status", text: `training ${describe(c)} on ${n} digits (${tg.backend.current()}, ${tg.backend.threads()} thread${tg.backend.threads() === 1 ? "" : "s"})` });
  await m.fit(tr.x, tr.y, {
    batchSize: c.batchSize,
    epochs: c.epochs,
    validationData: [val.x, val.y],
    shuffle: true,
    generator: new tg.Generator(c.seed),
    verbose: 0,
    callbacks: [
      {
        onEpochBegin() {
          seen = 0;
          sums = { loss: 0, acc: 0 };
        },
        async onBatchEnd(batch, logs, ctx) {
          const now = performance.now();
          activeMs += now - last;
          samplesDone += logs.size!;
          const count = Math.min(n, (batch + 1) * c.batchSize);
          const epoch = ctx.history.epoch.length;
          const x = epoch + count / n;
          if ((batch + 1) % every === 0 || batch + 1 === steps) {
            const total = { loss: logs.loss! * count, acc: logs.accuracy! * count };
            const k = count - seen;
            if (k > 0) post({ type: "point", series: "train", x, loss: (total.loss - sums.loss) / k, accuracy: (total.acc - sums.acc) / k });
            seen = count;
            sums = total;
            post({ type: "progress", epoch, epochs: c.epochs, batch: batch + 1, steps, samplesPerSec: (1000 * samplesDone) / Math.max(activeMs, 1), paused: false });
            post({ type: "grads", x, norms: gradNorms(m) });
          }
          if ((batch + 1) % valEvery === 0 && batch + 1 < steps - valEvery / 2) {
            const [loss, accuracy] = await m.evaluate(val.x, val.y, { batchSize: 400 });
            post({ type: "point", series: "val", x, loss: loss!, accuracy: accuracy! });
          }
          if (paused) {
            post({ type: "progress", epoch, epochs: c.epochs, batch: batch + 1, steps, samplesPerSec: (1000 * samplesDone) / Math.max(activeMs, 1), paused: true });
            await new Promise<void>((r) => {
              resume = r;
            });
          }
          if (stopRequested) ctx.stopTraining = true;
          last = performance.now();
        },
        onEpochEnd(epoch, logs) {
          post({ type: "point", series: "val", x: epoch + 1, loss: logs.val_loss!, accuracy: logs.val_accuracy! });
        },
      },
    ],
  });
  training = false;
  post({ type: "status", text: "evaluating on the 2 000 test digits…" });
  post({ type: "done", stopped: stopRequested, seconds: (performance.now() - started) / 1000, description: describe(c), test: testResult(m, test) });
  postInside(m, test);
}

scope.onmessage = (e) => {
  const msg = e.data;
  const fail = (where: "train" | "load" | "save") => (err: unknown) => {
    training = false;
    post({ type: "error", where, message: err instanceof Error ? err.message : String(err) });
  };
  switch (msg.type) {
    case "train":
      if (!training) train(msg.config).catch(fail("train"));
      break;
    case "pause":
      paused = true;
      break;
    case "resume":
    case "stop":
      paused = false;
      if (msg.type === "stop") stopRequested = true;
      resume?.();
      resume = null;
      break;
    case "predict": {
      if (model === null) {
        post({ type: "probs", id: msg.id, probs: null, activations: null });
        break;
      }
      const x = tg.tensor(msg.pixels).reshape([1, 784]);
      const p = model.predict(x);
      post({ type: "probs", id: msg.id, probs: Array.from(p.dataSync()), activations: firstActivations(model, x) });
      break;
    }
    case "paths":
      post({ type: "paths", paths: optimizerPaths() });
      break;
    case "derive":
      try {
        post({ type: "derivative", id: msg.id, ...derivatives(msg.expr, msg.x) });
      } catch (err) {
        post({ type: "deriveError", id: msg.id, message: err instanceof Error ? err.message : String(err) });
      }
      break;
    case "save":
      try {
        if (model === null || metadata === null) throw new Error("train or load a model first");
        const bytes = tg.io.serialize(model.stateDict(), metadata);
        post({ type: "saved", bytes }, [bytes.buffer as ArrayBuffer]);
      } catch (err) {
        fail("save")(err);
      }
      break;
    case "load":
      (async () => {
        if (training) throw new Error("stop the training first");
        const loaded = modelFromFile(msg.bytes, msg.name);
        const { test } = await data!;
        model = loaded.model;
        metadata = loaded.metadata;
        post({ type: "loaded", name: msg.name, description: loaded.description, test: testResult(model, test) });
        postInside(model, test);
      })().catch(fail("load"));
      break;
  }
};

(async () => {
  await tg.backend.ready();
  data = loadDigits();
  const { all, test } = await data;
  const nAll = all.x.shape[0]!;
  post({
    type: "ready",
    backend: tg.backend.current(),
    threads: tg.backend.threads(),
    isolated: scope.crossOriginIsolated === true,
    train: nAll - Math.floor(nAll * 0.1),
    val: Math.floor(nAll * 0.1),
    test: test.x.shape[0]!,
  });
})().catch((err) => post({ type: "error", where: "init", message: err instanceof Error ? err.message : String(err) }));
