/**
 * @file TF.js's side of W2–W4 (called by the tfjs peer, tfjs.ts, once per TF.js backend): the
 * same MLP and CNN as ../workloads/mnist-models.ts with tf.layers, trained by a custom loop
 * (`optimizer.minimize` on `model.apply`, the loss read back each step) through the shared loops of
 * ../lib/mnist-train.ts, so the data, order and counts are the same as tensorgrad's and PyTorch's.
 * Layout: TF.js convolutions are NHWC; with one input channel the [n, 28, 28, 1] input holds the
 * same floats as tensorgrad's [n, 1, 28, 28].
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Figure, RunOptions, WorkloadId } from "../lib/figure.ts";
import { CLASSES, type InferAdapter, PIXELS, reducedNote, runW2, runW3, runW4, type TrainAdapter, w2Plan, w3Plan } from "../lib/mnist-train.ts";

import type { Sequential as LayersModel, Tensor, Variable } from "@tensorflow/tfjs";

type TF = typeof import("@tensorflow/tfjs");

let pathsSet = false;

/**
 * Points @tensorflow/tfjs-backend-wasm at the .wasm files in node_modules (a file path: no
 * network). Must run before the wasm backend first initialises; later calls do nothing.
 */
export async function setTfWasmPaths(): Promise<void> {
  if (pathsSet) return;
  const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  try {
    setWasmPaths(`${dist}/`);
  } catch {
    // already initialised (by the default locateFile, which in Node also reads from dist/)
  }
  pathsSet = true;
}

async function loadTf(backend: string): Promise<TF> {
  const tf = await import("@tensorflow/tfjs");
  await setTfWasmPaths();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialise`);
  await tf.ready();
  return tf;
}

function mlp(tf: TF): LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: 512, activation: "relu" }),
      tf.layers.dense({ units: 256, activation: "relu" }),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

function cnn(tf: TF): LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: "relu" }),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
}

/** Adam lr 1e-3 (β 0.9 / 0.999, ε 1e-8 as PyTorch and tensorgrad), softmax cross-entropy (mean). */
function trainAdapter(tf: TF, model: LayersModel, image: boolean): TrainAdapter & { dispose(): void } {
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const vars = model.trainableWeights.map((w) => w.read() as Variable);
  const input = (x: Float32Array, n: number) => (image ? tf.tensor4d(x, [n, 28, 28, 1]) : tf.tensor2d(x, [n, PIXELS]));
  return {
    step(x, y, n) {
      const loss = tf.tidy(() => {
        const xb = input(x, n);
        const yb = tf.oneHot(tf.tensor1d(y, "int32"), CLASSES);
        return opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as Tensor), true, vars)!;
      });
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    },
    predict(x, n) {
      const pred = tf.tidy(() => (model.apply(input(x, n), { training: false }) as Tensor).argMax(1));
      const out = Int32Array.from(pred.dataSync());
      pred.dispose();
      return out;
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

const note = (backend: string, w: string) => (msg: string) => process.stderr.write(`bench: tfjs/${backend} ${w}: ${msg}\n`);

async function train(workload: "W2" | "W3", backend: string, opts: RunOptions): Promise<Figure[]> {
  const tf = await loadTf(backend);
  const say = note(backend, workload);
  const reduced =
    workload === "W2"
      ? reducedNote("W2", opts.scale, `${w2Plan(opts.scale).nTrain} training samples per epoch`)
      : reducedNote("W3", opts.scale, `${w3Plan(opts.scale).timedBatches} timed batches, a ${w3Plan(opts.scale).nTrain}-sample epoch`);
  if (reduced !== null) say(reduced);
  const before = tf.memory().numTensors;
  const adapter = trainAdapter(tf, workload === "W2" ? mlp(tf) : cnn(tf), workload === "W3");
  let failed = false;
  try {
    const r = workload === "W2" ? await runW2(adapter, opts.scale, say) : await runW3(adapter, opts.scale, say);
    const base = { framework: "tfjs", backend, threads: 1, workload };
    const out: Figure[] = [{ ...base, metric: "train_samples_per_s", value: r.samplesPerS, unit: "samples/s" }];
    if (r.accuracy !== null) out.push({ ...base, metric: "test_accuracy", value: r.accuracy, unit: "fraction" });
    return out;
  } catch (e) {
    // a kernel the backend lacks (TF.js wasm has no Conv2DBackpropFilter: it cannot train the CNN):
    // say so and report nothing; any other failure fails the job
    const msg = e instanceof Error ? e.message : String(e);
    failed = true;
    if (!/not registered for backend/.test(msg)) throw e;
    say(`cannot train: ${msg.split("\n")[0]}; no figures`);
    return [];
  } finally {
    adapter.dispose();
    // (a step that threw midway leaves its tape's tensors behind; only a clean run is checked)
    if (!failed && tf.memory().numTensors > before) say(`${tf.memory().numTensors - before} tensors left allocated`);
  }
}

async function w4(backend: string, opts: RunOptions): Promise<Figure[]> {
  const tf = await loadTf(backend);
  const model = mlp(tf);
  const adapter: InferAdapter = {
    infer(x, n) {
      const y = tf.tidy(() => model.apply(tf.tensor2d(x, [n, PIXELS]), { training: false }) as Tensor);
      const out = y.dataSync();
      y.dispose();
      return out;
    },
  };
  try {
    const r = await runW4(adapter, opts);
    const base = { framework: "tfjs", backend, threads: 1, workload: "W4" as const };
    return [
      { ...base, metric: "latency_ms_batch1", value: r.latencyMs, unit: "ms" },
      { ...base, metric: "samples_per_s_batch256", value: r.samplesPerS, unit: "samples/s" },
    ];
  } finally {
    model.dispose();
  }
}

/** The tfjs peer's W2–W4, by workload: each runs on one TF.js backend ("cpu" or "wasm") at 1 thread. */
export const TFJS_MNIST_WORKLOADS: Partial<Record<WorkloadId, (backend: string, opts: RunOptions) => Promise<Figure[]>>> = {
  W2: (backend, opts) => train("W2", backend, opts),
  W3: (backend, opts) => train("W3", backend, opts),
  W4: w4,
};
